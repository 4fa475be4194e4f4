/**
 * Special functions the drift tests need: log-gamma, the regularized incomplete gamma functions (the
 * chi-square survival function is one of them) and the normal tail through erfc. Written for relative
 * accuracy in the far tail, where drift p-values live (1e-50 must come out as 1e-50, not 0).
 */

// Lanczos approximation, g = 7, nine coefficients: relative error about 1e-15 for x > 0.
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
const EPS = 1e-16;
// Smallest positive normal double: keeps Lentz's continued fraction away from division by zero.
const TINY = 1e-300;

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (!(x > 0)) return x === 0 ? Infinity : NaN;
  if (x < 0.5) {
    // Γ(x) = Γ(x + 1) / x keeps the series in its accurate range
    return logGamma(x + 1) - Math.log(x);
  }
  const z = x - 1;
  let sum = LANCZOS[0] as number;
  for (let i = 1; i < LANCZOS.length; i++) sum += (LANCZOS[i] as number) / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_2PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** ln(n!) for a non-negative integer n: exact table up to 256, log-gamma beyond. */
const LOG_FACTORIAL_TABLE = (() => {
  const t = new Float64Array(257);
  for (let k = 1; k <= 256; k++) t[k] = (t[k - 1] as number) + Math.log(k);
  return t;
})();

export function logFactorial(n: number): number {
  return n <= 256 ? (LOG_FACTORIAL_TABLE[n] as number) : logGamma(n + 1);
}

/** e^(a ln x - x - ln Γ(a)): the common factor of both incomplete gamma expansions. */
function gammaPrefactor(a: number, x: number): number {
  return Math.exp(a * Math.log(x) - x - logGamma(a));
}

/** Series for P(a, x), accurate for x < a + 1. */
function lowerSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < 100_000; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPS) break;
  }
  return sum * gammaPrefactor(a, x);
}

/** Continued fraction for Q(a, x) (modified Lentz), accurate for x >= a + 1. */
function upperFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return h * gammaPrefactor(a, x);
}

/** Regularized lower incomplete gamma P(a, x) = γ(a, x) / Γ(a). */
export function gammaP(a: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(x) || a <= 0 || x < 0) return NaN;
  if (x === 0) return 0;
  if (x === Infinity) return 1;
  return x < a + 1 ? lowerSeries(a, x) : 1 - upperFraction(a, x);
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a) = 1 - P(a, x), accurate when tiny. */
export function gammaQ(a: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(x) || a <= 0 || x < 0) return NaN;
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - lowerSeries(a, x) : upperFraction(a, x);
}

/** Survival function of the chi-square distribution with `df` degrees of freedom (scipy's chi2.sf). */
export function chi2Sf(x: number, df: number): number {
  if (Number.isNaN(x) || !(df > 0)) return NaN;
  if (x <= 0) return 1;
  return gammaQ(df / 2, x / 2);
}

/** Complementary error function; erfc(x) = Q(1/2, x²) for x >= 0. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= 0) return gammaQ(0.5, x * x);
  return 1 + gammaP(0.5, x * x);
}

/** Upper tail of the standard normal distribution, P(Z > z) (scipy's norm.sf). */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}
