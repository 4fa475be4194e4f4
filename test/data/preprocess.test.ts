import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import { loadBuiltin } from '../../src/data/builtin.js';
import { csvToDataset } from '../../src/data/csv.js';
import { fromArrays } from '../../src/data/memory.js';
import { Preprocessor, fitPreprocessor } from '../../src/data/preprocess.js';
import { splitDataset, subsetDataset } from '../../src/data/split.js';
import type { Dataset } from '../../src/data/types.js';

const CSV = [
  'size,color,weight,label',
  '1,red,10,a',
  '2,blue,NA,b',
  '3,red,30,a',
  '6,green,40,b',
  '3,NA,50,a',
].join('\n');

function table(csv = CSV): Dataset {
  return csvToDataset(csv, 'mem.csv', { label: 'label', missing: { policy: 'impute' } });
}

function rows(x: Float32Array, width: number): number[][] {
  return Array.from({ length: x.length / width }, (_, i) =>
    Array.from(x.subarray(i * width, (i + 1) * width)),
  );
}

function expectRowsClose(actual: number[][], expected: number[][]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i]?.[j] as number, 5)));
}

describe('fitPreprocessor on tables', () => {
  it('standardizes with the population std, imputes the mean and one-hot encodes categories', () => {
    const pre = fitPreprocessor(table(), {}, { missing: { policy: 'impute' } });
    // size: mean 3, population std sqrt(14/5); weight: observed mean 32.5 imputes the gap, then mean 32.5, std sqrt(875/5)
    // color: NA takes the most frequent value, red
    expect(pre.outputNames).toEqual(['size', 'color=blue', 'color=green', 'color=red', 'weight']);
    expect(pre.inputShape).toEqual([5]);
    const { x, shape } = pre.transform(table());
    expect(shape).toEqual([5, 5]);
    const sSize = Math.sqrt(14 / 5);
    const sW = Math.sqrt(875 / 5);
    expectRowsClose(rows(x, 5), [
      [(1 - 3) / sSize, 0, 0, 1, (10 - 32.5) / sW],
      [(2 - 3) / sSize, 1, 0, 0, 0],
      [0, 0, 0, 1, (30 - 32.5) / sW],
      [(6 - 3) / sSize, 0, 1, 0, (40 - 32.5) / sW],
      [0, 0, 0, 1, (50 - 32.5) / sW],
    ]);
  });

  it('supports minmax, none, median and constant imputation', () => {
    const mm = fitPreprocessor(table(), {
      numeric: 'minmax',
      impute: { numeric: 'median', categorical: 'constant' },
    });
    expect(mm.outputNames).toEqual([
      'size',
      'color=blue',
      'color=green',
      'color=missing',
      'color=red',
      'weight',
    ]);
    const row = rows(mm.transform(table()).x, 6);
    // weight: observed median 35 fills the gap -> (35 - 10) / 40
    expectRowsClose(
      [row[1] as number[], row[4] as number[]],
      [
        [0.2, 1, 0, 0, 0, 0.625],
        [0.4, 0, 0, 1, 0, 1],
      ],
    );
    const none = fitPreprocessor(table(), {
      numeric: 'none',
      impute: { numeric: 'constant', fillValue: -1 },
    });
    expect(rows(none.transform(table()).x, 5)[1]).toEqual([2, 1, 0, 0, -1]);
  });

  it('maps a zero-variance column to 0', () => {
    const ds = fromArrays({
      x: [
        [5, 1],
        [5, 2],
        [5, 3],
      ],
      y: ['a', 'b', 'a'],
    });
    for (const numeric of ['standardize', 'minmax'] as const) {
      const { x } = fitPreprocessor(ds, { numeric }).transform(ds);
      expect([x[0], x[2], x[4]]).toEqual([0, 0, 0]);
    }
  });

  it('is fitted on the training split only', () => {
    const full = fromArrays({
      x: Array.from({ length: 40 }, (_, i) => [i * i]),
      y: Array.from({ length: 40 }, (_, i) => i % 2),
    });
    const { train } = splitDataset(full, { validation: 0.2, test: 0.2, seed: 5 });
    const state = fitPreprocessor(train).toJSON();
    const col = state.kind === 'table' ? state.columns[0] : undefined;
    const trainValues =
      train.features.kind === 'table' ? Array.from(train.features.columns[0]?.values as Float64Array) : [];
    const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
    expect(col?.kind === 'numeric' && col.scaling.method === 'standardize' && col.scaling.mean).toBeCloseTo(
      mean(trainValues),
      9,
    );
    expect(mean(trainValues)).not.toBeCloseTo(mean(Array.from({ length: 40 }, (_, i) => i * i)), 0);
  });

  it('encodes unseen categories as zeros, or rejects them when asked', () => {
    const other = table('size,color,weight,label\n2,purple,20,a\n');
    const pre = fitPreprocessor(table());
    expect(rows(pre.transform(other).x, 5)[0]?.slice(1, 4)).toEqual([0, 0, 0]);
    const strict = fitPreprocessor(table(), { unknownCategory: 'error' });
    expect(() => strict.transform(other)).toThrow(
      /column "color": row 0: unknown category "purple"; known: blue, green, red/,
    );
  });

  it('checks the columns of the data it transforms', () => {
    const pre = fitPreprocessor(table());
    expect(() => pre.transform(table('size,color,label\n1,red,a\n'))).toThrow(
      /column "weight": column missing/,
    );
    expect(() => pre.transform(table('size,color,weight,extra,label\n1,red,2,3,a\n'))).toThrow(
      /column "extra": column was not seen in training/,
    );
    expect(
      pre.transform(table('size,color,weight,extra,label\n1,red,2,3,a\n'), { extraColumns: 'ignore' }).shape,
    ).toEqual([1, 5]);
    expect(() => pre.transform(table('size,color,weight,label\n1,3,2,a\n'))).toThrow(
      /column "color": expected a categorical column, got numeric/,
    );
  });

  it('transforms raw records with validation', () => {
    const pre = fitPreprocessor(table(), {}, { missing: { policy: 'impute' } });
    const fromDs = pre.transform(subsetDataset(table(), [0, 3]));
    const fromRecords = pre.transformRecords([
      { size: 1, color: 'red', weight: 10 },
      { size: '6', color: 'green', weight: 40.0 },
    ]);
    expect(fromRecords.shape).toEqual([2, 5]);
    expect(Array.from(fromRecords.x)).toEqual(Array.from(fromDs.x));
    const gap = pre.transformRecords([{ size: 1, color: null }]);
    expect(Array.from(gap.x).slice(1)).toEqual([0, 0, 1, 0]); // color -> red, weight -> mean -> 0
    expect(() => pre.transformRecords([{ size: 'big', color: 'red', weight: 1 }])).toThrow(
      'records[0].size: expected a finite number, got "big"',
    );
    expect(() => pre.transformRecords([{ size: 1, color: 'red', weight: 1, height: 2 }])).toThrow(
      'records[0].height: unknown field; expected only: size, color, weight',
    );
    expect(() => pre.transformRecords([{ size: 1, color: { a: 1 }, weight: 1 }])).toThrow(
      'records[0].color: expected a string, got an object',
    );
    expect(() => pre.transformRecords([7])).toThrow(
      'records[0]: expected an object with fields size, color, weight',
    );
    const strict = fitPreprocessor(table(), {}, { missing: { policy: 'error' } });
    expect(() => strict.transformRecords([{ size: 1, color: 'red' }])).toThrow(
      'records[0].weight: missing value',
    );
  });

  it('encodes targets as one-hot, indices or values, matching classes by name', () => {
    const pre = fitPreprocessor(table());
    expect(pre.encodeTarget(table())).toEqual({
      y: Float32Array.from([1, 0, 0, 1, 1, 0, 0, 1, 1, 0]),
      shape: [5, 2],
    });
    expect(pre.encodeTarget(table(), { classification: 'indices' })).toEqual({
      y: Int32Array.from([0, 1, 0, 1, 0]),
      shape: [5],
    });
    // a file holding only class b: its own class list is ['b'], the model's is ['a', 'b']
    expect(pre.encodeTarget(table('size,color,weight,label\n1,red,2,b\n')).y).toEqual(
      Float32Array.from([0, 1]),
    );
    expect(() => pre.encodeTarget(table('size,color,weight,label\n1,red,2,z\n'))).toThrow(
      /class "z", unknown to the model \(classes: a, b\)/,
    );
    const reg = fromArrays({ x: [[1], [2]], y: [0.5, 1.5], task: 'regression' });
    expect(fitPreprocessor(reg).encodeTarget(reg)).toEqual({
      y: Float32Array.from([0.5, 1.5]),
      shape: [2, 1],
    });
  });

  it('rejects a column with no training values for mean imputation', () => {
    const ds = table('a,b,label\n1,NA,x\n2,NA,y\n');
    expect(() => fitPreprocessor(ds)).toThrow(/column "b": column has no values in the training split/);
    expect(fitPreprocessor(ds, { impute: { numeric: 'constant', fillValue: 3 } }).inputShape).toEqual([2]);
  });
});

