/** Edge cases and refusals of the statistics (the SciPy agreement itself is in scipy-fixtures.test.ts). */
import { describe, expect, it } from 'vitest';
import {
  benjaminiHochberg,
  chi2Contingency,
  chiSquare,
  gammaP,
  gammaQ,
  jensenShannonDistance,
  ks2Samp,
  ksExact,
  psiFromCounts,
  psiNumeric,
  nextUp,
  twoProportionZTest,
  wassersteinDistance,
  wassersteinNormalized,
} from '../../../src/monitor/stats/index.js';

describe('statistics edge cases', () => {
  it('ks2Samp refuses empty samples and NaN, and needs no sorting from the caller', () => {
    expect(() => ks2Samp([], [1])).toThrow(/both samples need at least one value/);
    expect(() => ks2Samp([1, NaN], [1])).toThrow(/a\[1\] is NaN/);
    expect(ks2Samp([3, 1, 2], [2, 3, 1])).toEqual({ statistic: 0, pValue: 1, method: 'exact' });
    expect(ks2Samp([1, 2, 3], [1, 2, 3], 'asymp').method).toBe('asymp');
  });

  it('exact KS: the band walk, the corner walks and the equal-size formula agree where they meet', () => {
    // d just above 1/2 (corner walks) and just below (band walk) for the same sizes: the tail shrinks
    const below = ksExact(60, 40, 0.49).pValue;
    const above = ksExact(60, 40, 0.51).pValue;
    expect(above).toBeLessThan(below);
    expect(above).toBeGreaterThan(0);
    // sizes with a common factor: 2n vs n behaves like the continuous limit (about 2 exp(-2 d^2 n1 n2/(n1+n2)))
    const p = ksExact(200, 100, 0.25).pValue;
    expect(p).toBeGreaterThan(0.2 * 2 * Math.exp((-2 * 0.0625 * 20000) / 300));
    expect(p).toBeLessThan(2 * 2 * Math.exp((-2 * 0.0625 * 20000) / 300));
    // d = 1 with equal sizes: only the two fully separated orders, 2 / C(2n, n)
    expect(ksExact(4, 4, 1).pValue).toBeCloseTo(2 / 70, 15);
  });

  it('chiSquare: totals must agree; an unseen category is an infinite statistic with p = 0', () => {
    expect(() => chiSquare([1, 2], [1, 1])).toThrow(/observed counts sum to 3 but expected counts to 2/);
    expect(() => chiSquare([1, 2], [1])).toThrow(/observed has 2 categories but expected has 1/);
    const r = chiSquare([5, 5, 2], [6, 6, 0]);
    expect(r.statistic).toBe(Infinity);
    expect(r.pValue).toBe(0);
  });

  it('chi2Contingency refuses empty rows/columns and negative counts', () => {
    expect(() =>
      chi2Contingency([
        [0, 1],
        [0, 2],
      ]),
    ).toThrow(/expected count of cell \[0\]\[0\] is 0/);
    expect(() =>
      chi2Contingency([
        [1, -1],
        [2, 2],
      ]),
    ).toThrow(/cell \[0\]\[1\] is -1/);
    expect(() => chi2Contingency([[1, 2], [3]])).toThrow(/row 1 has 1 cells, expected 2/);
    expect(chi2Contingency([[3, 4, 5]])).toMatchObject({ statistic: 0, pValue: 1, dof: 0 });
  });

  it('two-proportion z-test: equal all-or-nothing shares are no evidence (p = 1)', () => {
    expect(twoProportionZTest(0, 10, 0, 20)).toEqual({ statistic: 0, pValue: 1 });
    expect(twoProportionZTest(10, 10, 20, 20)).toEqual({ statistic: 0, pValue: 1 });
    expect(() => twoProportionZTest(11, 10, 0, 5)).toThrow(/successes must be within 0\.\.n/);
  });

  it('Wasserstein: symmetric, translation gives the shift, constant reference uses the 0.001 floor', () => {
    expect(wassersteinDistance([0, 1, 2], [5, 6, 7])).toBeCloseTo(5, 12);
    expect(wassersteinDistance([1, 9, 4], [2, 2])).toBeCloseTo(wassersteinDistance([2, 2], [4, 9, 1]), 12);
    expect(wassersteinNormalized([3, 3, 3], [3, 3.001])).toBeCloseTo(0.5, 9);
    expect(() => wassersteinDistance([], [1])).toThrow(/u is empty/);
    expect(() => wassersteinDistance([1, Infinity], [1])).toThrow(/u\[1\] is Infinity/);
  });

  it('Jensen-Shannon: 0 for identical, sqrt(ln 2) for disjoint (natural log), 1 in base 2', () => {
    expect(jensenShannonDistance([1, 2, 3], [2, 4, 6])).toBe(0);
    expect(jensenShannonDistance([1, 0], [0, 1])).toBeCloseTo(Math.sqrt(Math.LN2), 14);
    expect(jensenShannonDistance([1, 0], [0, 1], 2)).toBeCloseTo(1, 14);
    expect(() => jensenShannonDistance([1], [1, 2])).toThrow(/p has 1 entries but q has 2/);
    expect(() => jensenShannonDistance([0, 0], [1, 2])).toThrow(/positive sum/);
    expect(() => jensenShannonDistance([1], [1], 1)).toThrow(/base must be > 0 and != 1/);
  });

  it('PSI: 0 for the same distribution, epsilon keeps empty bins finite', () => {
    expect(psiFromCounts([10, 20, 30], [1, 2, 3])).toBeCloseTo(0, 14);
    const moved = psiFromCounts([10, 0], [0, 10]);
    expect(Number.isFinite(moved)).toBe(true);
    expect(moved).toBeGreaterThan(10);
    const c = psiNumeric(Float64Array.from([5, 5, 5, 5]), [5, 5]);
    expect(c.edges).toEqual([5, nextUp(5)]);
    expect(c.value).toBe(0);
    // A constant (or mostly-zero) reference column still detects a move out of its range.
    expect(psiNumeric(Float64Array.from([0, 0, 0, 0]), [255, 255]).value).toBeGreaterThan(5);
    expect(nextUp(0)).toBe(Number.MIN_VALUE);
    expect(nextUp(-1)).toBeGreaterThan(-1);
    expect(nextUp(1)).toBe(1 + Number.EPSILON);
  });

  it('Benjamini-Hochberg: adjusted values are >= raw, <= 1 and keep the order of the raw ones', () => {
    const p = [0.04, 0.001, 0.3, 0.02, 0.9, 0.049];
    const adj = benjaminiHochberg(p);
    adj.forEach((a, i) => {
      expect(a).toBeGreaterThanOrEqual(p[i] as number);
      expect(a).toBeLessThanOrEqual(1);
    });
    const order = (xs: number[]) => xs.map((_, i) => i).sort((a, b) => (xs[a] as number) - (xs[b] as number));
    const raw = order(p);
    for (let k = 1; k < raw.length; k++)
      expect(adj[raw[k] as number]).toBeGreaterThanOrEqual(adj[raw[k - 1] as number] as number);
  });

  it('incomplete gamma: P + Q = 1 across both expansions', () => {
    for (const a of [0.5, 1, 3.7, 20, 250]) {
      for (const x of [0.01, 1, a, a + 1, 2 * a + 5]) expect(gammaP(a, x) + gammaQ(a, x)).toBeCloseTo(1, 12);
    }
    expect(gammaQ(2, 0)).toBe(1);
    expect(Number.isNaN(gammaQ(-1, 2))).toBe(true);
  });
});
