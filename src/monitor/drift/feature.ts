/**
 * Drift of one column: picks the method (Evidently's auto rule or the configured one), computes the
 * statistic, PSI and the reference-vs-current histograms. Multiple-testing correction and the decision
 * for p-value tests happen afterwards, over all columns (detect.ts).
 */
import { ModelautoError } from '../../core/errors.js';
import { binOf, histogramEdges } from '../../data/profile-stats.js';
import type { DriftHistogram, DriftMethod, FeatureDrift } from '../types.js';
import { chi2Contingency, chiSquare } from '../stats/chisquare.js';
import { jensenShannonDistance } from '../stats/jensenshannon.js';
import { ks2SampSorted } from '../stats/ks.js';
import { psiCategorical, psiNumeric } from '../stats/psi.js';
import { populationStd, WASSERSTEIN_STD_FLOOR, wassersteinSorted } from '../stats/wasserstein.js';
import { twoProportionZTest } from '../stats/ztest.js';
import type { DriftOptions } from './options.js';

export interface FeatureContext {
  options: DriftOptions;
  /** The auto rule's branch: statistical tests (small reference) rather than distances. */
  useTests: boolean;
}

/** A column that could not be compared, and why. */
export interface Skipped {
  skipped: string;
}

/**
 * Non-missing (finite) values, sorted ascending. Byte-valued columns (image pixels: integers 0..255) are
 * sorted by counting, several times faster than a comparison sort for the hundreds of pixel columns.
 */
export function presentSorted(values: Float64Array): Float64Array {
  let n = 0;
  let bytes = true;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) continue;
    n++;
    if (bytes && !(v >= 0 && v <= 255 && v === Math.floor(v))) bytes = false;
  }
  const out = new Float64Array(n);
  if (bytes) {
    const freq = new Int32Array(256);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (Number.isFinite(v)) freq[v] = (freq[v] as number) + 1;
    }
    for (let v = 0, k = 0; v < 256; v++) {
      const c = freq[v] as number;
      if (c > 0) out.fill(v, k, k + c);
      k += c;
    }
    return out;
  }
  for (let i = 0, k = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isFinite(v)) out[k++] = v;
  }
  return out.sort();
}

/** Distinct values of two sorted samples pooled, counting stops past `limit`. */
function distinctUpTo(a: Float64Array, b: Float64Array, limit: number): number {
  let i = 0;
  let j = 0;
  let count = 0;
  while ((i < a.length || j < b.length) && count <= limit) {
    const v =
      i < a.length && (j >= b.length || (a[i] as number) <= (b[j] as number))
        ? (a[i] as number)
        : (b[j] as number);
    while (i < a.length && a[i] === v) i++;
    while (j < b.length && b[j] === v) j++;
    count++;
  }
  return count;
}

function countsOf(values: ArrayLike<number>, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const b = binOf(values[i] as number, edges);
    if (b >= 0) counts[b] = (counts[b] as number) + 1;
  }
  return counts;
}

function pooledRange(a: Float64Array, b: Float64Array): [number, number] {
  const lo = Math.min(a[0] as number, b[0] as number);
  const hi = Math.max(a[a.length - 1] as number, b[b.length - 1] as number);
  return [lo, hi];
}

interface Decision {
  method: DriftMethod;
  statistic: number;
  /** Raw p-value for tests, null for distances. */
  pValue: number | null;
  /** Distance score (distances only). */
  distance?: number;
}

function thresholdOf(method: DriftMethod, options: DriftOptions): number {
  const t = options.thresholds;
  if (method === 'wasserstein') return t.wasserstein;
  if (method === 'jensenshannon') return t.jensenshannon;
  if (method === 'psi') return t.psi;
  return t.pValue;
}

function assemble(
  feature: string,
  kind: FeatureDrift['kind'],
  decision: Decision,
  psi: number,
  reference: DriftHistogram,
  current: DriftHistogram,
  counts: { reference: number; current: number },
  options: DriftOptions,
): FeatureDrift {
  const threshold = thresholdOf(decision.method, options);
  const isTest = decision.pValue !== null;
  const score = isTest ? (decision.pValue as number) : (decision.distance as number);
  return {
    feature,
    kind,
    method: decision.method,
    score,
    pValue: decision.pValue,
    statistic: decision.statistic,
    threshold,
    // tests are decided after correction; distances here
    drifted: isTest ? score < threshold : score >= threshold,
    psi,
    reference,
    current,
    pValueRaw: decision.pValue,
    counts,
  };
}