describe('fitPreprocessor on tensors', () => {
  it('scales pixels by 255 or standardizes with the training mean and std', async () => {
    const mnist = await loadBuiltin('mnist', { limit: 200 });
    const scaled = fitPreprocessor(mnist);
    expect(scaled.inputShape).toEqual([28, 28, 1]);
    const out = scaled.transform(mnist);
    expect(out.shape).toEqual([200, 28, 28, 1]);
    expect(out.x[14 * 28 + 14]).toBeCloseTo(240 / 255, 6);
    const std = fitPreprocessor(mnist, { pixels: 'standardize' });
    const state = std.toJSON();
    if (state.kind !== 'tensor' || state.pixels.method !== 'standardize')
      throw new Error('standardize state expected');
    const z = std.transform(mnist).x;
    let mean = 0;
    for (const v of z) mean += v;
    expect(mean / z.length).toBeCloseTo(0, 4);
    const atMean = std.transformTensor(new Array<number>(784).fill(state.pixels.mean), 1);
    expect(atMean.shape).toEqual([1, 28, 28, 1]);
    expect(Math.max(...Array.from(atMean.x, Math.abs))).toBeLessThan(1e-6);
    expect(() => std.transformTensor(new Uint8Array(10), 1)).toThrow(
      /expected 1 samples of shape \[28, 28, 1\] \(784 values\), got 10 values/,
    );
    expect(() => std.transformRecords([{}])).toThrow(/records can only be transformed for table data/);
  });
});

