/**
 * Two-sample Kolmogorov-Smirnov test with the semantics of scipy.stats.ks_2samp (two-sided, method 'auto'):
 * D = max |F1(x) - F2(x)| over the pooled values (ties handled by evaluating each ECDF after all equal
 * values); the p-value is exact when both samples have at most 10,000 values and asymptotic otherwise
 * (the one-sample distribution at n = round(n1 n2 / (n1 + n2)), see kstwo.ts).
 *
 * The exact p-value is P(D >= d) under the null that every interleaving of the two samples is equally
 * likely, d rounded to the lattice of attainable values h / lcm(n1, n2). Equal sizes use the reflection
 * formula; unequal sizes walk the lattice of interleavings keeping the probability mass that has not yet
 * crossed the band |i/n1 - j/n2| < d and summing what crosses. Every term is positive, so tiny p-values
 * (1e-70 for a strong shift) keep their relative accuracy instead of vanishing in 1 - (1 - p).
 */
import { ModelautoError } from '../../core/errors.js';
import { kstwoSf } from './kstwo.js';

export type KsMethod = 'auto' | 'exact' | 'asymp';

export interface KsResult {
  /** D, the largest distance between the two empirical CDFs (rounded to h/lcm(n1, n2) when exact). */
  statistic: number;
  pValue: number;
  /** How the p-value was computed. */
  method: 'exact' | 'asymp';
}

/** scipy's cut-over: 'auto' is exact when both samples have at most this many values. */
export const KS_MAX_EXACT_N = 10_000;

function sortedCopy(values: ArrayLike<number>, name: string): Float64Array {
  const out = Float64Array.from(values as ArrayLike<number>);
  for (let i = 0; i < out.length; i++) {
    if (Number.isNaN(out[i] as number)) {
      throw new ModelautoError('INVALID_ARGUMENT', `${name}[${i}] is NaN: drop missing values first`);
    }
  }
  return out.sort();
}

