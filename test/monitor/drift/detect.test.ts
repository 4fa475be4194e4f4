import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { ModelautoError } from '../../../src/core/errors.js';
import { columnarFromTensor } from '../../../src/monitor/drift/columnar.js';
import { detectDrift } from '../../../src/monitor/drift/detect.js';
import { DriftOptionsSchema } from '../../../src/monitor/drift/options.js';
import type { DriftReport } from '../../../src/monitor/types.js';
import { categories, normals, table } from './synthetic.js';

function finiteEverywhere(r: DriftReport): void {
  for (const f of r.features) {
    for (const v of [f.score, f.statistic, f.psi ?? 0, f.threshold])
      expect(Number.isNaN(v), f.feature).toBe(false);
    expect(Number.isFinite(f.score), f.feature).toBe(true);
  }
  expect(Number.isFinite(r.driftShare)).toBe(true);
}

/** Image-like rows: a 6x6 "digit" whose border is always 0, centre pixels random 0..255. */
function images(rng: Rng, n: number, invert = false): Uint8Array {
  const out = new Uint8Array(n * 36);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < 6; r++) {
      for (let c = 0; c < 6; c++) {
        const border = r === 0 || c === 0 || r === 5 || c === 5;
        const v = border ? 0 : rng.next() < 0.6 ? 0 : 128 + rng.int(128);
        out[i * 36 + r * 6 + c] = invert && !border ? 255 - v : v;
      }
    }
  }
  return out;
}

