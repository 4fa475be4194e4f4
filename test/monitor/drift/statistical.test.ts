/**
 * Statistical behaviour on synthetic data: known shifts are found, no shift raises the tests' nominal
 * rate of false alarms, and correction keeps many-feature false alarms down.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { detectDrift } from '../../../src/monitor/drift/detect.js';
import { categories, normals, table } from './synthetic.js';

describe('detectDrift on synthetic data', () => {
  it('detects a 0.5 std mean shift with KS (small reference) and with normalized Wasserstein (large)', () => {
    const rng = new Rng(11);
    const ref = table({ x: normals(rng, 800), y: normals(rng, 800) });
    const cur = table({ x: normals(rng, 400, 0.5), y: normals(rng, 400) });
    const small = detectDrift(ref, cur);
    const x = small.features.find((f) => f.feature === 'x');
    const y = small.features.find((f) => f.feature === 'y');
    expect(x?.method).toBe('ks');
    expect(x?.drifted).toBe(true);
    expect(x?.pValue).toBeLessThan(1e-6);
    expect(y?.drifted).toBe(false);
    // the same data standing for a large training set: distances
    const large = detectDrift(ref, cur, { referenceRows: 60_000 });
    const lx = large.features.find((f) => f.feature === 'x');
    expect(lx?.method).toBe('wasserstein');
    expect(lx?.pValue).toBeNull();
    // W1 of a 0.5 std shift divided by the std is about 0.5
    expect(lx?.score).toBeGreaterThan(0.3);
    expect(lx?.drifted).toBe(true);
    expect(large.features.find((f) => f.feature === 'y')?.drifted).toBe(false);
    // PSI reported for both; the shifted one well above the 0.1 rule of thumb
    expect(lx?.psi).toBeGreaterThan(0.1);
  });

  it('detects a category mix change with chi-square (small reference) and Jensen-Shannon (large)', () => {
    const rng = new Rng(5);
    const mix = { a: 0.5, b: 0.3, c: 0.2 };
    const ref = table({}, { plan: categories(rng, 600, mix), region: categories(rng, 600, mix) });
    const cur = table(
      {},
      { plan: categories(rng, 300, { a: 0.25, b: 0.3, c: 0.45 }), region: categories(rng, 300, mix) },
    );
    const small = detectDrift(ref, cur);
    const plan = small.features.find((f) => f.feature === 'plan');
    expect(plan?.method).toBe('chisquare');
    expect(plan?.drifted).toBe(true);
    expect(small.features.find((f) => f.feature === 'region')?.drifted).toBe(false);
    const large = detectDrift(ref, cur, { referenceRows: 5000 });
    const lp = large.features.find((f) => f.feature === 'plan');
    expect(lp?.method).toBe('jensenshannon');
    expect(lp?.score).toBeGreaterThan(0.1);
    expect(lp?.drifted).toBe(true);
    expect(lp?.reference.labels).toEqual(['a', 'b', 'c']);
  });

  it('uses the z-test for binary columns and finds a proportion change', () => {
    const rng = new Rng(8);
    const ref = table({}, { flag: categories(rng, 500, { yes: 0.3, no: 0.7 }) });
    const cur = table({}, { flag: categories(rng, 300, { yes: 0.5, no: 0.5 }) });
    const f = detectDrift(ref, cur).features[0];
    expect(f?.method).toBe('ztest');
    expect(f?.drifted).toBe(true);
  });

  it('no shift: the per-feature KS false-positive rate over 200 seeded trials is at most 7% at p < 0.05', () => {
    const rng = new Rng(20240612);
    let alarms = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      const ref = table({ x: normals(rng, 200) });
      const cur = table({ x: normals(rng, 150) });
      const f = detectDrift(ref, cur).features[0];
      expect(f?.method).toBe('ks');
      if (f?.drifted) alarms++;
    }
    // the exact KS test is valid (slightly conservative): the rate sits near 5%
    expect(alarms / trials).toBeLessThanOrEqual(0.07);
    expect(alarms).toBeGreaterThan(0); // a test that never fires would pass the bound trivially
  });

  it('with 20 features and no shift, correction cuts dataset-level false alarms', () => {
    const rng = new Rng(99);
    const names = Array.from({ length: 20 }, (_, i) => `f${i}`);
    const rates = { none: 0, bonferroni: 0, fdr: 0 };
    const trials = 60;
    for (let t = 0; t < trials; t++) {
      const ref = table(Object.fromEntries(names.map((n) => [n, normals(rng, 120)])));
      const cur = table(Object.fromEntries(names.map((n) => [n, normals(rng, 80)])));
      for (const correction of ['none', 'bonferroni', 'fdr'] as const) {
        // a dataset-level alarm: any column flagged (drift share threshold at one column in twenty)
        const r = detectDrift(ref, cur, { correction, driftShare: 0.05 });
        if (r.datasetDrift) rates[correction]++;
      }
    }
    // without correction about 1 - 0.95^20 = 64% of trials raise an alarm; with it about 5%
    expect(rates.none / trials).toBeGreaterThan(0.3);
    expect(rates.bonferroni / trials).toBeLessThanOrEqual(0.12);
    expect(rates.fdr / trials).toBeLessThanOrEqual(0.12);
    expect(rates.bonferroni).toBeLessThan(rates.none);
  });

  it('correction keeps power when many columns really drift (FDR more than Bonferroni)', () => {
    const rng = new Rng(3);
    const names = Array.from({ length: 30 }, (_, i) => `f${i}`);
    const ref = table(Object.fromEntries(names.map((n) => [n, normals(rng, 300)])));
    const cur = table(Object.fromEntries(names.map((n, i) => [n, normals(rng, 150, i < 20 ? 0.4 : 0)])));
    const fdr = detectDrift(ref, cur, { correction: 'fdr' });
    const bonf = detectDrift(ref, cur, { correction: 'bonferroni' });
    const count = (r: typeof fdr) => r.features.filter((f) => f.drifted).length;
    // 20 of 30 columns shifted by 0.4 std: FDR flags most of them, Bonferroni under half
    expect(count(fdr)).toBeGreaterThan(count(bonf));
    expect(fdr.datasetDrift).toBe(true);
    expect(bonf.datasetDrift).toBe(false);
    // corrected p-values are reported, the raw ones kept beside them
    for (const f of bonf.features)
      expect(f.pValue).toBeCloseTo(Math.min(1, (f.pValueRaw as number) * 30), 12);
  });
});
