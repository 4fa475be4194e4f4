/**
 * Summary statistics with numpy's semantics: population std (ddof 0), `np.quantile(method='linear')`,
 * `np.histogram(bins=k)` edges and bin assignment.
 */

export const QUANTILES = {
  p01: 0.01,
  p05: 0.05,
  p25: 0.25,
  p50: 0.5,
  p75: 0.75,
  p95: 0.95,
  p99: 0.99,
} as const;
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
  for (const [name, q] of Object.entries(QUANTILES) as [QuantileName, number][])
    out[name] = quantile(at, count, q);
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

/**
 * Statistics of values (missing ones already removed). Reorders `values` in place: the quantiles come
 * from a multi-target quickselect, exact like sorting but several times cheaper for wide tensor data.
 */
export function statsFromValues(values: Float64Array, missing: number, bins: number): NumericStats {
  const count = values.length;
  if (count === 0) return emptyStats(missing);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < count; i++) {
    const v = values[i] as number;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / count;
  let ss = 0;
  const edges = histogramEdges(min, max, bins);
  const e = Float64Array.from(edges);
  const first = e[0] as number;
  const norm = bins / ((e[bins] as number) - first);
  const counts = new Float64Array(bins);
  for (let i = 0; i < count; i++) {
    const v = values[i] as number;
    const d = v - mean;
    ss += d * d;
    // binOf inlined (this loop runs over every value of every feature)
    let b = Math.floor((v - first) * norm);
    if (b >= bins) b = bins - 1;
    if (v < (e[b] as number)) b--;
    else if (b < bins - 1 && v >= (e[b + 1] as number)) b++;
    counts[b] = (counts[b] as number) + 1;
  }
  const ranks = new Set<number>();
  for (const q of Object.values(QUANTILES)) {
    const h = (count - 1) * q;
    const lo = Math.floor(h);
    ranks.add(lo);
    if (lo + 1 < count) ranks.add(lo + 1);
  }
  const picked = selectRanks(
    values,
    [...ranks].sort((a, b) => a - b),
  );
  return {
    count,
    missing,
    mean,
    std: Math.sqrt(ss / count),
    min,
    max,
    quantiles: quantiles((k) => picked.get(k) as number, count),
    histogram: { edges, counts: Array.from(counts) },
  };
}

/** The k-th smallest values for every k in `ranks` (ascending), by quickselect with three-way partitions. */
export function selectRanks(a: Float64Array, ranks: number[]): Map<number, number> {
  const out = new Map<number, number>();
  const stack: [number, number, number, number][] = [[0, a.length - 1, 0, ranks.length]];
  while (stack.length > 0) {
    const [lo, hi, r0, r1] = stack.pop() as [number, number, number, number];
    if (r0 >= r1) continue;
    if (hi - lo < 16) {
      a.subarray(lo, hi + 1).sort();
      for (let r = r0; r < r1; r++) out.set(ranks[r] as number, a[ranks[r] as number] as number);
      continue;
    }
    const pivot = medianOf3(a[lo] as number, a[(lo + hi) >> 1] as number, a[hi] as number);
    // Dutch national flag: [lo, lt) < pivot, [lt, i) == pivot, (gt, hi] > pivot
    let lt = lo;
    let gt = hi;
    let i = lo;
    while (i <= gt) {
      const v = a[i] as number;
      if (v < pivot) {
        a[i++] = a[lt] as number;
        a[lt++] = v;
      } else if (v > pivot) {
        a[i] = a[gt] as number;
        a[gt--] = v;
      } else i++;
    }
    let m0 = r0;
    while (m0 < r1 && (ranks[m0] as number) < lt) m0++;
    let m1 = m0;
    while (m1 < r1 && (ranks[m1] as number) <= gt) out.set(ranks[m1++] as number, pivot);
    stack.push([lo, lt - 1, r0, m0], [gt + 1, hi, m1, r1]);
  }
  return out;
}

function medianOf3(x: number, y: number, z: number): number {
  return x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
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
  return {
    count,
    missing,
    mean,
    std: Math.sqrt(ss / count),
    min,
    max,
    quantiles: quantiles(at, count),
    histogram: { edges, counts },
  };
}

function emptyStats(missing: number): NumericStats {
  return { count: 0, missing, mean: null, std: null, min: null, max: null, quantiles: null, histogram: null };
}