describe('detectDrift', () => {
  it('fills the report contract: null model fields, share, dataset verdict, histograms on shared bins', () => {
    const rng = new Rng(1);
    const r = detectDrift(
      table({ a: normals(rng, 100), b: normals(rng, 100) }, { c: categories(rng, 100, { x: 0.5, y: 0.5 }) }),
      table({ a: normals(rng, 80, 3), b: normals(rng, 80) }, { c: categories(rng, 80, { x: 0.5, y: 0.5 }) }),
    );
    expect(r).toMatchObject({ model: null, version: null, windowStart: null, windowEnd: null });
    expect(r.referenceRows).toBe(100);
    expect(r.currentRows).toBe(80);
    expect(r.correction).toBe('fdr');
    expect(r.prediction).toBeNull();
    expect(r.features.map((f) => f.feature)).toEqual(['a', 'b', 'c']);
    expect(r.driftShare).toBeCloseTo(1 / 3, 12);
    expect(r.datasetDrift).toBe(false);
    const a = r.features[0];
    expect(a?.reference.edges).toEqual(a?.current.edges);
    expect(a?.reference.edges?.length).toBe(21);
    expect(a?.reference.counts.reduce((s, v) => s + v, 0)).toBe(100);
    expect(a?.current.counts.reduce((s, v) => s + v, 0)).toBe(80);
    expect(a?.counts).toEqual({ reference: 100, current: 80 });
    finiteEverywhere(r);
  });

  it('constant columns: identical constants give no drift and no NaN with every method', () => {
    const ref = table(
      { k: new Float64Array(50).fill(7), z: new Float64Array(50) },
      { c: new Array(50).fill('on') },
    );
    const cur = table(
      { k: new Float64Array(40).fill(7), z: new Float64Array(40) },
      { c: new Array(40).fill('on') },
    );
    for (const options of [
      {},
      { referenceRows: 50_000 },
      { numericMethod: 'ks' as const },
      { numericMethod: 'wasserstein' as const },
      { numericMethod: 'psi' as const, categoricalMethod: 'psi' as const },
      { numericMethod: 'jensenshannon' as const, categoricalMethod: 'jensenshannon' as const },
      { categoricalMethod: 'chisquare' as const, chiSquareMode: 'goodness-of-fit' as const },
    ]) {
      const r = detectDrift(ref, cur, options);
      finiteEverywhere(r);
      expect(
        r.features.every((f) => !f.drifted),
        JSON.stringify(options),
      ).toBe(true);
      expect(r.driftShare).toBe(0);
    }
    // a constant that moves is drift, still finite (Wasserstein divides by the 0.001 std floor)
    const moved = detectDrift(
      ref,
      table({ k: new Float64Array(40).fill(8), z: new Float64Array(40) }, { c: new Array(40).fill('on') }),
      {
        referenceRows: 50_000,
      },
    );
    finiteEverywhere(moved);
    expect(moved.features.find((f) => f.feature === 'k')?.drifted).toBe(true);
  });

  it('image tensors: constant border pixels never drift; inverted digits drift; nothing is NaN', () => {
    const rng = new Rng(2);
    const ref = columnarFromTensor(images(rng, 300), 300, [6, 6]);
    const same = columnarFromTensor(images(rng, 200), 200, [6, 6]);
    const inverted = columnarFromTensor(images(rng, 200, true), 200, [6, 6]);
    for (const referenceRows of [300, 60_000]) {
      // 20 of 36 pixels are border: a dataset threshold of 0.4 suits this image
      const a = detectDrift(ref, same, { referenceRows, driftShare: 0.4 });
      const b = detectDrift(ref, inverted, { referenceRows, driftShare: 0.4 });
      finiteEverywhere(a);
      finiteEverywhere(b);
      const border = (r: DriftReport) =>
        r.features.filter((f) => ['px_0', 'px_5', 'px_30', 'px_35'].includes(f.feature));
      expect(border(b).every((f) => !f.drifted && f.score !== null)).toBe(true);
      expect(a.datasetDrift).toBe(false);
      expect(b.datasetDrift).toBe(true);
      // 16 centre pixels of 36 drift: the share counts every column, constant ones included
      expect(b.driftShare).toBeCloseTo(16 / 36, 12);
    }
  });

  it('numeric columns with at most 5 distinct values are compared as categories (Evidently)', () => {
    const rng = new Rng(4);
    const ref = table({ n: Float64Array.from({ length: 200 }, () => rng.int(4)) });
    const cur = table({ n: Float64Array.from({ length: 100 }, () => rng.int(4)) });
    const f = detectDrift(ref, cur).features[0];
    expect(f?.kind).toBe('numeric');
    expect(f?.method).toBe('chisquare');
    expect(f?.reference.labels).toBeDefined();
    const bin = table({ n: Float64Array.from({ length: 200 }, () => rng.int(2)) });
    expect(
      detectDrift(bin, table({ n: Float64Array.from({ length: 90 }, () => rng.int(2)) })).features[0]?.method,
    ).toBe('ztest');
  });

  it('missing values are left out; an all-missing column is skipped with the reason', () => {
    const rng = new Rng(6);
    const withGaps = normals(rng, 100);
    for (let i = 0; i < 100; i += 4) withGaps[i] = NaN;
    const ref = table(
      { g: withGaps, empty: normals(rng, 100) },
      { c: categories(rng, 100, { a: 0.5, b: 0.5 }) },
    );
    const cur = table(
      { g: normals(rng, 60), empty: new Float64Array(60).fill(NaN) },
      { c: [...categories(rng, 50, { a: 0.5, b: 0.5 }), ...new Array<null>(10).fill(null)] },
    );
    const r = detectDrift(ref, cur);
    expect(r.features.map((f) => f.feature)).toEqual(['g', 'c']);
    expect(r.features[0]?.counts).toEqual({ reference: 75, current: 60 });
    expect(r.features[1]?.counts).toEqual({ reference: 100, current: 50 });
    expect(r.skipped).toEqual([{ feature: 'empty', reason: 'no values in the current data (all missing)' }]);
  });

  it('maxFeatures keeps the columns with the most reference spread and lists the rest', () => {
    const rng = new Rng(7);
    const ref = table({
      flat: new Float64Array(60).fill(1),
      wide: normals(rng, 60, 0, 5),
      narrow: normals(rng, 60, 0, 0.1),
    });
    const cur = table({
      flat: new Float64Array(60).fill(1),
      wide: normals(rng, 60, 0, 5),
      narrow: normals(rng, 60, 0, 0.1),
    });
    const r = detectDrift(ref, cur, { maxFeatures: 2 });
    expect(r.features.map((f) => f.feature)).toEqual(['wide', 'narrow']);
    expect(r.skipped?.[0]?.feature).toBe('flat');
    expect(r.skipped?.[0]?.reason).toMatch(/maxFeatures = 2/);
  });

  it('include and skip select columns; unknown names are errors naming them', () => {
    const rng = new Rng(9);
    const ref = table({ a: normals(rng, 40), b: normals(rng, 40) });
    const cur = table({ a: normals(rng, 40), b: normals(rng, 40) });
    expect(detectDrift(ref, cur, { include: ['b'] }).features.map((f) => f.feature)).toEqual(['b']);
    expect(detectDrift(ref, cur, { skip: ['a'] }).features.map((f) => f.feature)).toEqual(['b']);
    expect(() => detectDrift(ref, cur, { skip: ['zz'] })).toThrow(
      /drift\.skip: unknown column\(s\) zz; the reference has: a, b/,
    );
    expect(() => detectDrift(ref, cur, { include: ['a'], skip: ['a'] })).toThrow(/no columns left/);
  });

  it('refuses mismatched columns, too few rows and bad options with clear errors', () => {
    const rng = new Rng(10);
    const ref = table({ a: normals(rng, 40) }, { c: categories(rng, 40, { x: 1 }) });
    expect(() => detectDrift(ref, table({ a: normals(rng, 40) }))).toThrow(/lacks reference column\(s\) c/);
    expect(() =>
      detectDrift(
        ref,
        table({ a: normals(rng, 40), d: normals(rng, 40) }, { c: categories(rng, 40, { x: 1 }) }),
      ),
    ).toThrow(/column\(s\) the reference lacks: d/);
    expect(() => detectDrift(ref, table({ a: normals(rng, 40), c: normals(rng, 40) }))).toThrow(
      /column "c" is categorical in the reference but numeric in the current data/,
    );
    expect(() =>
      detectDrift(ref, table({ a: normals(rng, 10) }, { c: categories(rng, 10, { x: 1 }) })),
    ).toThrow(/current data has 10 rows; drift detection needs at least minRows = 30/);
    try {
      detectDrift(ref, ref, { thresholds: { pValue: 2 }, correction: 'holm' as 'fdr' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ModelautoError);
      expect((e as ModelautoError).code).toBe('INVALID_ARGUMENT');
      expect((e as Error).message).toMatch(/drift\.thresholds\.pValue/);
      expect((e as Error).message).toMatch(/drift\.correction/);
    }
    // a z-test forced on a column with three values
    const three = table({}, { c: categories(rng, 60, { x: 0.3, y: 0.3, z: 0.4 }) });
    expect(() => detectDrift(three, three, { categoricalMethod: 'ztest' })).toThrow(
      /"c" has 3 distinct values/,
    );
  });

  it('prediction drift: predicted classes against training labels, outside the share', () => {
    const rng = new Rng(12);
    const ref = table({ a: normals(rng, 50) });
    const cur = table({ a: normals(rng, 50) });
    const labels = new Map([
      ['0', 5000],
      ['1', 3000],
      ['2', 2000],
    ]);
    const steady = detectDrift(
      ref,
      cur,
      { referenceRows: 10_000 },
      {
        reference: labels,
        current: new Map([
          ['0', 51],
          ['1', 29],
          ['2', 20],
        ]),
      },
    );
    expect(steady.prediction?.method).toBe('jensenshannon');
    expect(steady.prediction?.drifted).toBe(false);
    const skewed = detectDrift(
      ref,
      cur,
      { referenceRows: 10_000 },
      {
        reference: labels,
        current: new Map([
          ['0', 10],
          ['1', 10],
          ['2', 80],
        ]),
      },
    );
    expect(skewed.prediction?.drifted).toBe(true);
    expect(skewed.prediction?.feature).toBe('prediction');
    expect(skewed.driftShare).toBe(steady.driftShare);
    // a small training set: chi-square
    const small = detectDrift(
      ref,
      cur,
      {},
      {
        reference: new Map([
          ['a', 300],
          ['b', 300],
        ]),
        current: new Map([
          ['a', 80],
          ['b', 20],
        ]),
      },
    );
    expect(small.prediction?.method).toBe('chisquare');
    expect(small.prediction?.drifted).toBe(true);
  });

  it('the options schema documents its defaults', () => {
    const o = DriftOptionsSchema.parse({});
    expect(o).toMatchObject({
      numericMethod: 'auto',
      categoricalMethod: 'auto',
      correction: 'fdr',
      driftShare: 0.5,
      autoReferenceLimit: 1000,
      maxUniqueForCategorical: 5,
      chiSquareMode: 'contingency',
      thresholds: { pValue: 0.05, wasserstein: 0.1, jensenshannon: 0.1, psi: 0.1 },
    });
  });
});
