/**
 * Multiple-testing corrections for per-feature p-values (as Alibi Detect applies them to univariate drift
 * tests): Bonferroni controls the chance of any false alarm, Benjamini-Hochberg the expected share of
 * false alarms among the features flagged. Both return adjusted p-values, compared to the unchanged level
 * (equivalent to comparing raw p-values to alpha / m or to the BH step-up thresholds).
 */

export type Correction = 'none' | 'bonferroni' | 'fdr';

/** min(1, p · m). */
export function bonferroni(pValues: readonly number[]): number[] {
  const m = pValues.length;
  return pValues.map((p) => Math.min(1, p * m));
}

/**
 * Benjamini-Hochberg adjusted p-values (statsmodels' multipletests method 'fdr_bh', R's p.adjust 'BH'):
 * for the i-th smallest p, min over j >= i of p_(j) · m / j, capped at 1, returned in input order.
 */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((_, i) => i).sort((a, b) => (pValues[a] as number) - (pValues[b] as number));
  const out = new Array<number>(m);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const idx = order[rank - 1] as number;
    running = Math.min(running, ((pValues[idx] as number) * m) / rank);
    out[idx] = running;
  }
  return out;
}

export function adjustPValues(pValues: readonly number[], correction: Correction): number[] {
  if (correction === 'bonferroni') return bonferroni(pValues);
  if (correction === 'fdr') return benjaminiHochberg(pValues);
  return [...pValues];
}
