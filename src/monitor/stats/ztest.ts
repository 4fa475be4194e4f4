/**
 * Two-proportion z-test for independent samples (Evidently's test for binary features): the share of one
 * value in the reference against its share in the current data, with the pooled proportion in the
 * standard error. The two-sided p-value is 2·P(Z > |z|), computed from the normal upper tail directly
 * (Evidently writes 2·(1 - Φ(|z|)), which rounds to 0 beyond |z| ≈ 8.3; the values agree otherwise).
 */
import { ModelautoError } from '../../core/errors.js';
import { normalSf } from './special.js';

export interface ZTestResult {
  /** (p_ref - p_cur) / sqrt(P (1 - P) (1/n_ref + 1/n_cur)), P the pooled share. */
  statistic: number;
  pValue: number;
}

export function twoProportionZTest(
  successes1: number,
  n1: number,
  successes2: number,
  n2: number,
): ZTestResult {
  if (!(n1 > 0 && n2 > 0)) throw new ModelautoError('INVALID_ARGUMENT', 'twoProportionZTest: empty sample');
  if (!(successes1 >= 0 && successes1 <= n1 && successes2 >= 0 && successes2 <= n2)) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `twoProportionZTest: successes must be within 0..n (got ${successes1}/${n1}, ${successes2}/${n2})`,
    );
  }
  const p1 = successes1 / n1;
  const p2 = successes2 / n2;
  const pooled = (successes1 + successes2) / (n1 + n2);
  const variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2);
  // both samples all one value: the shares are equal and there is nothing to test
  if (variance === 0) return { statistic: 0, pValue: 1 };
  const statistic = (p1 - p2) / Math.sqrt(variance);
  return { statistic, pValue: Math.min(1, 2 * normalSf(Math.abs(statistic))) };
}
