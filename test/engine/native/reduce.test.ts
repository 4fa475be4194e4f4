import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { describeNative, expectSameResult, kernelCalls, randomTensor, runBoth, useCpu } from './helpers.js';

beforeAll(useCpu);

function subsets(rank: number): number[][] {
  const out: number[][] = [];
  for (let m = 1; m < 1 << rank; m++) out.push([...Array(rank).keys()].filter((i) => (m >> i) & 1));
  return out;
}

describeNative('native reductions', () => {
  const rng = new Rng(5);
  const ops: [string, (x: tf.Tensor, axis: number[], keep: boolean) => tf.Tensor][] = [
    ['Sum', (x, a, k) => tf.sum(x, a, k)],
    ['Mean', (x, a, k) => tf.mean(x, a, k)],
    ['Max', (x, a, k) => tf.max(x, a, k)],
    ['Min', (x, a, k) => tf.min(x, a, k)],
    ['Prod', (x, a, k) => tf.prod(x, a, k)],
  ];

  it('match the JS kernels over every axis subset of a rank-4 tensor, with keepDims', () => {
    const x = randomTensor(rng, [3, 1, 5, 7], 0.5, 1.5);
    for (const [name, op] of ops) {
      for (const axes of subsets(4))
        for (const keep of [false, true])
          expectSameResult(
            runBoth(() => op(x, axes, keep)),
            1e-5,
            `${name} ${axes} ${keep}`,
          );
      expectSameResult(
        runBoth(() => op(x, [-1], false)),
        1e-5,
        `${name} -1`,
      );
      expect(kernelCalls(name).calls, name).toBeGreaterThan(0);
      expect(kernelCalls(name).fallbacks, name).toBe(0);
    }
    x.dispose();
  });

  it('reduce all axes by default and handle long rows and columns', () => {
    const x = randomTensor(rng, [1003, 517]);
    for (const [name, op] of ops.slice(0, 4)) {
      expectSameResult(
        runBoth(() => [op(x, [0], false), op(x, [1], false)]),
        1e-5,
        name,
      );
    }
    expectSameResult(
      runBoth(() => [tf.sum(x), tf.mean(x), tf.max(x), tf.min(x)]),
      1e-5,
      'all',
    );
    // the long-axis split path: few outputs over many rows, with a NaN in one thread's half
    const v = x.dataSync().slice();
    v[700 * 517 + 3] = NaN;
    const withNaN = tf.tensor(v, [1003, 517]);
    expectSameResult(
      runBoth(() => [
        tf.max(withNaN, 0),
        tf.min(withNaN, 0),
        tf.max(withNaN),
        tf.sum(withNaN, 0),
        tf.prod(x.slice([0, 0], [40, 517]), 0),
      ]),
      1e-5,
      'split',
    );
    x.dispose();
    withNaN.dispose();
  });

  it('propagate NaN in Max/Min and handle empty reductions', () => {
    const x = tf.tensor2d([1, NaN, 3, 4, 5, 6], [2, 3]);
    expectSameResult(
      runBoth(() => [tf.max(x, 1), tf.min(x, 1), tf.max(x, 0), tf.argMax(x, 1), tf.argMin(x, 0)]),
      0,
      'nan',
    );
    const e = tf.zeros([3, 0]);
    expectSameResult(
      runBoth(() => [tf.sum(e, 1), tf.mean(e, 1), tf.prod(e, 1), tf.sum(e, 0)]),
      0,
      'empty',
    );
    tf.dispose([x, e]);
  });

  it('ArgMax/ArgMin pick the first extreme on every axis', () => {
    const x = tf.tensor(
      Float32Array.from({ length: 3 * 4 * 5 }, (_, i) => (i * 7) % 5),
      [3, 4, 5],
    );
    for (const axis of [0, 1, 2, -1])
      expectSameResult(
        runBoth(() => [tf.argMax(x, axis), tf.argMin(x, axis)]),
        0,
        `axis ${axis}`,
      );
    expect(kernelCalls('ArgMax').calls).toBeGreaterThan(0);
    x.dispose();
  });
});

describeNative('native Softmax', () => {
  const rng = new Rng(6);
  it('matches the JS kernel, including large logits and odd row lengths', () => {
    for (const shape of [
      [1, 1],
      [5, 3],
      [128, 10],
      [7, 1031],
      [2, 3, 17],
    ]) {
      const x = randomTensor(rng, shape, -60, 60);
      expectSameResult(
        runBoth(() => tf.softmax(x)),
        1e-5,
        `${shape}`,
      );
      x.dispose();
    }
    expect(kernelCalls('Softmax').calls).toBeGreaterThan(0);
  });
});
