import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { setNativeThreads } from '../../../src/engine/native/index.js';
import {
  countCalls,
  describeNative,
  expectSameResult,
  kernelCalls,
  randomArray,
  randomTensor,
  runBoth,
  useCpu,
} from './helpers.js';

beforeAll(useCpu);

/** Every way two rank-4 shapes can broadcast: each axis of each side is either full or 1, and b may also drop leading axes. */
function broadcastPairs(base: number[]): [number[], number[]][] {
  const pairs: [number[], number[]][] = [];
  const masked = (mask: number) => base.map((d, i) => ((mask >> i) & 1 ? 1 : d));
  for (let ma = 0; ma < 16; ma++)
    for (let mb = 0; mb < 16; mb++) {
      const b = masked(mb);
      pairs.push([masked(ma), b.slice((ma + mb) % 5)]);
    }
  pairs.push(
    [[], []],
    [base, []],
    [[], base],
    [[0, 3], [3]],
    [
      [2, 0, 3],
      [1, 1, 3],
    ],
    [[1], [7]],
  );
  return pairs;
}

const BINARY: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
  ['Add', tf.add],
  ['Sub', tf.sub],
  ['Multiply', tf.mul],
  ['RealDiv', tf.div],
  ['Maximum', tf.maximum],
  ['Minimum', tf.minimum],
  ['SquaredDifference', tf.squaredDifference],
  ['Pow', tf.pow],
  ['Equal', tf.equal],
  ['NotEqual', tf.notEqual],
  ['Less', tf.less],
  ['LessEqual', tf.lessEqual],
  ['Greater', tf.greater],
  ['GreaterEqual', tf.greaterEqual],
];

describeNative('native binary ops', () => {
  const rng = new Rng(3);

  it('match the JS kernels for every broadcasting pattern up to rank 4 (odd sizes)', () => {
    const pairs = broadcastPairs([3, 5, 2, 17]);
    // All ops share one broadcasting walker: every pattern for a few ops, a sample for the rest.
    const full = new Set(['Add', 'SquaredDifference', 'Less']);
    for (const [name, op] of BINARY) {
      for (const [k, [sa, sb]] of pairs.entries()) {
        if (!full.has(name) && k % 7 !== 0 && k < pairs.length - 6) continue;
        const lo = name === 'Pow' ? 0.1 : -2;
        const a = randomTensor(rng, sa, lo, 2);
        // small integers make Equal/Less see ties
        const b =
          name.includes('Equal') || name.startsWith('Less') || name.startsWith('Greater')
            ? tf.tensor(
                Float32Array.from(
                  randomArray(
                    rng,
                    sb.reduce((x, y) => x * y, 1),
                  ),
                  (v) => Math.round(v * 2),
                ),
                sb,
              )
            : randomTensor(rng, sb, name === 'Pow' ? -2 : -2, 2);
        expectSameResult(
          runBoth(() => op(a, b)),
          1e-4,
          `${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`,
        );
        tf.dispose([a, b]);
      }
      expect(kernelCalls(name).calls, name).toBeGreaterThan(0);
    }
  });

  it('propagate NaN and infinities like Math.max/Math.min/Math.pow', () => {
    const a = tf.tensor1d([NaN, 1, -Infinity, Infinity, 0, -0, 2, 1, -1, NaN]);
    const b = tf.tensor1d([1, NaN, 3, -Infinity, -0, 0, NaN, Infinity, -Infinity, 0]);
    for (const [name, op] of BINARY)
      expectSameResult(
        runBoth(() => op(a, b)),
        0,
        name,
      );
    tf.dispose([a, b]);
  });

  it('run large inputs on several threads', () => {
    for (const threads of [1, 2]) {
      setNativeThreads(threads);
      const a = randomTensor(rng, [300, 1001]);
      const b = randomTensor(rng, [1001]);
      const c = randomTensor(rng, [300, 1]);
      const pixels = randomTensor(rng, [20000, 16]);
      const bias = randomTensor(rng, [16]);
      expectSameResult(
        runBoth(() => [tf.add(a, b), tf.mul(a, c), tf.div(a, b), tf.less(a, c), tf.add(pixels, bias)]),
        1e-6,
        `threads ${threads}`,
      );
      tf.dispose([a, b, c, pixels, bias]);
    }
  });

  it('Prelu broadcasts alpha', () => {
    const x = randomTensor(rng, [4, 5, 3]);
    for (const shape of [[3], [5, 3], [4, 5, 3], []]) {
      const alpha = randomTensor(rng, shape);
      expectSameResult(
        runBoth(() => tf.prelu(x, alpha)),
        1e-6,
        `prelu ${shape}`,
      );
      alpha.dispose();
    }
    x.dispose();
  });

  it('leave int32 inputs to the JS kernels', () => {
    const a = tf.tensor1d([1, 2, 3], 'int32');
    let r: ReturnType<typeof runBoth> | undefined;
    expect(countCalls('Add', () => (r = runBoth(() => tf.add(a, a))))).toEqual({ calls: 0, fallbacks: 1 });
    expect(r?.native.dtypes).toEqual(['int32']);
    expect(Array.from(r?.native.values[0] ?? [])).toEqual([2, 4, 6]);
    a.dispose();
  });
});

