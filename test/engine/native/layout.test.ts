import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { simplifyPermutation } from '../../../src/engine/native/kernels/layout.js';
import {
  countCalls,
  describeNative,
  expectSameResult,
  kernelCalls,
  randomTensor,
  runBoth,
  useCpu,
} from './helpers.js';

beforeAll(useCpu);

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) =>
    Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]),
  );
}

it('simplifyPermutation merges axes that stay adjacent and drops unit axes', () => {
  expect(simplifyPermutation([2, 3, 4, 5], [2, 3, 0, 1])).toEqual({ shape: [6, 20], perm: [1, 0] });
  expect(simplifyPermutation([2, 1, 4], [2, 1, 0])).toEqual({ shape: [2, 4], perm: [1, 0] });
  expect(simplifyPermutation([2, 3, 4], [0, 1, 2])).toEqual({ shape: [24], perm: [0] });
});

describeNative('native Transpose', () => {
  const rng = new Rng(7);
  it('matches the JS kernel for every permutation of a rank-4 tensor, float32 and int32', () => {
    const x = randomTensor(rng, [3, 1, 5, 7]);
    const xi = tf.tensor(
      Int32Array.from({ length: 105 }, (_, i) => i * 3 - 50),
      [3, 1, 5, 7],
      'int32',
    );
    for (const perm of permutations(4))
      expectSameResult(
        runBoth(() => [tf.transpose(x, perm), tf.transpose(xi, perm)]),
        0,
        `${perm}`,
      );
    expect(kernelCalls('Transpose').calls).toBeGreaterThan(0);
    tf.dispose([x, xi]);
  });

  it('transposes large matrices and empty tensors', () => {
    const x = randomTensor(rng, [301, 517]);
    const y = randomTensor(rng, [3, 67, 129]);
    const e = tf.zeros([0, 3]);
    expectSameResult(
      runBoth(() => [
        tf.transpose(x),
        tf.transpose(y, [0, 2, 1]),
        tf.transpose(y, [2, 0, 1]),
        tf.transpose(e),
      ]),
      0,
    );
    tf.dispose([x, y, e]);
  });
});

describeNative('native GatherV2', () => {
  const rng = new Rng(8);
  it('matches the JS kernel on every axis, with batchDims and int32 values', () => {
    const x = randomTensor(rng, [4, 5, 6]);
    const xi = tf.tensor(
      Int32Array.from({ length: 120 }, (_, i) => i),
      [4, 5, 6],
      'int32',
    );
    const idx = tf.tensor1d([3, 0, 3, 1], 'int32');
    const idx2 = tf.tensor2d([0, 2, 1, 1, 0, 0, 2, 3], [4, 2], 'int32');
    for (const axis of [0, 1, 2, -1])
      expectSameResult(
        runBoth(() => [tf.gather(x, idx, axis), tf.gather(xi, idx, axis)]),
        0,
        `axis ${axis}`,
      );
    expectSameResult(
      runBoth(() => tf.gather(x, idx2, 1, 1)),
      0,
      'batchDims 1',
    );
    expectSameResult(
      runBoth(() => tf.gather(x, idx2, 0)),
      0,
      '2-d indices',
    );
    expect(kernelCalls('GatherV2').calls).toBeGreaterThan(0);
    tf.dispose([x, xi, idx, idx2]);
  });

  it('gathers the int32 one-hot rows that model.fit slices (stored by tfjs as floats)', () => {
    const y = tf.oneHot(tf.tensor1d([2, 0, 1, 2], 'int32'), 3);
    const idx = tf.tensor1d([3, 1], 'int32');
    let r: ReturnType<typeof runBoth> | undefined;
    expect(countCalls('GatherV2', () => (r = runBoth(() => tf.gather(y, idx))))).toEqual({
      calls: 1,
      fallbacks: 0,
    });
    expect(r?.native.dtypes).toEqual(['int32']);
    expect(r?.native.values[0]).toBeInstanceOf(Int32Array);
    expect(Array.from(r?.native.values[0] ?? [])).toEqual(Array.from(r?.js.values[0] ?? []));
    tf.dispose([y, idx]);
  });

  it('reports out-of-range indices with tfjs error', () => {
    const x = randomTensor(rng, [4, 5]);
    const bad = tf.tensor1d([1, 4], 'int32');
    expect(() => runBoth(() => tf.gather(x, bad))).toThrow(/GatherV2: the index value 4 is not in \[0, 3\]/);
    expect(kernelCalls('GatherV2').fallbacks).toBe(0);
    tf.dispose([x, bad]);
  });
});
