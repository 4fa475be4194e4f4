/**
 * Population stability index: Σ (p_cur - p_ref) · ln(p_cur / p_ref) over bins (rule of thumb: < 0.1 no
 * shift, 0.1-0.25 moderate, > 0.25 major).
 *
 * Binning, fixed here so every report means the same thing:
 * - numeric features: the reference's deciles (numpy's linear quantiles at 0.1 ... 0.9, duplicates
 *   removed, so ties such as a mostly-zero pixel give fewer bins) cut the line into half-open bins
 *   (-inf, e1), [e1, e2), ..., [ek, +inf); current values outside the reference range land in the end
 *   bins, so the bins always cover both samples;
 * - categorical features: one bin per value seen in either sample (missing values left out).
 * A bin empty on one side has proportion 0, replaced by epsilon (default 1e-4, Evidently's floor) so the
 * logarithm stays finite; the other proportions are not renormalized.
 */
import { quantile } from '../../data/profile-stats.js';

export const PSI_DEFAULT_BINS = 10;
export const PSI_DEFAULT_EPSILON = 1e-4;

export interface PsiResult {
  value: number;
  referenceCounts: number[];
  currentCounts: number[];
}

export interface NumericPsiResult extends PsiResult {
  /** Interior cut points: bin i holds values in [edges[i-1], edges[i]) with -inf/+inf at the ends. */
  edges: number[];
}

/** PSI of two count vectors over the same bins. */
export function psiFromCounts(
  referenceCounts: readonly number[],
  currentCounts: readonly number[],
  epsilon = PSI_DEFAULT_EPSILON,
): number {
  const rn = referenceCounts.reduce((s, v) => s + v, 0);
  const cn = currentCounts.reduce((s, v) => s + v, 0);
  let value = 0;
  for (let i = 0; i < referenceCounts.length; i++) {
    const r = rn > 0 ? (referenceCounts[i] as number) / rn : 0;
    const c = cn > 0 ? ((currentCounts[i] ?? 0) as number) / cn : 0;
    const pr = r === 0 ? epsilon : r;
    const pc = c === 0 ? epsilon : c;
    value += (pc - pr) * Math.log(pc / pr);
  }
  return value;
}

/** Reference quantile cut points (deciles by default), duplicates removed; `sorted` ascending, non-empty. */
export function quantileEdges(sorted: Float64Array, bins = PSI_DEFAULT_BINS): number[] {
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const e = quantile((i) => sorted[i] as number, sorted.length, k / bins);
    if (edges.length === 0 || e !== edges[edges.length - 1]) edges.push(e);
  }
  return edges;
}

/** Counts per bin for cut points `edges`: the bin of x is the number of edges <= x. */
export function countByEdges(values: ArrayLike<number>, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((edges[mid] as number) <= v) lo = mid + 1;
      else hi = mid;
    }
    counts[lo] = (counts[lo] as number) + 1;
  }
  return counts;
}

/** PSI of a numeric feature on the reference's quantile bins (`referenceSorted` ascending, non-empty). */
export function psiNumeric(
  referenceSorted: Float64Array,
  current: ArrayLike<number>,
  options: { bins?: number; epsilon?: number } = {},
): NumericPsiResult {
  const edges = quantileEdges(referenceSorted, options.bins ?? PSI_DEFAULT_BINS);
  const referenceCounts = countByEdges(referenceSorted, edges);
  const currentCounts = countByEdges(current, edges);
  return {
    value: psiFromCounts(referenceCounts, currentCounts, options.epsilon ?? PSI_DEFAULT_EPSILON),
    edges,
    referenceCounts,
    currentCounts,
  };
}

/** PSI of a categorical feature from value counts, one bin per value of either side (sorted by value). */
export function psiCategorical(
  reference: ReadonlyMap<string, number>,
  current: ReadonlyMap<string, number>,
  epsilon = PSI_DEFAULT_EPSILON,
): PsiResult & { labels: string[] } {
  const labels = [...new Set([...reference.keys(), ...current.keys()])].sort();
  const referenceCounts = labels.map((l) => reference.get(l) ?? 0);
  const currentCounts = labels.map((l) => current.get(l) ?? 0);
  return {
    value: psiFromCounts(referenceCounts, currentCounts, epsilon),
    labels,
    referenceCounts,
    currentCounts,
  };
}