/** The two-sided KS statistic of two sorted samples (not rounded). */
export function ksStatistic(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let maxPos = 0;
  let maxNeg = 0;
  while (i < n1 || j < n2) {
    // the next pooled value; consume every copy of it from both samples before comparing the ECDFs
    const v =
      i < n1 && (j >= n2 || (a[i] as number) <= (b[j] as number)) ? (a[i] as number) : (b[j] as number);
    while (i < n1 && a[i] === v) i++;
    while (j < n2 && b[j] === v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxPos) maxPos = diff;
    if (-diff > maxNeg) maxNeg = -diff;
  }
  return Math.min(1, Math.max(maxPos, maxNeg));
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** P(D_{n,n} >= h/n) = 2 Σ_k (-1)^(k+1) C(2n, n - kh) / C(2n, n) (reflection principle). */
function equalSizesSf(n: number, h: number): number {
  let sum = 0;
  let ratio = 1; // C(2n, n - j) / C(2n, n), advanced one j at a time
  let j = 0;
  for (let k = 1; k * h <= n; k++) {
    for (; j < k * h; j++) ratio *= (n - j) / (n + 1 + j);
    if (ratio === 0) break;
    sum += k % 2 === 1 ? ratio : -ratio;
  }
  return 2 * sum;
}

/**
 * P(D >= d) for unequal sizes: probability that a uniformly random interleaving of n1 and n2 steps
 * touches |i n2 - j n1| >= band. From (i, j) the path takes an n1-step with probability
 * (n1 - i) / (n1 + n2 - i - j); mass that would step outside the band is added to the answer.
 */
function unequalSizesSf(n1: number, n2: number, band: number): number {
  // inside on row i: j in [lo(i), hi(i)], the j with |i n2 - j n1| < band; both bounds grow with i
  const lo = (i: number): number => Math.max(0, Math.floor((i * n2 - band) / n1) + 1);
  const hi = (i: number): number => Math.min(n2, Math.ceil((i * n2 + band) / n1) - 1);
  const total = n1 + n2;
  const inv = new Float64Array(total + 1); // 1 / (steps left), shared by every state on an anti-diagonal
  for (let k = 1; k <= total; k++) inv[k] = 1 / k;
  let above = new Float64Array(n2 + 2); // mass arriving on row i from row i - 1
  let next = new Float64Array(n2 + 2); // mass row i sends down to row i + 1
  // Neumaier-compensated sum of the mass leaving the band: many positive terms of very different sizes
  let sum = 0;
  let comp = 0;
  const exit = (v: number): void => {
    const t = sum + v;
    comp += sum >= v ? sum - t + v : v - t + sum;
    sum = t;
  };
  above[0] = 1;
  for (let i = 0; i <= n1; i++) {
    const l = lo(i);
    const h = hi(i);
    if (l > h) break; // every path has left the band
    const left1 = n1 - i;
    let k = total - i - l;
    // branch-free sweep: every state sends its mass down (into `next`) and right (as `carry`)
    let carry = 0;
    for (let j = l; j <= h; j++, k--) {
      const w = (carry + (above[j] as number)) * (inv[k] as number);
      next[j] = w * left1;
      carry = w * (n2 - j);
    }
    // the rightward step from (i, h) leaves the band (it is 0 when h = n2)
    if (carry !== 0) exit(carry);
    if (i === n1) break;
    // downward steps into row i + 1 left of its band leave it too
    const nl = lo(i + 1);
    const nh = hi(i + 1);
    for (let j = l; j < nl && j <= h; j++) {
      const v = next[j] as number;
      if (v !== 0) exit(v);
    }
    if (nh > h) next.fill(0, h + 1, nh + 1);
    [above, next] = [next, above];
  }
  return sum + comp;
}

/**
 * P(max over the path of (j n1 - i n2) >= band): the one-sided event "the second sample's ECDF gets ahead
 * by d". Only rows i whose entry point j*(i) = ceil((band + i n2) / n1) is still <= n2 can reach it, and
 * only states below the entry point are live, so this costs about n1 n2 (1 - d²) / 2 states — far fewer
 * than the two-sided band when d is large. Positive terms only, like the band walk.
 */
function cornerSf(n1: number, n2: number, band: number): number {
  const total = n1 + n2;
  const inv = new Float64Array(total + 1);
  for (let k = 1; k <= total; k++) inv[k] = 1 / k;
  const entry = (i: number): number => Math.ceil((band + i * n2) / n1);
  let above = new Float64Array(n2 + 1);
  let next = new Float64Array(n2 + 1);
  let sum = 0;
  let comp = 0;
  above[0] = 1;
  for (let i = 0; i <= n1; i++) {
    const top = entry(i); // first j inside the corner on this row
    if (top > n2) break; // the corner is out of reach from here on
    const left1 = n1 - i;
    let k = total - i;
    let carry = 0;
    const nextTop = i < n1 ? Math.min(entry(i + 1), n2 + 1) : 0;
    if (nextTop > 0) next.fill(0, 0, nextTop);
    for (let j = 0; j < top; j++, k--) {
      const w = (carry + (above[j] as number)) * (inv[k] as number);
      next[j] = w * left1;
      carry = w * (n2 - j);
    }
    // the step from (i, top - 1) to (i, top) enters the corner
    if (carry !== 0) {
      const t = sum + carry;
      comp += sum >= carry ? sum - t + carry : carry - t + sum;
      sum = t;
    }
    [above, next] = [next, above];
  }
  return sum + comp;
}

/** Exact two-sided p-value of d for samples of n1 and n2 values; returns the lattice-rounded d. */
export function ksExact(n1: number, n2: number, d: number): { statistic: number; pValue: number } {
  const g = gcd(n1, n2);
  const lcm = (n1 / g) * n2;
  const h = Math.round(d * lcm);
  const statistic = h / lcm;
  if (h === 0) return { statistic, pValue: 1 };
  let p: number;
  if (n1 === n2) p = equalSizesSf(n1, h);
  else if (2 * h > lcm) {
    // d > 1/2: the ECDFs cannot be d apart in both directions on one path, so the two-sided tail is
    // the sum of the one-sided ones, each a walk over a small corner of the lattice
    p = cornerSf(n1, n2, h * g) + cornerSf(n2, n1, h * g);
  } else p = unequalSizesSf(n1, n2, h * g);
  return { statistic, pValue: Math.min(1, Math.max(0, p)) };
}

/** Asymptotic two-sided p-value: kstwo.sf(d, round(n1 n2 / (n1 + n2))). */
export function ksAsymptotic(n1: number, n2: number, d: number): number {
  const en = (n1 * n2) / (n1 + n2);
  return kstwoSf(Math.round(en), d);
}

/** scipy.stats.ks_2samp(a, b) two-sided. Values must not be NaN; neither sample may be empty. */
export function ks2Samp(a: ArrayLike<number>, b: ArrayLike<number>, method: KsMethod = 'auto'): KsResult {
  if (a.length === 0 || b.length === 0) {
    throw new ModelautoError('INVALID_ARGUMENT', 'ks2Samp: both samples need at least one value');
  }
  const sa = sortedCopy(a, 'a');
  const sb = sortedCopy(b, 'b');
  return ks2SampSorted(sa, sb, method);
}

/** ks2Samp for samples already sorted ascending (no copy, no NaN check). */
export function ks2SampSorted(a: Float64Array, b: Float64Array, method: KsMethod = 'auto'): KsResult {
  const d = ksStatistic(a, b);
  const n1 = a.length;
  const n2 = b.length;
  const exact = method === 'exact' || (method === 'auto' && Math.max(n1, n2) <= KS_MAX_EXACT_N);
  if (exact) return { ...ksExact(n1, n2, d), method: 'exact' };
  return { statistic: d, pValue: Math.min(1, Math.max(0, ksAsymptotic(n1, n2, d))), method: 'asymp' };
}
