/**
 * Population stability index: Σ (p_cur - p_ref) · ln(p_cur / p_ref) over bins (rule of thumb: < 0.1 no
 * shift, 0.1-0.25 moderate, > 0.25 major).
 *
 * Binning, fixed here so every report means the same thing:
 * - numeric features: the reference's minimum, its deciles (numpy's linear quantiles at 0.1 ... 0.9)
 *   and the next double above its maximum, duplicates removed, cut the line into half-open bins
 *   (-inf, min), [min, e1), ..., [ek, max], (max, +inf). The two outer bins hold only current values
 *   outside the reference range: without them a constant or mostly-zero reference column (MNIST's
 *   border pixels) has all its deciles equal, one bin takes every value, and a pixel moving from 0 to
 *   255 would score 0;
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

/** The smallest double above x (Math.nextUp). */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  const f = new Float64Array([x]);
  const bits = new BigInt64Array(f.buffer);
  bits[0] = (bits[0] as bigint) + (x > 0 ? 1n : -1n);
  return f[0] as number;
}

/** Cut points of psiNumeric: reference minimum, deciles, next double above the maximum (no duplicates). */
export function psiEdges(referenceSorted: Float64Array, bins = PSI_DEFAULT_BINS): number[] {
  const min = referenceSorted[0] as number;
  const above = nextUp(referenceSorted[referenceSorted.length - 1] as number);
  const edges = [min];
  for (const e of quantileEdges(referenceSorted, bins)) if (e !== edges[edges.length - 1]) edges.push(e);
  if (above !== edges[edges.length - 1]) edges.push(above);
  return edges;
}

/** PSI of a numeric feature on the reference's quantile bins (`referenceSorted` ascending, non-empty). */
export function psiNumeric(
  referenceSorted: Float64Array,
  current: ArrayLike<number>,
  options: { bins?: number; epsilon?: number } = {},
): NumericPsiResult {
  const edges = psiEdges(referenceSorted, options.bins ?? PSI_DEFAULT_BINS);
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
