/**
 * Pearson chi-square tests with scipy's semantics: goodness of fit (scipy.stats.chisquare) — the test
 * Evidently applies to categorical drift, current counts against reference proportions — and the test of
 * independence on a contingency table (scipy.stats.chi2_contingency, Yates' correction when dof = 1).
 */
import { ModelautoError } from '../../core/errors.js';
import { chi2Sf } from './special.js';

export interface ChiSquareResult {
  statistic: number;
  pValue: number;
  dof: number;
}

function invalid(message: string): ModelautoError {
  return new ModelautoError('INVALID_ARGUMENT', message);
}

/**
 * scipy.stats.chisquare(observed, expected, ddof): Σ (o - e)² / e on k - 1 - ddof degrees of freedom.
 * Without `expected` every category expects the mean count. The two totals must agree to 1e-8 (relative),
 * as scipy requires. A category expecting 0 but observed > 0 makes the statistic Infinity and p = 0.
 */
export function chiSquare(
  observed: readonly number[],
  expected?: readonly number[],
  ddof = 0,
): ChiSquareResult {
  const k = observed.length;
  if (k === 0) throw invalid('chiSquare: observed is empty');
  const obsSum = observed.reduce((s, v) => s + v, 0);
  let exp: readonly number[];
  if (expected) {
    if (expected.length !== k) {
      throw invalid(`chiSquare: observed has ${k} categories but expected has ${expected.length}`);
    }
    const expSum = expected.reduce((s, v) => s + v, 0);
    const rel = Math.abs(obsSum - expSum) / Math.min(obsSum, expSum);
    if (rel > 1e-8) {
      throw invalid(
        `chiSquare: observed counts sum to ${obsSum} but expected counts to ${expSum}; they must agree (relative tolerance 1e-8)`,
      );
    }
    exp = expected;
  } else {
    exp = new Array<number>(k).fill(obsSum / k);
  }
  let statistic = 0;
  for (let i = 0; i < k; i++) {
    const d = (observed[i] as number) - (exp[i] as number);
    statistic += (d * d) / (exp[i] as number);
  }
  const dof = k - 1 - ddof;
  return { statistic, pValue: dof > 0 ? chi2Sf(statistic, dof) : NaN, dof };
}

export interface ContingencyResult extends ChiSquareResult {
  /** Expected counts under independence: row total × column total / grand total. */
  expected: number[][];
}

/**
 * scipy.stats.chi2_contingency(table, correction): test of independence of rows and columns. With one
 * degree of freedom and `correction` (the default, as in scipy) each observed count moves up to 0.5 toward
 * its expected count (Yates). No degrees of freedom (one row or column): statistic 0, p = 1.
 */
export function chi2Contingency(table: readonly (readonly number[])[], correction = true): ContingencyResult {
  const r = table.length;
  const c = table[0]?.length ?? 0;
  if (r === 0 || c === 0) throw invalid('chi2Contingency: the table is empty');
  for (const [i, row] of table.entries()) {
    if (row.length !== c) throw invalid(`chi2Contingency: row ${i} has ${row.length} cells, expected ${c}`);
    for (const [j, v] of row.entries()) {
      if (!(v >= 0)) throw invalid(`chi2Contingency: cell [${i}][${j}] is ${v}; counts must be >= 0`);
    }
  }
  const rowSums = table.map((row) => row.reduce((s, v) => s + v, 0));
  const colSums = Array.from({ length: c }, (_, j) => table.reduce((s, row) => s + (row[j] as number), 0));
  const total = rowSums.reduce((s, v) => s + v, 0);
  const expected = rowSums.map((rs) => colSums.map((cs) => (rs * cs) / total));
  for (const [i, row] of expected.entries()) {
    const j = row.findIndex((v) => v === 0);
    if (j >= 0) {
      throw invalid(
        `chi2Contingency: the expected count of cell [${i}][${j}] is 0 (its row or column is all zeros)`,
      );
    }
  }
  const dof = (r - 1) * (c - 1);
  if (dof === 0) return { statistic: 0, pValue: 1, dof, expected };
  let statistic = 0;
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      const e = (expected[i] as number[])[j] as number;
      let o = (table[i] as readonly number[])[j] as number;
      if (dof === 1 && correction) {
        const diff = e - o;
        o += Math.sign(diff) * Math.min(0.5, Math.abs(diff));
      }
      statistic += ((o - e) * (o - e)) / e;
    }
  }
  return { statistic, pValue: chi2Sf(statistic, dof), dof, expected };
}