/** Drift of a numeric column (NaN = missing). */
export function numericDrift(
  name: string,
  referenceValues: Float64Array,
  currentValues: Float64Array,
  ctx: FeatureContext,
): FeatureDrift | Skipped {
  const o = ctx.options;
  const r = presentSorted(referenceValues);
  const c = presentSorted(currentValues);
  const short = tooFew(r.length, c.length, o.minRows);
  if (short) return short;
  if (
    o.numericMethod === 'auto' &&
    distinctUpTo(r, c, o.maxUniqueForCategorical) <= o.maxUniqueForCategorical
  ) {
    // few distinct values: a categorical column in disguise (Evidently's rule), compared by value counts
    return categoricalCountsDrift(name, 'numeric', valueCounts(r), valueCounts(c), ctx);
  }
  const psi = psiNumeric(r, c, { bins: o.psiBins, epsilon: o.psiEpsilon }).value;
  const method = o.numericMethod === 'auto' ? (ctx.useTests ? 'ks' : 'wasserstein') : o.numericMethod;
  let decision: Decision;
  if (method === 'ks') {
    const ks = ks2SampSorted(r, c, o.ksMethod);
    decision = { method, statistic: ks.statistic, pValue: ks.pValue };
  } else if (method === 'wasserstein') {
    const w = wassersteinSorted(r, c);
    // statistic: W1 itself; the score compared to the threshold: W1 / max(std_ref, 0.001)
    decision = {
      method,
      statistic: w,
      pValue: null,
      distance: w / Math.max(populationStd(r), WASSERSTEIN_STD_FLOOR),
    };
  } else if (method === 'psi') {
    decision = { method, statistic: psi, pValue: null, distance: psi };
  } else {
    const [lo, hi] = pooledRange(r, c);
    const edges = histogramEdges(lo, hi, o.jsBins);
    const js = jensenShannonDistance(countsOf(r, edges), countsOf(c, edges), o.jsBase);
    decision = { method, statistic: js, pValue: null, distance: js };
  }
  const [lo, hi] = pooledRange(r, c);
  const edges = histogramEdges(lo, hi, o.histogramBins);
  return assemble(
    name,
    'numeric',
    decision,
    psi,
    { edges, counts: countsOf(r, edges) },
    { edges, counts: countsOf(c, edges) },
    { reference: r.length, current: c.length },
    o,
  );
}

function tooFew(nr: number, nc: number, minRows: number): Skipped | undefined {
  if (nr === 0) return { skipped: 'no values in the reference (all missing)' };
  if (nc === 0) return { skipped: 'no values in the current data (all missing)' };
  if (nr < minRows || nc < minRows) {
    return { skipped: `too few values (reference ${nr}, current ${nc}; minRows is ${minRows})` };
  }
  return undefined;
}

/** Counts of the distinct values of a sorted sample, keyed by their text. */
function valueCounts(sorted: Float64Array): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < sorted.length;) {
    const v = sorted[i] as number;
    let j = i;
    while (j < sorted.length && sorted[j] === v) j++;
    out.set(String(v), j - i);
    i = j;
  }
  return out;
}

function categoryCounts(values: readonly (string | null)[]): { counts: Map<string, number>; total: number } {
  const counts = new Map<string, number>();
  let total = 0;
  for (const v of values) {
    if (v === null) continue;
    counts.set(v, (counts.get(v) ?? 0) + 1);
    total++;
  }
  return { counts, total };
}

/** Drift of a categorical column (null = missing). */
export function categoricalDrift(
  name: string,
  referenceValues: readonly (string | null)[],
  currentValues: readonly (string | null)[],
  ctx: FeatureContext,
): FeatureDrift | Skipped {
  const r = categoryCounts(referenceValues);
  const c = categoryCounts(currentValues);
  const short = tooFew(r.total, c.total, ctx.options.minRows);
  if (short) return short;
  return categoricalCountsDrift(name, 'categorical', r.counts, c.counts, ctx);
}

function sum(m: ReadonlyMap<string, number>): number {
  let s = 0;
  for (const v of m.values()) s += v;
  return s;
}