const UNARY: [string, (x: tf.Tensor) => tf.Tensor, number, number][] = [
  ['Abs', tf.abs, -3, 3],
  ['Neg', tf.neg, -3, 3],
  ['Square', tf.square, -3, 3],
  ['Sqrt', tf.sqrt, -1, 9],
  ['Rsqrt', tf.rsqrt, -1, 9],
  ['Reciprocal', tf.reciprocal, -3, 3],
  ['Exp', tf.exp, -110, 100],
  ['Expm1', tf.expm1, -5, 5],
  ['Log', tf.log, -1, 20],
  ['Log1p', tf.log1p, -1.5, 20],
  ['Relu', tf.relu, -3, 3],
  ['Relu6', tf.relu6, -3, 9],
  ['Elu', tf.elu, -3, 3],
  ['Selu', tf.selu, -3, 3],
  ['LeakyRelu', (x) => tf.leakyRelu(x, 0.3), -3, 3],
  ['Sigmoid', tf.sigmoid, -110, 110],
  ['Tanh', tf.tanh, -10, 10],
  ['Softplus', tf.softplus, -30, 30],
  ['Step', (x) => tf.step(x, 0.25), -3, 3],
  ['Sign', tf.sign, -3, 3],
  ['Floor', tf.floor, -30, 30],
  ['Ceil', tf.ceil, -30, 30],
  ['Round', tf.round, -30, 30],
  ['ClipByValue', (x) => tf.clipByValue(x, -0.7, 0.35), -3, 3],
  ['Sin', tf.sin, -10, 10],
  ['Cos', tf.cos, -10, 10],
  ['Erf', tf.erf, -4, 4],
];

describeNative('native unary ops', () => {
  const rng = new Rng(4);

  it('match the JS kernels on odd, empty, and large sizes, with NaN and infinities', () => {
    for (const [name, op, lo, hi] of UNARY) {
      for (const n of [0, 1, 7, 33, 70001]) {
        const v = randomArray(rng, n, lo, hi);
        if (n > 10) v.set([NaN, Infinity, -Infinity, 0, -0, 0.5, -0.5, 2.5]);
        const x = tf.tensor1d(v);
        expectSameResult(
          runBoth(() => op(x)),
          1e-5,
          `${name} n=${n}`,
        );
        x.dispose();
      }
      expect(kernelCalls(name).calls, name).toBeGreaterThan(0);
      expect(kernelCalls(name).fallbacks, name).toBe(0);
    }
  });

  it('keep the shape of rank-4 inputs', () => {
    const x = randomTensor(rng, [2, 3, 1, 5]);
    const r = runBoth(() => [tf.relu(x), tf.sigmoid(x)]);
    expectSameResult(r, 1e-6);
    x.dispose();
  });

  it('AddN, Select and EluGrad match', () => {
    const a = randomTensor(rng, [3, 17]);
    const b = randomTensor(rng, [3, 17]);
    const c = randomTensor(rng, [3, 17]);
    expectSameResult(
      runBoth(() => tf.addN([a, b, c])),
      1e-6,
      'addN',
    );
    expectSameResult(
      runBoth(() => tf.where(tf.greater(a, b), a, c)),
      0,
      'select',
    );
    expect(
      countCalls('EluGrad', () =>
        expectSameResult(
          runBoth(() => tf.grad((x: tf.Tensor) => tf.elu(x).mul(c).sum())(a)),
          1e-5,
          'eluGrad',
        ),
      ),
    ).toEqual({ calls: 1, fallbacks: 0 });
    tf.dispose([a, b, c]);
  });
});
