/**
 * The distribution of the one-sample two-sided Kolmogorov-Smirnov statistic D_n (scipy's `kstwo`), which
 * ks_2samp's asymptotic method evaluates at n = round(n1 n2 / (n1 + n2)). Regions follow Simard and
 * L'Ecuyer (2011), "Computing the Two-Sided Kolmogorov-Smirnov Distribution", J. Stat. Software 39(11):
 * closed forms at the ends (Ruben-Gambino), exactly twice the one-sided tail for large x (Birnbaum-Tingey,
 * exact when x >= 0.5 and Miller's approximation below), Durbin's matrix (Marsaglia-Tsang-Wang 2003) in the
 * middle, and the Pelz-Good asymptotic series for large n. Where the paper uses Pomeranz's recursion
 * (n <= 140) we use Durbin's matrix: both are exact, so the values agree to rounding.
 */
import { logFactorial } from './special.js';

/** P(D_n^+ >= x), the one-sided statistic (scipy.special.smirnov): Birnbaum-Tingey's sum, all terms positive. */
export function smirnovSf(n: number, x: number): number {
  if (!(x >= 0 && x <= 1) || !(n >= 1)) return NaN;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const last = Math.floor(n * (1 - x));
  const lfn = logFactorial(n);
  let sum = 0;
  for (let j = 0; j <= last; j++) {
    const lo = x + j / n;
    const hi = 1 - lo;
    if (hi <= 0) {
      // (1 - x - j/n)^(n-j) is 0 unless n - j = 0
      if (n - j === 0) sum += Math.exp(lfn - logFactorial(j) + (j - 1) * Math.log(lo));
      continue;
    }
    const logTerm =
      lfn - logFactorial(j) - logFactorial(n - j) + (j - 1) * Math.log(lo) + (n - j) * Math.log(hi);
    sum += Math.exp(logTerm);
  }
  return Math.min(1, sum * x);
}

const SCALE_EXP = 128;
const BIG = 2 ** SCALE_EXP;
const SMALL = 2 ** -SCALE_EXP;

function matMul(a: Float64Array, b: Float64Array, m: number): Float64Array<ArrayBuffer> {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k] as number;
      if (aik === 0) continue;
      const row = k * m;
      const o = i * m;
      for (let j = 0; j < m; j++) out[o + j] = (out[o + j] as number) + aik * (b[row + j] as number);
    }
  }
  return out;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i] as number);
    if (v > m) m = v;
  }
  return m;
}

/**
 * P(D_n < d) by Durbin's matrix: with d = (k - h)/n, 0 <= h < 1, it is n!/n^n times the (k, k) entry of
 * H^n for an (2k-1)x(2k-1) matrix H of reciprocal factorials with a corrected first column and last row.
 * Powers are scaled by 2^-128 steps so large n cannot overflow.
 */
export function durbinCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const invFact = new Float64Array(m + 1);
  invFact[0] = 1;
  for (let i = 1; i <= m; i++) invFact[i] = (invFact[i - 1] as number) / i;
  const H = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) if (i - j + 1 >= 0) H[i * m + j] = invFact[i - j + 1] as number;
  }
  for (let i = 0; i < m; i++) {
    H[i * m] = (1 - h ** (i + 1)) * (invFact[i + 1] as number);
    H[(m - 1) * m + i] = (1 - h ** (m - i)) * (invFact[m - i] as number);
  }
  const corner = 1 - 2 * h ** m + (2 * h - 1 > 0 ? (2 * h - 1) ** m : 0);
  H[(m - 1) * m] = corner * (invFact[m] as number);

  // H^n by repeated squaring, each factor carrying a power-of-two exponent
  let result: Float64Array | undefined;
  let resultExp = 0;
  let base = H;
  let baseExp = 0;
  let e = n;
  while (e > 0) {
    if (e & 1) {
      if (result) {
        result = matMul(result, base, m);
        resultExp += baseExp;
      } else {
        result = base.slice();
        resultExp = baseExp;
      }
      if (maxAbs(result) > BIG) {
        for (let i = 0; i < result.length; i++) result[i] = (result[i] as number) * SMALL;
        resultExp += SCALE_EXP;
      }
    }
    e = Math.floor(e / 2);
    if (e > 0) {
      base = matMul(base, base, m);
      baseExp *= 2;
      if (maxAbs(base) > BIG) {
        for (let i = 0; i < base.length; i++) base[i] = (base[i] as number) * SMALL;
        baseExp += SCALE_EXP;
      }
    }
  }
  let p = (result as Float64Array)[(k - 1) * m + (k - 1)] as number;
  let exp = resultExp;
  // times n!/n^n, one factor i/n at a time, rescaling before it underflows
  for (let i = 1; i <= n; i++) {
    p = (p * i) / n;
    if (p !== 0 && Math.abs(p) < SMALL) {
      p *= BIG;
      exp -= SCALE_EXP;
    }
  }
  return p * 2 ** exp;
}

