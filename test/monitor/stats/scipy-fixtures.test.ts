/**
 * Every statistic against SciPy 1.10 (fixtures from scripts/fixtures/gen_drift_stats.py). Tolerance is
 * 1e-9 relative wherever SciPy computes exactly; the few documented exceptions are named at the check.
 */
import { describe, expect, it } from 'vitest';
import {
  benjaminiHochberg,
  bonferroni,
  chi2Contingency,
  chi2Sf,
  chiSquare,
  jensenShannonDistance,
  ks2Samp,
  kstwoSf,
  normalSf,
  psiNumeric,
  smirnovSf,
  twoProportionZTest,
  wassersteinDistance,
  wassersteinNormalized,
} from '../../../src/monitor/stats/index.js';
import { expectClose, loadFixture, num, type Num } from './helpers.js';

interface Fixture {
  scipy: string;
  ks2samp: { name: string; a: number[]; b: number[]; statistic: number; pValue: number; method: string }[];
  kstwo: { n: number; x: number; sf: Num; region: string }[];
  smirnov: { n: number; x: number; sf: Num }[];
  chisquare: {
    name: string;
    observed: number[];
    expected: number[] | null;
    ddof: number;
    statistic: Num;
    pValue: Num;
  }[];
  chi2contingency: {
    name: string;
    table: number[][];
    correction: boolean;
    statistic: number;
    pValue: number;
    dof: number;
    expected: number[][];
  }[];
  chi2sf: { x: number; df: number; sf: Num }[];
  normsf: { z: number; sf: Num }[];
  ztest: { s1: number; n1: number; s2: number; n2: number; statistic: number; pValue: number }[];
  wasserstein: { name: string; u: number[]; v: number[]; distance: number; normalized: number }[];
  jensenshannon: { name: string; p: number[]; q: number[]; base: number | null; distance: number }[];
  psi: {
    name: string;
    reference: number[];
    current: number[];
    value: number;
    edges: number[];
    referenceCounts: number[];
    currentCounts: number[];
  }[];
  corrections: { p: number[]; bonferroni: number[]; bh: number[] }[];
}

const fx = loadFixture<Fixture>('scipy-stats.json');
const REL = 1e-9;
// Below ~1e-300 the values are (nearly) subnormal: digits are lost in any implementation.
const SUBNORMAL = 1e-300;

describe(`statistics against scipy ${fx.scipy}`, () => {
  it('ks2Samp: statistic and p-value (exact and asymptotic) for every case', () => {
    for (const c of fx.ks2samp) {
      const r = ks2Samp(c.a, c.b);
      expect(r.method, c.name).toBe(c.method);
      expectClose(r.statistic, c.statistic, 1e-12, 0, `${c.name} statistic`);
      expectClose(r.pValue, c.pValue, REL, SUBNORMAL, `${c.name} p-value`);
    }
  });

  it('kstwoSf: every region of the one-sample distribution', () => {
    for (const c of fx.kstwo) {
      // SciPy uses Pomeranz where we use Durbin's matrix (both exact); and its Pelz-Good series is the
      // same formula as ours, so the same 1e-9 holds. The sf is 1 - cdf in those regions: allow 1e-15 abs.
      expectClose(kstwoSf(c.n, c.x), c.sf, REL, 1e-15, `kstwo n=${c.n} x=${c.x} (${c.region})`);
    }
  });

  it('smirnovSf: the exact one-sided tail', () => {
    for (const c of fx.smirnov) expectClose(smirnovSf(c.n, c.x), c.sf, REL, 0, `smirnov n=${c.n} x=${c.x}`);
  });

  it('chiSquare (goodness of fit)', () => {
    for (const c of fx.chisquare) {
      const r = chiSquare(c.observed, c.expected ?? undefined, c.ddof);
      expectClose(r.statistic, c.statistic, REL, 0, `${c.name} statistic`);
      expectClose(r.pValue, c.pValue, REL, 0, `${c.name} p-value`);
    }
  });

  it('chi2Contingency, with and without Yates correction', () => {
    for (const c of fx.chi2contingency) {
      const r = chi2Contingency(c.table, c.correction);
      expect(r.dof, c.name).toBe(c.dof);
      expectClose(r.statistic, c.statistic, REL, 1e-12, `${c.name} statistic`);
      expectClose(r.pValue, c.pValue, REL, 0, `${c.name} p-value`);
      r.expected.forEach((row, i) =>
        row.forEach((v, j) => expectClose(v, (c.expected[i] as number[])[j] as number, 1e-12, 0, c.name)),
      );
    }
  });

  it('chi2Sf and normalSf', () => {
    for (const c of fx.chi2sf)
      expectClose(chi2Sf(c.x, c.df), c.sf, REL, SUBNORMAL, `chi2.sf(${c.x}, ${c.df})`);
    for (const c of fx.normsf) expectClose(normalSf(c.z), c.sf, REL, 0, `norm.sf(${c.z})`);
  });

  it('twoProportionZTest', () => {
    for (const c of fx.ztest) {
      const r = twoProportionZTest(c.s1, c.n1, c.s2, c.n2);
      expectClose(r.statistic, c.statistic, 1e-12, 0, `z ${c.s1}/${c.n1} vs ${c.s2}/${c.n2}`);
      expectClose(r.pValue, c.pValue, REL, 0, `p ${c.s1}/${c.n1} vs ${c.s2}/${c.n2}`);
    }
  });

  it('wassersteinDistance and the normalized score', () => {
    for (const c of fx.wasserstein) {
      // summation order differs from numpy's pairwise sum: 1e-12 relative, 1e-15 absolute for ~0 results
      expectClose(wassersteinDistance(c.u, c.v), c.distance, 1e-12, 1e-15, c.name);
      expectClose(wassersteinNormalized(c.u, c.v), c.normalized, 1e-12, 1e-12, `${c.name} normalized`);
    }
  });

  it('jensenShannonDistance', () => {
    for (const c of fx.jensenshannon) {
      // sqrt of a rounding-level divergence for identical inputs: absolute 1e-7 covers sqrt(1e-16)
      const abs = c.distance === 0 ? 1e-7 : 0;
      expectClose(jensenShannonDistance(c.p, c.q, c.base ?? undefined), c.distance, 1e-12, abs, c.name);
    }
  });

  it('psiNumeric: decile bins, counts and value as the numpy reference computes them', () => {
    for (const c of fx.psi) {
      const sorted = Float64Array.from(c.reference).sort();
      const r = psiNumeric(sorted, c.current);
      expect(r.edges.length, c.name).toBe(c.edges.length);
      r.edges.forEach((e, i) => expectClose(e, c.edges[i] as number, 1e-14, 0, `${c.name} edge ${i}`));
      expect(r.referenceCounts, c.name).toEqual(c.referenceCounts);
      expect(r.currentCounts, c.name).toEqual(c.currentCounts);
      expectClose(r.value, c.value, 1e-12, 1e-15, `${c.name} psi`);
    }
  });

  it('Bonferroni and Benjamini-Hochberg adjusted p-values', () => {
    for (const c of fx.corrections) {
      bonferroni(c.p).forEach((v, i) =>
        expectClose(v, num(c.bonferroni[i] as number), 1e-14, 0, 'bonferroni'),
      );
      benjaminiHochberg(c.p).forEach((v, i) => expectClose(v, num(c.bh[i] as number), 1e-14, 0, 'bh'));
    }
  });
});