/** Drift of value counts: categorical columns and numeric columns with few distinct values. */
export function categoricalCountsDrift(
  name: string,
  kind: FeatureDrift['kind'],
  ref: ReadonlyMap<string, number>,
  cur: ReadonlyMap<string, number>,
  ctx: FeatureContext,
  forced?: DriftMethod,
): FeatureDrift {
  const o = ctx.options;
  const keys = [...new Set([...ref.keys(), ...cur.keys()])].sort();
  const rc = keys.map((k) => ref.get(k) ?? 0);
  const cc = keys.map((k) => cur.get(k) ?? 0);
  const nr = sum(ref);
  const nc = sum(cur);
  const psi = psiCategorical(ref, cur, o.psiEpsilon).value;
  const configured = forced ?? (kind === 'categorical' ? o.categoricalMethod : 'auto');
  const method: DriftMethod =
    configured === 'auto'
      ? ctx.useTests
        ? keys.length <= 2
          ? 'ztest'
          : 'chisquare'
        : 'jensenshannon'
      : configured;
  let decision: Decision;
  if (method === 'ztest') {
    if (keys.length > 2) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `the z-test compares two proportions: column ${JSON.stringify(name)} has ${keys.length} distinct values; use chisquare, jensenshannon or psi`,
      );
    }
    // the share of the first value (in sorted order) in the reference against the current data
    const z = twoProportionZTest(rc[0] as number, nr, cc[0] as number, nc);
    decision = { method, statistic: z.statistic, pValue: z.pValue };
  } else if (method === 'chisquare') {
    decision = { method, ...chiSquareDecision(rc, cc, nr, nc, o.chiSquareMode) };
  } else if (method === 'jensenshannon') {
    const js = jensenShannonDistance(rc, cc, o.jsBase);
    decision = { method, statistic: js, pValue: null, distance: js };
  } else {
    decision = { method: 'psi', statistic: psi, pValue: null, distance: psi };
  }
  const shown = displayCategories(keys, ref, cur, o.maxCategories);
  return assemble(
    name,
    kind,
    decision,
    psi,
    { labels: shown.labels, counts: shown.reference },
    { labels: shown.labels, counts: shown.current },
    { reference: nr, current: nc },
    o,
  );
}

function chiSquareDecision(
  rc: number[],
  cc: number[],
  nr: number,
  nc: number,
  mode: DriftOptions['chiSquareMode'],
): { statistic: number; pValue: number } {
  // a single value on both sides: the distributions are identical, nothing to test
  if (rc.length < 2) return { statistic: 0, pValue: 1 };
  if (mode === 'contingency') {
    const t = chi2Contingency([rc, cc]);
    return { statistic: t.statistic, pValue: t.pValue };
  }
  // Evidently: current counts against the reference counts scaled to the current total; a value the
  // reference never had makes the statistic infinite (p = 0), as in scipy.
  const expected = rc.map((v) => (v * nc) / nr);
  const t = chiSquare(cc, expected);
  return { statistic: t.statistic, pValue: t.pValue };
}

/** Labels by reference count, then current count, then name; beyond `max`, one "(other)" bar. */
function displayCategories(
  keys: string[],
  ref: ReadonlyMap<string, number>,
  cur: ReadonlyMap<string, number>,
  max: number,
): { labels: string[]; reference: number[]; current: number[] } {
  const ordered = [...keys].sort(
    (a, b) =>
      (ref.get(b) ?? 0) - (ref.get(a) ?? 0) || (cur.get(b) ?? 0) - (cur.get(a) ?? 0) || (a < b ? -1 : 1),
  );
  const shown = ordered.length > max ? ordered.slice(0, max - 1) : ordered;
  const labels = [...shown];
  const reference = shown.map((k) => ref.get(k) ?? 0);
  const current = shown.map((k) => cur.get(k) ?? 0);
  if (shown.length < ordered.length) {
    const rest = ordered.slice(shown.length);
    labels.push(`(other: ${rest.length})`);
    reference.push(rest.reduce((s, k) => s + (ref.get(k) ?? 0), 0));
    current.push(rest.reduce((s, k) => s + (cur.get(k) ?? 0), 0));
  }
  return { labels, reference, current };
}