const SQRT_2PI = Math.sqrt(2 * Math.PI);
const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;

/**
 * Pelz-Good (1976) asymptotic series for P(D_n <= x):
 * K0(z) + K1(z)/sqrt(n) + K2(z)/n + K3(z)/n^1.5 with z = x sqrt(n), each K written as theta-function sums
 * that converge fast for small z.
 */
export function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const logQ = -PI2 / (8 * z2);
  if (logQ < -708) return 0;
  const terms = Math.ceil((16 * z) / Math.PI);
  // sums over odd m = 2k-1 of polynomials in m^2 times exp(-m^2 pi^2 / (8 z^2))
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let k = terms; k >= 1; k--) {
    const mOdd = 2 * k - 1;
    const m2 = mOdd * mOdd;
    const w = Math.exp(logQ * m2);
    s0 += w;
    s1 += w * ((PI2 * m2) / 4 - z2);
    s2 += w * (6 * z6 + 2 * z4 + ((2 * z4 - 5 * z2) * PI2 * m2) / 4 + (PI4 * (1 - 2 * z2) * m2 * m2) / 16);
    s3 +=
      w *
      ((PI6 * (5 - 30 * z2) * m2 * m2 * m2) / 64 +
        (PI4 * (212 * z4 - 60 * z2) * m2 * m2) / 16 +
        (PI2 * (135 * z4 - 96 * z6) * m2) / 4 -
        30 * z6 -
        90 * z4 * z4);
  }
  // sums over all k >= 1 of exp(-k^2 pi^2 / (2 z^2)) terms in K2 and K3
  let t2 = 0;
  let t3 = 0;
  for (let k = terms; k >= 1; k--) {
    const k2 = k * k;
    const w = Math.exp((-PI2 * k2) / (2 * z2));
    t2 += k2 * w;
    t3 += (3 * z2 - PI2 * k2) * k2 * w;
  }
  const K0 = (SQRT_2PI / z) * s0;
  const K1 = (SQRT_2PI / (6 * z4)) * s1;
  const K2 = (SQRT_2PI / (72 * z6 * z)) * s2 - ((PI2 * SQRT_2PI) / (36 * z2 * z)) * t2;
  const K3 = (SQRT_2PI / (6480 * z6 * z4)) * s3 + ((PI2 * SQRT_2PI) / (216 * z6)) * t3;
  const rn = Math.sqrt(n);
  return K0 + K1 / rn + K2 / n + K3 / (n * rn);
}

function clip(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

/** P(D_n >= x) for the one-sample two-sided statistic (scipy.stats.kstwo.sf(x, n)). */
export function kstwoSf(n: number, x: number): number {
  if (!Number.isInteger(n) || n < 1 || Number.isNaN(x)) return NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    // P(D_n <= x) = n!/n^n (2t - 1)^n for 1/(2n) <= x <= 1/n
    let cdf = 1;
    for (let i = 1; i <= n && cdf > 0; i++) cdf *= (i / n) * (2 * t - 1);
    return clip(1 - cdf);
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 4) return clip(1 - durbinCdf(n, x));
    return clip(2 * smirnovSf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip(2 * smirnovSf(n, x));
  if (n <= 100_000 && n * x ** 1.5 <= 1.4) return clip(1 - durbinCdf(n, x));
  return clip(1 - pelzGoodCdf(n, x));
}
