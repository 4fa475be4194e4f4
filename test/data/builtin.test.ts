import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import { loadBuiltin } from '../../src/data/builtin.js';
import type { Dataset } from '../../src/data/types.js';
import { column, labelsOf } from './helpers.js';

function pixels(ds: Dataset): Uint8Array {
  if (ds.features.kind !== 'tensor' || !(ds.features.data instanceof Uint8Array))
    throw new Error('uint8 tensor expected');
  return ds.features.data;
}

function sum(a: Uint8Array, from = 0, to = a.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i] as number;
  return s;
}

function classCounts(ds: Dataset): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const k of ds.target.y) counts[k] = (counts[k] as number) + 1;
  return counts;
}

describe('loadBuiltin mnist', () => {
  it('loads 60000 training and 10000 test images with the published labels and pixels', async () => {
    const ds = await loadBuiltin('mnist');
    const test = ds.predefinedTest as Dataset;
    expect(ds.n).toBe(60000);
    expect(test.n).toBe(10000);
    expect(ds.features).toMatchObject({ kind: 'tensor', shape: [28, 28, 1] });
    expect(test.features).toMatchObject({ kind: 'tensor', shape: [28, 28, 1] });
    expect(ds.source).toEqual({ kind: 'builtin', location: 'mnist' });
    expect(ds.target).toMatchObject({
      kind: 'classification',
      classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    });
    expect(labelsOf(ds).slice(0, 10)).toEqual(['5', '0', '4', '1', '9', '2', '1', '3', '1', '4']);
    expect(labelsOf(test).slice(0, 10)).toEqual(['7', '2', '1', '0', '4', '1', '4', '9', '5', '9']);
    // reference values computed with numpy from the same raw files
    expect(classCounts(ds)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(classCounts(test)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    const px = pixels(ds);
    expect(px.length).toBe(60000 * 784);
    expect(sum(px, 0, 784)).toBe(27525);
    expect(sum(px, 59999 * 784)).toBe(20920);
    expect(px[14 * 28 + 14]).toBe(240);
    expect(px[5 * 28 + 12]).toBe(3);
    expect(sum(px)).toBe(1567298545);
    expect(sum(pixels(test), 0, 784)).toBe(18454);
    expect(sum(pixels(test))).toBe(264923200);
  });

  it('limits training and test rows without copying', async () => {
    const ds = await loadBuiltin('mnist', { limit: 100, testLimit: 20 });
    expect(ds.n).toBe(100);
    expect(pixels(ds).length).toBe(100 * 784);
    expect(ds.target.y.length).toBe(100);
    expect(ds.predefinedTest?.n).toBe(20);
    expect(pixels(ds.predefinedTest as Dataset).length).toBe(20 * 784);
    expect(sum(pixels(ds), 0, 784)).toBe(27525);
  });
});

describe('loadBuiltin iris', () => {
  it('loads 150 rows, 4 numeric columns and 3 balanced classes', async () => {
    const ds = await loadBuiltin('iris');
    expect(ds.n).toBe(150);
    expect(ds.features.kind === 'table' && ds.features.columns.map((c) => [c.name, c.kind])).toEqual([
      ['sepal_length', 'numeric'],
      ['sepal_width', 'numeric'],
      ['petal_length', 'numeric'],
      ['petal_width', 'numeric'],
    ]);
    expect(ds.target).toMatchObject({
      kind: 'classification',
      name: 'species',
      classes: ['setosa', 'versicolor', 'virginica'],
    });
    expect(labelsOf(ds).filter((l) => l === 'virginica')).toHaveLength(50);
    expect(Array.from(column(ds, 'sepal_length').values as Float64Array).slice(0, 2)).toEqual([5.1, 4.9]);
    expect(labelsOf(ds)[149]).toBe('virginica');
    const petal = Array.from(column(ds, 'petal_length').values as Float64Array);
    expect(petal.reduce((a, b) => a + b, 0)).toBeCloseTo(563.7, 9);
  });

  it('rejects an unknown name and lists the built-ins', async () => {
    const err = await loadBuiltin('cifar').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelautoError);
    expect((err as ModelautoError).message).toMatch(
      /unknown built-in data set "cifar"; available: mnist, iris/,
    );
  });
});