describe('Preprocessor JSON state', () => {
  it('round-trips through JSON and transforms identically', async () => {
    for (const ds of [table(), await loadBuiltin('mnist', { limit: 20 })]) {
      const pre = fitPreprocessor(ds, { pixels: 'standardize' }, { missing: { policy: 'impute' } });
      const restored = Preprocessor.fromJSON(JSON.parse(JSON.stringify(pre.toJSON())));
      expect(restored.toJSON()).toEqual(pre.toJSON());
      expect(Array.from(restored.transform(ds).x)).toEqual(Array.from(pre.transform(ds).x));
      expect(restored.outputNames).toEqual(pre.outputNames);
    }
  });

  it('rejects invalid or foreign state with the field path', () => {
    const state = fitPreprocessor(table()).toJSON();
    const bad = (mutate: (s: Record<string, unknown>) => void): string => {
      const copy = structuredClone(state) as unknown as Record<string, unknown>;
      mutate(copy);
      try {
        Preprocessor.fromJSON(copy);
      } catch (e) {
        expect(e).toBeInstanceOf(ModelautoError);
        return (e as Error).message;
      }
      throw new Error('expected a rejection');
    };
    expect(bad((s) => (s.version = 2))).toMatch(/preprocessor\.version: expected 1/);
    expect(bad((s) => ((s.columns as Record<string, unknown>[])[0]!.fill = 'x'))).toMatch(
      /preprocessor\.columns\[0\]\.fill/,
    );
    expect(bad((s) => (s.surprise = true))).toMatch(/preprocessor\.surprise: unknown key/);
  });
});
