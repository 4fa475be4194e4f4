/**
 * Summary statistics with numpy's semantics: population std (ddof 0), `np.quantile(method='linear')`,
 * `np.histogram(bins=k)` edges and bin assignment.
 */

export const QUANTILES = { p01: 0.01, p05: 0.05, p25: 0.25, p50: 0.5, p75: 0.75, p95: 0.95, p99: 0.99 } as const;
export type QuantileName = keyof typeof QUANTILES;

export interface NumericStats {
  /** Non-missing values. */
  count: number;
  missing: number;
  /** null when there are no values. */
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  quantiles: Record<QuantileName, number> | null;
  histogram: { edges: number[]; counts: number[] } | null;
}

/** numpy's _lerp: switches formula at t = 0.5 so that the result is exact at both ends. */
function lerp(a: number, b: number, t: number): number {
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** Quantile of `count` sorted values read through `at(k)` (the k-th smallest), numpy's linear method. */
export function quantile(at: (k: number) => number, count: number, q: number): number {
  const h = (count - 1) * q;
  if (h >= count - 1) return at(count - 1);
  const lo = Math.floor(h);
  return lerp(at(lo), at(lo + 1), h - lo);
}

export function quantiles(at: (k: number) => number, count: number): Record<QuantileName, number> {
  const out = {} as Record<QuantileName, number>;
  for (const [name, q] of Object.entries(QUANTILES) as [QuantileName, number][]) out[name] = quantile(at, count, q);
  return out;
}

/** np.histogram's equal-width edges over [min, max] (widened by 0.5 each way when min == max). */
export function histogramEdges(min: number, max: number, bins: number): number[] {
  let first = min;
  let last = max;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const step = (last - first) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => i * step + first);
  edges[bins] = last;
  return edges;
}

/** Bin of `v` for the given edges: [e_i, e_i+1), the last bin closed; -1 outside [e_0, e_k]. */
export function binOf(v: number, edges: readonly number[]): number {
  const bins = edges.length - 1;
  const first = edges[0] as number;
  const last = edges[bins] as number;
  if (!(v >= first && v <= last)) return -1;
  let i = Math.min(Math.floor(((v - first) / (last - first)) * bins), bins - 1);
  // the estimate can be off by one ulp-wide step near an edge: settle it against the edges themselves
  while (i > 0 && v < (edges[i] as number)) i--;
  while (i < bins - 1 && v >= (edges[i + 1] as number)) i++;
  return i;
}

/** Statistics of ascending-sorted values (missing values already removed). */
export function statsFromSorted(sorted: ArrayLike<number>, missing: number, bins: number): NumericStats {
  const count = sorted.length;
  if (count === 0) return emptyStats(missing);
  let sum = 0;
  for (let i = 0; i < count; i++) sum += sorted[i] as number;
  const mean = sum / count;
  let ss = 0;
  for (let i = 0; i < count; i++) {
    const d = (sorted[i] as number) - mean;
    ss += d * d;
  }
  const min = sorted[0] as number;
  const max = sorted[count - 1] as number;
  const edges = histogramEdges(min, max, bins);
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < count; i++) {
    const b = binOf(sorted[i] as number, edges);
    counts[b] = (counts[b] as number) + 1;
  }
  return {
    count,
    missing,
    mean,
    std: Math.sqrt(ss / count),
    min,
    max,
    quantiles: quantiles((k) => sorted[k] as number, count),
    histogram: { edges, counts },
  };
}

/**
 * Statistics of integer values 0..255 given as a frequency table (`freq[v]` = occurrences of v):
 * exact, and far cheaper than sorting for byte images.
 */
export function statsFromByteCounts(freq: ArrayLike<number>, missing: number, bins: number): NumericStats {
  let count = 0;
  let sum = 0;
  let min = -1;
  let max = -1;
  for (let v = 0; v < 256; v++) {
    const c = freq[v] as number;
    if (c === 0) continue;
    if (min < 0) min = v;
    max = v;
    count += c;
    sum += c * v;
  }
  if (count === 0) return emptyStats(missing);
  const mean = sum / count;
  let ss = 0;
  for (let v = min; v <= max; v++) {
    const d = v - mean;
    ss += (freq[v] as number) * d * d;
  }
  const cumulative = new Float64Array(257);
  for (let v = 0; v < 256; v++) cumulative[v + 1] = (cumulative[v] as number) + (freq[v] as number);
  // k-th smallest value: the v whose cumulative range holds k
  const at = (k: number): number => {
    let lo = 0;
    let hi = 255;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid + 1] as number) > k) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const edges = histogramEdges(min, max, bins);
  const counts = new Array<number>(bins).fill(0);
  for (let v = min; v <= max; v++) {
    const c = freq[v] as number;
    if (c > 0) {
      const b = binOf(v, edges);
      counts[b] = (counts[b] as number) + c;
    }
  }
  return { count, missing, mean, std: Math.sqrt(ss / count), min, max, quantiles: quantiles(at, count), histogram: { edges, counts } };
}

function emptyStats(missing: number): NumericStats {
  return { count: 0, missing, mean: null, std: null, min: null, max: null, quantiles: null, histogram: null };
}
