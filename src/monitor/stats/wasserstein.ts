/**
 * First Wasserstein (earth mover's) distance between two samples, scipy.stats.wasserstein_distance(u, v):
 * the integral of |F_u(x) - F_v(x)| over x, exact for empirical distributions. Evidently's drift score
 * divides it by the reference's population standard deviation, floored at 0.001 so constant reference
 * columns do not divide by zero.
 */
import { ModelautoError } from '../../core/errors.js';

/** The std floor Evidently uses (max(std_ref, 0.001)). */
export const WASSERSTEIN_STD_FLOOR = 0.001;

function sortedCopy(values: ArrayLike<number>, name: string): Float64Array {
  if (values.length === 0) throw new ModelautoError('INVALID_ARGUMENT', `wasserstein: ${name} is empty`);
  const out = Float64Array.from(values as ArrayLike<number>);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i] as number)) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `wasserstein: ${name}[${i}] is ${out[i]}; expected a finite number`,
      );
    }
  }
  return out.sort();
}

/** W1 of two samples already sorted ascending (finite, non-empty). */
export function wassersteinSorted(u: Float64Array, v: Float64Array): number {
  const nu = u.length;
  const nv = v.length;
  let i = 0;
  let j = 0;
  let sum = 0;
  // walk the pooled values in order; between x and the next pooled value the CDFs are constant
  let x = Math.min(u[0] as number, v[0] as number);
  while (i < nu || j < nv) {
    while (i < nu && u[i] === x) i++;
    while (j < nv && v[j] === x) j++;
    if (i >= nu && j >= nv) break;
    const nextX =
      i < nu && (j >= nv || (u[i] as number) <= (v[j] as number)) ? (u[i] as number) : (v[j] as number);
    sum += Math.abs(i / nu - j / nv) * (nextX - x);
    x = nextX;
  }
  return sum;
}

export function wassersteinDistance(u: ArrayLike<number>, v: ArrayLike<number>): number {
  return wassersteinSorted(sortedCopy(u, 'u'), sortedCopy(v, 'v'));
}

/** Population standard deviation (numpy's np.std, ddof 0). */
export function populationStd(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i] as number;
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = (values[i] as number) - mean;
    ss += d * d;
  }
  return Math.sqrt(ss / n);
}

/** W1(reference, current) / max(std(reference), 0.001): Evidently's normalized Wasserstein drift score. */
export function wassersteinNormalized(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  const w = wassersteinDistance(reference, current);
  return w / Math.max(populationStd(reference), WASSERSTEIN_STD_FLOOR);
}
