/**
 * Jensen-Shannon distance, scipy.spatial.distance.jensenshannon(p, q, base): the square root of
 * (KL(p || m) + KL(q || m)) / 2 with m = (p + q) / 2, after p and q are each normalized to sum to 1.
 * Natural logarithm unless a base is given (Evidently uses the default, so its distances lie in
 * [0, sqrt(ln 2)] ≈ [0, 0.833]; base 2 gives [0, 1]). No smoothing is needed: an empty bin in one
 * distribution contributes 0 · log 0 = 0, and m is positive wherever either is.
 */
import { ModelautoError } from '../../core/errors.js';

/** x · ln(x / y) with scipy.special.rel_entr's conventions for zeros. */
function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

export function jensenShannonDistance(p: readonly number[], q: readonly number[], base?: number): number {
  if (p.length !== q.length) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `jensenShannonDistance: p has ${p.length} entries but q has ${q.length}`,
    );
  }
  if (base !== undefined && !(base > 0 && base !== 1)) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `jensenShannonDistance: base must be > 0 and != 1, got ${base}`,
    );
  }
  const ps = p.reduce((s, v) => s + v, 0);
  const qs = q.reduce((s, v) => s + v, 0);
  if (!(ps > 0 && qs > 0)) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      'jensenShannonDistance: p and q must each have a positive sum',
    );
  }
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const a = (p[i] as number) / ps;
    const b = (q[i] as number) / qs;
    const m = (a + b) / 2;
    js += relEntr(a, m) + relEntr(b, m);
  }
  if (base !== undefined) js /= Math.log(base);
  // rounding can leave a tiny negative divergence for identical inputs; the distance is then 0, not NaN
  return Math.sqrt(Math.max(0, js / 2));
}
