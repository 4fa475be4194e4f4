import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import { loadBuiltin } from '../../src/data/builtin.js';
import { fromArrays } from '../../src/data/memory.js';
import { allocate, headDataset, splitDataset, subsetDataset } from '../../src/data/split.js';
import type { Dataset } from '../../src/data/types.js';
import { column, labelsOf } from './helpers.js';

/** n rows whose only feature is the row number, so splits can be traced back. */
function numbered(labels: (string | number)[]): Dataset {
  return fromArrays({ x: labels.map((_, i) => [i]), y: labels, featureNames: ['row'] });
}

function rows(ds: Dataset): number[] {
  return Array.from(column(ds, 'row').values as Float64Array);
}

function classCounts(ds: Dataset): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of labelsOf(ds)) out[l] = (out[l] ?? 0) + 1;
  return out;
}

describe('subsetDataset / headDataset', () => {
  it('copies the chosen rows of table and tensor data in order', () => {
    const ds = numbered(['a', 'b', 'c', 'd']);
    const sub = subsetDataset(ds, [3, 1]);
    expect(sub.n).toBe(2);
    expect(rows(sub)).toEqual([3, 1]);
    expect(labelsOf(sub)).toEqual(['d', 'b']);
    const t = fromArrays({ x: { data: Float32Array.from([0, 0, 1, 1, 2, 2]), shape: [3, 2] }, y: [0, 1, 2] });
    const ts = subsetDataset(t, [2, 0]);
    expect(ts.features.kind === 'tensor' && Array.from(ts.features.data)).toEqual([2, 2, 0, 0]);
    expect(() => subsetDataset(ds, [4])).toThrow(/row index 4 out of range for a data set of 4 rows/);
  });

  it('takes the first rows', () => {
    const ds = numbered(['a', 'b', 'c']);
    expect(rows(headDataset(ds, 2))).toEqual([0, 1]);
    expect(headDataset(ds, 10).n).toBe(3);
  });
});

describe('splitDataset', () => {
  const labels = Array.from({ length: 100 }, (_, i) => (i < 60 ? 'a' : i < 90 ? 'b' : 'c'));

  it('sizes splits by rounding up each held-out fraction and covers every row once', () => {
    const ds = numbered(labels);
    const s = splitDataset(ds, { validation: 0.15, test: 0.2, seed: 1 });
    expect([s.train.n, s.validation.n, s.test.n]).toEqual([65, 15, 20]);
    const all = [...rows(s.train), ...rows(s.validation), ...rows(s.test)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const odd = splitDataset(numbered(labels.slice(0, 33)), { validation: 0.1, test: 0.1, stratify: false });
    expect([odd.train.n, odd.validation.n, odd.test.n]).toEqual([25, 4, 4]);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const ds = numbered(labels);
    const a = splitDataset(ds, { seed: 7 });
    const b = splitDataset(ds, { seed: 7 });
    const c = splitDataset(ds, { seed: 8 });
    expect(rows(a.test)).toEqual(rows(b.test));
    expect(rows(a.train)).toEqual(rows(b.train));
    expect(rows(a.test)).not.toEqual(rows(c.test));
  });

  it('keeps class proportions when stratified', () => {
    const s = splitDataset(numbered(labels), { validation: 0.1, test: 0.2, seed: 3 });
    expect(classCounts(s.test)).toEqual({ a: 12, b: 6, c: 2 });
    expect(classCounts(s.validation)).toEqual({ a: 6, b: 3, c: 1 });
    expect(classCounts(s.train)).toEqual({ a: 42, b: 21, c: 7 });
  });

  it('keeps every class with two or more rows in train', () => {
    const tiny = numbered(['a', 'a', 'a', 'a', 'a', 'a', 'b', 'b', 'c']);
    for (let seed = 0; seed < 20; seed++) {
      const s = splitDataset(tiny, { validation: 0.2, test: 0.3, seed });
      expect(Object.keys(classCounts(s.train)).sort()).toEqual(['a', 'b', 'c']);
      expect(s.train.n + s.validation.n + s.test.n).toBe(9);
    }
  });

  it('allocates held-out rows like StratifiedShuffleSplit, within caps', () => {
    expect(allocate([60, 30, 10], 20, [59, 29, 9])).toEqual([12, 6, 2]);
    expect(allocate([5, 3, 2], 3, [4, 2, 1])).toEqual([1, 1, 1]);
    expect(allocate([3, 3, 3], 2, [2, 2, 2])).toEqual([1, 1, 0]);
    expect(allocate([5, 1], 2, [4, 0])).toEqual([2, 0]);
    expect(() => allocate([2, 2], 3, [1, 1])).toThrow(/cannot stratify/);
  });

  it('allows validation 0 and test 0 (empty splits)', () => {
    const s = splitDataset(numbered(labels), { validation: 0, test: 0 });
    expect([s.train.n, s.validation.n, s.test.n]).toEqual([100, 0, 0]);
  });

  it('uses a predefined test set and carves validation from the rest', async () => {
    const mnist = await loadBuiltin('mnist', { limit: 1000, testLimit: 300 });
    const s = splitDataset(mnist, { validation: 0.1, test: 0.5 });
    expect(s.test).toBe(mnist.predefinedTest);
    expect([s.train.n, s.validation.n, s.test.n]).toEqual([900, 100, 300]);
    expect(s.train.predefinedTest).toBeUndefined();
  });

  it('rejects fractions summing to 1 or more and splits that leave train empty', () => {
    const ds = numbered(labels);
    expect(() => splitDataset(ds, { validation: 0.5, test: 0.5 })).toThrow(/must sum to < 1/);
    expect(() => splitDataset(numbered(['a', 'b']), { validation: 0.1, test: 0.1 })).toThrow(
      /2 rows are too few to split: validation 1 \+ test 1 leave no training rows/,
    );
    const err = (() => {
      try {
        splitDataset(ds, { validation: 1.5 });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ModelautoError);
    expect((err as ModelautoError).message).toBe('split.validation: expected number <= 0.9');
  });

  it('splits regression data without stratification', () => {
    const ds = fromArrays({
      x: Array.from({ length: 20 }, (_, i) => [i]),
      y: Array.from({ length: 20 }, (_, i) => i / 2),
      task: 'regression',
    });
    const s = splitDataset(ds, { validation: 0.25, test: 0.25 });
    expect([s.train.n, s.validation.n, s.test.n]).toEqual([10, 5, 5]);
    expect(s.test.target.kind).toBe('regression');
  });
});
