import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import { nativeAddon, setNativeThreads } from '../../../src/engine/native/index.js';
import {
  countCalls,
  describeNative,
  expectClose,
  expectSameResult,
  kernelCalls,
  randomTensor,
  runBoth,
  useCpu,
} from './helpers.js';

beforeAll(useCpu);

describeNative('native BatchMatMul', () => {
  const rng = new Rng(1);

  it('matches the JS kernel over odd, empty and unit sizes with every transpose', () => {
    const sizes = [0, 1, 3, 7, 17, 33];
    for (const m of sizes)
      for (const n of [1, 5, 16, 19])
        for (const k of [0, 1, 9, 40])
          for (const ta of [false, true])
            for (const tb of [false, true]) {
              const a = randomTensor(rng, ta ? [k, m] : [m, k]);
              const b = randomTensor(rng, tb ? [n, k] : [k, n]);
              const r = runBoth(() => tf.matMul(a, b, ta, tb));
              expectSameResult(r, 1e-4, `m${m} n${n} k${k} ta${ta} tb${tb}`);
              tf.dispose([a, b]);
            }
    expect(kernelCalls('BatchMatMul').calls).toBeGreaterThan(0);
  });

  it('handles sizes past the cache blocks (multi-block K, M and N) on 1 and 2 threads', () => {
    for (const threads of [1, 2]) {
      setNativeThreads(threads);
      const a = randomTensor(rng, [301, 517]);
      const b = randomTensor(rng, [517, 263]);
      expectSameResult(
        runBoth(() => tf.matMul(a, b)),
        1e-4,
        `threads ${threads}`,
      );
      expectSameResult(
        runBoth(() => tf.matMul(b, a, true, true)),
        1e-4,
        `threads ${threads} transposed`,
      );
      tf.dispose([a, b]);
    }
  });

  it('gives the same products with every micro-kernel the CPU supports (AVX-512, AVX2, portable)', () => {
    const addon = nativeAddon();
    const used = new Set<string>();
    try {
      for (const cap of [0, 2, 1]) {
        used.add(addon?.setIsaCap(cap) ?? '');
        for (const [m, n, k] of [
          [1, 1, 1],
          [7, 9, 3],
          [13, 37, 300],
          [150, 70, 260],
        ] as const) {
          const a = randomTensor(rng, [m, k]);
          const b = randomTensor(rng, [n, k]);
          expectSameResult(
            runBoth(() => tf.matMul(a, b, false, true)),
            1e-4,
            `cap ${cap} ${m}x${n}x${k}`,
          );
          tf.dispose([a, b]);
        }
      }
    } finally {
      addon?.setIsaCap(0);
    }
    expect(used.has('portable')).toBe(true);
  });

  it('broadcasts batch dimensions', () => {
    const cases: [number[], number[]][] = [
      [
        [3, 4, 5],
        [3, 5, 2],
      ],
      [
        [3, 4, 5],
        [5, 2],
      ],
      [
        [4, 5],
        [3, 5, 2],
      ],
      [
        [2, 3, 4, 5],
        [3, 5, 6],
      ],
      [
        [1, 4, 5],
        [3, 5, 2],
      ],
      [
        [2, 1, 4, 5],
        [2, 1, 5, 3],
      ],
    ];
    for (const [sa, sb] of cases) {
      const a = randomTensor(rng, sa);
      const b = randomTensor(rng, sb);
      expectSameResult(
        runBoth(() => tf.matMul(a, b)),
        1e-4,
        `${sa} x ${sb}`,
      );
      tf.dispose([a, b]);
    }
  });

  it('returns an empty product for an empty batch', () => {
    // tfjs's JS kernel returns 8 values for this [0, 4, 2] result; the native one returns none.
    const a = randomTensor(rng, [0, 4, 5]);
    const b = randomTensor(rng, [5, 2]);
    const { native } = runBoth(() => tf.matMul(a, b));
    expect(native.shapes[0]).toEqual([0, 4, 2]);
    expect(native.values[0]?.length).toBe(0);
    tf.dispose([a, b]);
  });

  it('broadcasts [2,1] against [1,3] batches the NumPy way', () => {
    // tfjs's JS kernel picks batches modulo their count here; compare with explicit tiling.
    const a = randomTensor(rng, [2, 1, 4, 5]);
    const b = randomTensor(rng, [1, 3, 5, 2]);
    const r = runBoth(() => tf.matMul(tf.tile(a, [1, 3, 1, 1]), tf.tile(b, [2, 1, 1, 1])));
    const native = runBoth(() => tf.matMul(a, b)).native;
    expect(native.shapes[0]).toEqual([2, 3, 4, 2]);
    expectClose(native.values[0] ?? [], r.js.values[0] ?? [], 1e-4);
    tf.dispose([a, b]);
  });

  it('falls back to the JS kernel for int32', () => {
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
    let r: ReturnType<typeof runBoth> | undefined;
    expect(countCalls('BatchMatMul', () => (r = runBoth(() => tf.matMul(a, a))))).toEqual({
      calls: 0,
      fallbacks: 1,
    });
    expect(r?.native.values[0]).toEqual(r?.js.values[0]);
    expect(r?.native.dtypes[0]).toBe('int32');
    a.dispose();
  });

  it('rejects out-of-range parameters in the addon instead of reading past the array', () => {
    const addon = nativeAddon();
    expect(addon).toBeDefined();
    const p = new Float64Array([1, 4, 4, 4, 4, 1, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() =>
      addon?.matmul(new Float32Array(8), new Float32Array(16), new Float32Array(16), p, null, null),
    ).toThrow(/out of range/);
  });
});

describeNative('native _FusedMatMul', () => {
  const rng = new Rng(2);
  const acts = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;

  it('fuses bias and every activation with broadcasting bias shapes', () => {
    const m = 13;
    const n = 21;
    const k = 11;
    const biasShapes = [[n], [1, n], [m, 1], [], [m, n]];
    for (const act of acts)
      for (const bs of biasShapes)
        for (const tb of [false, true]) {
          const a = randomTensor(rng, [m, k]);
          const b = randomTensor(rng, tb ? [n, k] : [k, n]);
          const bias = randomTensor(rng, bs);
          const prelu = act === 'prelu' ? randomTensor(rng, [n]) : undefined;
          const r = runBoth(() =>
            tf.fused.matMul({
              a,
              b,
              transposeB: tb,
              bias,
              activation: act,
              ...(prelu ? { preluActivationWeights: prelu } : {}),
              ...(act === 'leakyrelu' ? { leakyreluAlpha: 0.15 } : {}),
            }),
          );
          expectSameResult(r, 1e-4, `${act} bias ${JSON.stringify(bs)} tb ${tb}`);
          tf.dispose([a, b, bias, ...(prelu ? [prelu] : [])]);
        }
    expect(kernelCalls('_FusedMatMul').calls).toBeGreaterThan(0);
    expect(kernelCalls('_FusedMatMul').fallbacks).toBe(0);
  });

  it('handles batched fused products, M = 1 and N = 1', () => {
    for (const [sa, sb, sbias] of [
      [
        [3, 7, 5],
        [3, 5, 9],
        [3, 1, 9],
      ],
      [[1, 40], [40, 30], [30]],
      [[40, 30], [30, 1], [1]],
    ] as const) {
      const a = randomTensor(rng, [...sa]);
      const b = randomTensor(rng, [...sb]);
      const bias = randomTensor(rng, [...sbias]);
      expectSameResult(
        runBoth(() => tf.fused.matMul({ a, b, bias, activation: 'relu' })),
        1e-4,
        `${sa}`,
      );
      tf.dispose([a, b, bias]);
    }
  });

  it('matches the gradient of a fused dense layer', () => {
    const x = randomTensor(rng, [9, 6]);
    const w = randomTensor(rng, [6, 5]);
    const bias = randomTensor(rng, [5]);
    const r = runBoth(() => {
      const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        tf.fused.matMul({ a: xx as tf.Tensor2D, b: ww as tf.Tensor2D, bias: bb, activation: 'relu' }).sum(),
      );
      return g([x, w, bias]);
    });
    expectSameResult(r, 1e-4, 'grads');
    tf.dispose([x, w, bias]);
  });
});
