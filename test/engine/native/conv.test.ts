import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import {
  installNativeKernels,
  nativeAddon,
  setNativeThreads,
  uninstallNativeKernels,
} from '../../../src/engine/native/index.js';
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

type Pad =
  'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
interface Case {
  x: [number, number, number, number];
  f: [number, number];
  outC: number;
  stride: number | [number, number];
  pad: Pad;
  dilation?: number | [number, number];
}

const CASES: Case[] = [
  { x: [2, 7, 9, 3], f: [3, 3], outC: 5, stride: 1, pad: 'same' },
  { x: [2, 7, 9, 3], f: [3, 3], outC: 5, stride: 1, pad: 'valid' },
  { x: [1, 8, 8, 4], f: [3, 3], outC: 17, stride: 2, pad: 'same' },
  { x: [3, 9, 7, 2], f: [2, 5], outC: 3, stride: [2, 1], pad: 'valid' },
  { x: [2, 6, 6, 5], f: [1, 1], outC: 7, stride: 1, pad: 'valid' },
  { x: [2, 6, 6, 5], f: [1, 1], outC: 7, stride: 2, pad: 'same' },
  { x: [1, 5, 6, 3], f: [3, 3], outC: 4, stride: 1, pad: 1 },
  {
    x: [1, 5, 6, 3],
    f: [3, 2],
    outC: 4,
    stride: 1,
    pad: [
      [0, 0],
      [2, 1],
      [0, 1],
      [0, 0],
    ],
  },
  { x: [2, 11, 10, 3], f: [3, 3], outC: 6, stride: 3, pad: 'same' },
  { x: [1, 1, 1, 1], f: [1, 1], outC: 1, stride: 1, pad: 'valid' },
];
const DILATED: Case[] = [
  { x: [2, 9, 10, 3], f: [3, 3], outC: 4, stride: 1, pad: 'same', dilation: 2 },
  { x: [1, 9, 10, 2], f: [2, 3], outC: 3, stride: 1, pad: 'valid', dilation: [2, 3] },
];

function label(c: Case): string {
  return JSON.stringify(c);
}

describeNative('native Conv2D and FusedConv2D', () => {
  const rng = new Rng(11);

  it('match the JS kernels over strides, paddings, dilations and odd channel counts', () => {
    for (const c of [...CASES, ...DILATED]) {
      const x = randomTensor(rng, c.x);
      const w = randomTensor(rng, [c.f[0], c.f[1], c.x[3], c.outC]);
      expectSameResult(
        runBoth(() =>
          tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation ?? 1),
        ),
        1e-4,
        label(c),
      );
      tf.dispose([x, w]);
    }
    expect(kernelCalls('Conv2D').calls).toBeGreaterThan(0);
    expect(kernelCalls('Conv2D').fallbacks).toBe(0);
  });

  it('fuse bias and activations', () => {
    const x = randomTensor(rng, [2, 6, 7, 3]);
    const w = randomTensor(rng, [3, 3, 3, 5]);
    for (const activation of ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const)
      for (const biasShape of [[5], [1], [1, 1, 1, 5]]) {
        const bias = randomTensor(rng, biasShape);
        const prelu = activation === 'prelu' ? randomTensor(rng, [5]) : undefined;
        const r = runBoth(() =>
          tf.fused.conv2d({
            x: x as tf.Tensor4D,
            filter: w as tf.Tensor4D,
            strides: 1,
            pad: 'same',
            bias,
            activation,
            ...(prelu ? { preluActivationWeights: prelu } : {}),
            ...(activation === 'leakyrelu' ? { leakyreluAlpha: 0.1 } : {}),
          }),
        );
        expectSameResult(r, 1e-4, `${activation} ${biasShape}`);
        tf.dispose([bias, ...(prelu ? [prelu] : [])]);
      }
    expect(kernelCalls('FusedConv2D').calls).toBeGreaterThan(0);
    expect(kernelCalls('FusedConv2D').fallbacks).toBe(0);
    tf.dispose([x, w]);
  });

  it('falls back for NCHW', () => {
    const x = randomTensor(rng, [1, 2, 5, 5]);
    const w = randomTensor(rng, [3, 3, 2, 4]);
    // tfjs's cpu kernel supports NCHW; the native one hands it over
    let r: ReturnType<typeof runBoth> | undefined;
    expect(
      countCalls(
        'Conv2D',
        () => (r = runBoth(() => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same', 'NCHW'))),
      ),
    ).toEqual({
      calls: 0,
      fallbacks: 1,
    });
    if (r) expectSameResult(r, 1e-5);
    tf.dispose([x, w]);
  });
});

describeNative('native convolution gradients', () => {
  const rng = new Rng(12);

  it('Conv2DBackpropInput/Filter match the JS kernels', () => {
    for (const threads of [1, 2]) {
      setNativeThreads(threads);
      for (const c of CASES) {
        const x = randomTensor(rng, c.x);
        const w = randomTensor(rng, [c.f[0], c.f[1], c.x[3], c.outC]);
        const r = runBoth(() => {
          const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor) =>
            tf
              .conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, c.stride, c.pad)
              .square()
              .sum(),
          );
          return g([x, w]);
        });
        expectSameResult(r, 1e-4, `threads ${threads} ${label(c)}`);
        tf.dispose([x, w]);
      }
    }
    expect(kernelCalls('Conv2DBackpropInput').calls).toBeGreaterThan(0);
    expect(kernelCalls('Conv2DBackpropFilter').calls).toBeGreaterThan(0);
    expect(kernelCalls('Conv2DBackpropFilter').fallbacks).toBe(0);
  });

  it('conv2dTranspose (Conv2DBackpropInput as a forward op) matches', () => {
    const x = randomTensor(rng, [2, 4, 5, 6]);
    const w = randomTensor(rng, [3, 3, 3, 6]);
    for (const [stride, pad] of [
      [1, 'same'],
      [2, 'same'],
      [2, 'valid'],
    ] as const) {
      const outShape: [number, number, number, number] =
        pad === 'same' ? [2, 4 * stride, 5 * stride, 3] : [2, (4 - 1) * stride + 3, (5 - 1) * stride + 3, 3];
      expectSameResult(
        runBoth(() => tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, outShape, stride, pad)),
        1e-4,
      );
    }
    tf.dispose([x, w]);
  });

  it('gradients agree with finite differences (the convolution is linear)', () => {
    const x = randomTensor(rng, [1, 5, 4, 2]);
    const w = randomTensor(rng, [3, 2, 2, 3]);
    const probe = randomTensor(rng, [1, 3, 4, 3]);
    const loss = (xx: tf.Tensor, ww: tf.Tensor): tf.Scalar =>
      tf
        .conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, [2, 1], 'same')
        .mul(probe)
        .sum();
    const { native } = runBoth(() => tf.grads(loss)([x, w]));
    for (const [k, t] of [x, w].entries()) {
      const base = Float32Array.from(t.dataSync());
      const numeric = new Float32Array(base.length);
      for (let i = 0; i < base.length; i++) {
        const plus = base.slice();
        const minus = base.slice();
        plus[i] = (plus[i] ?? 0) + 0.5;
        minus[i] = (minus[i] ?? 0) - 0.5;
        const f = (v: Float32Array): number =>
          tf.tidy(() => {
            const args = [x, w].map((o, j) => (j === k ? tf.tensor(v, t.shape) : o));
            return loss(args[0] as tf.Tensor, args[1] as tf.Tensor).dataSync()[0] ?? 0;
          });
        numeric[i] = f(plus) - f(minus);
      }
      expectClose(native.values[k] ?? new Float32Array(0), numeric, 1e-4, 1e-4, `input ${k}`);
    }
    tf.dispose([x, w, probe]);
  });
});

/**
 * Shapes that take the direct (no im2col) convolution paths: 1-channel inputs (adjacent pixels),
 * output channels that fill one or two vectors or leave a tail, padding, strides, dilation, and
 * sizes large enough to be split over threads.
 */
const DIRECT: Case[] = [
  { x: [3, 12, 11, 1], f: [3, 3], outC: 16, stride: 1, pad: 'valid' },
  { x: [2, 12, 11, 1], f: [3, 3], outC: 20, stride: 1, pad: 'same' },
  { x: [2, 9, 10, 16], f: [3, 3], outC: 32, stride: 1, pad: 'valid' },
  { x: [2, 9, 10, 5], f: [3, 3], outC: 40, stride: 2, pad: 'same' },
  { x: [3, 14, 13, 8], f: [3, 3], outC: 32, stride: 1, pad: 'same' },
  {
    x: [2, 8, 9, 24],
    f: [1, 3],
    outC: 33,
    stride: 1,
    pad: [
      [0, 0],
      [1, 0],
      [2, 1],
      [0, 0],
    ],
  },
  { x: [1, 13, 12, 3], f: [5, 5], outC: 7, stride: 1, pad: 'same', dilation: 2 },
];

describeNative('direct convolutions on every instruction set', () => {
  const rng = new Rng(15);

  it('forward and both gradients match the JS kernels (portable, AVX2 and AVX-512 builds; 1 and 2 threads)', () => {
    const addon = nativeAddon();
    const used = new Set<string>();
    const before = ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'].map((k) => kernelCalls(k));
    try {
      for (const c of DIRECT) {
        const x = randomTensor(rng, c.x);
        const w = randomTensor(rng, [c.f[0], c.f[1], c.x[3], c.outC]);
        const dilated = c.dilation !== undefined;
        const run = (): tf.Tensor[] => {
          const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation ?? 1);
          // tfjs's JS gradient kernels do not support dilation
          if (dilated) return [y];
          const [gx, gw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) =>
            tf
              .conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, c.stride, c.pad)
              .square()
              .sum(),
          )([x, w]);
          return [y, gx as tf.Tensor, gw as tf.Tensor];
        };
        // the JS result once, then the native one on every instruction set and thread count
        const { js } = runBoth(run);
        for (const cap of [0, 2, 1]) {
          used.add(addon?.setIsaCap(cap) ?? '');
          for (const threads of [1, 2]) {
            setNativeThreads(threads);
            const native = tf.tidy(run);
            expectSameResult(
              {
                js,
                native: {
                  shapes: native.map((t) => t.shape),
                  dtypes: native.map((t) => t.dtype),
                  values: native.map((t) => (t.dataSync() as Float32Array).slice()),
                },
              },
              1e-4,
              `cap ${cap} threads ${threads} ${label(c)}`,
            );
            tf.dispose(native);
          }
        }
        tf.dispose([x, w]);
      }
    } finally {
      addon?.setIsaCap(0);
      setNativeThreads(2);
    }
    expect(used.has('portable')).toBe(true);
    ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'].forEach((k, i) => {
      const after = kernelCalls(k);
      expect(after.fallbacks - (before[i]?.fallbacks ?? 0), k).toBe(0);
      expect(after.calls - (before[i]?.calls ?? 0), k).toBeGreaterThan(0);
    });
  });

  it('fuse bias and relu into the direct forward pass', () => {
    const x = randomTensor(rng, [2, 12, 11, 1]);
    const w = randomTensor(rng, [3, 3, 1, 20]);
    const bias = randomTensor(rng, [20]);
    expectSameResult(
      runBoth(() =>
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: w as tf.Tensor4D,
          strides: 1,
          pad: 'same',
          bias,
          activation: 'relu',
        }),
      ),
      1e-4,
    );
    tf.dispose([x, w, bias]);
  });
});

describeNative('native depthwise convolutions', () => {
  const rng = new Rng(13);

  it('forward, fused and both gradients match the JS kernels', () => {
    const cases: [Case, number][] = [
      [CASES[0] as Case, 1],
      [CASES[2] as Case, 2],
      [CASES[3] as Case, 3],
      [CASES[6] as Case, 1],
      [CASES[7] as Case, 2],
    ];
    for (const [c, mult] of cases) {
      const x = randomTensor(rng, c.x);
      const w = randomTensor(rng, [c.f[0], c.f[1], c.x[3], mult]);
      const bias = randomTensor(rng, [c.x[3] * mult]);
      const r = runBoth(() => {
        const fwd = tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad);
        const fusedPad = Array.isArray(c.pad) ? 'same' : c.pad;
        const fused = tf.fused.depthwiseConv2d({
          x: x as tf.Tensor4D,
          filter: w as tf.Tensor4D,
          strides: c.stride,
          pad: fusedPad,
          bias,
          activation: 'relu',
        });
        const [gx, gw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) =>
          tf
            .depthwiseConv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, c.stride, c.pad)
            .square()
            .sum(),
        )([x, w]);
        return [fwd, fused, gx as tf.Tensor, gw as tf.Tensor];
      });
      expectSameResult(r, 1e-4, `${label(c)} x${mult}`);
      tf.dispose([x, w, bias]);
    }
    const x = randomTensor(rng, [1, 9, 9, 3]);
    const w = randomTensor(rng, [3, 3, 3, 2]);
    expectSameResult(
      runBoth(() => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same', 'NHWC', 2)),
      1e-4,
      'dilated',
    );
    tf.dispose([x, w]);
    for (const k of [
      'DepthwiseConv2dNative',
      'FusedDepthwiseConv2D',
      'DepthwiseConv2dNativeBackpropInput',
      'DepthwiseConv2dNativeBackpropFilter',
    ])
      expect(kernelCalls(k).calls, k).toBeGreaterThan(0);
  });
});

describeNative('native pooling', () => {
  const rng = new Rng(14);
  const pools: {
    f: number | [number, number];
    s: number | [number, number];
    pad: 'same' | 'valid' | number;
  }[] = [
    { f: 2, s: 2, pad: 'valid' },
    { f: 3, s: 2, pad: 'same' },
    { f: [3, 2], s: [1, 2], pad: 'valid' },
    { f: 3, s: 1, pad: 'same' },
    { f: 2, s: 2, pad: 'same' },
    { f: 3, s: 1, pad: 1 },
  ];

  it('MaxPool/AvgPool and their gradients match the JS kernels', () => {
    for (const shape of [
      [2, 7, 9, 3],
      [1, 8, 8, 17],
      [3, 5, 4, 1],
    ] as const) {
      for (const p of pools) {
        const x = randomTensor(rng, [...shape]);
        const r = runBoth(() => {
          const [gm] = tf.grads((xx: tf.Tensor) =>
            tf
              .maxPool(xx as tf.Tensor4D, p.f, p.s, p.pad)
              .square()
              .sum(),
          )([x]);
          const [ga] = tf.grads((xx: tf.Tensor) =>
            tf
              .avgPool(xx as tf.Tensor4D, p.f, p.s, p.pad)
              .square()
              .sum(),
          )([x]);
          return [
            tf.maxPool(x as tf.Tensor4D, p.f, p.s, p.pad),
            tf.avgPool(x as tf.Tensor4D, p.f, p.s, p.pad),
            gm as tf.Tensor,
            ga as tf.Tensor,
          ];
        });
        expectSameResult(r, 1e-5, `${shape} ${JSON.stringify(p)}`);
        x.dispose();
      }
    }
    for (const k of ['MaxPool', 'AvgPool', 'MaxPoolGrad', 'AvgPoolGrad']) {
      expect(kernelCalls(k).calls, k).toBeGreaterThan(0);
      expect(kernelCalls(k).fallbacks, k).toBe(0);
    }
  });

  it('max pooling and its gradient agree on every instruction set (vector and scalar channel paths)', () => {
    const addon = nativeAddon();
    try {
      for (const shape of [
        [2, 8, 9, 16],
        [2, 7, 9, 3],
        [1, 6, 6, 32],
      ] as const) {
        for (const p of pools) {
          const xv = Float32Array.from(randomTensor(rng, [...shape]).dataSync());
          // ties, NaN and -Infinity inside windows
          for (let i = 0; i < xv.length; i += 7) xv[i] = xv[i + 1] ?? 0;
          for (let i = 3; i < xv.length; i += 29) xv[i] = NaN;
          for (let i = 5; i < xv.length; i += 31) xv[i] = -Infinity;
          const x = tf.tensor(xv, [...shape]);
          const probe = tf.tidy(() => randomTensor(rng, tf.maxPool(x as tf.Tensor4D, p.f, p.s, p.pad).shape));
          const run = (): tf.Tensor[] => {
            const [g] = tf.grads((xx: tf.Tensor) =>
              tf
                .maxPool(xx as tf.Tensor4D, p.f, p.s, p.pad)
                .mul(probe)
                .sum(),
            )([x]);
            return [tf.maxPool(x as tf.Tensor4D, p.f, p.s, p.pad), g as tf.Tensor];
          };
          const { js } = runBoth(run);
          for (const cap of [0, 2, 1]) {
            addon?.setIsaCap(cap);
            const native = tf.tidy(run);
            expectSameResult(
              {
                js,
                native: {
                  shapes: native.map((t) => t.shape),
                  dtypes: native.map((t) => t.dtype),
                  values: native.map((t) => (t.dataSync() as Float32Array).slice()),
                },
              },
              // overlapping windows add several dy into one pixel, in another order than tfjs
              1e-6,
              `cap ${cap} ${shape} ${JSON.stringify(p)}`,
            );
            tf.dispose(native);
          }
          tf.dispose([x, probe]);
        }
      }
    } finally {
      addon?.setIsaCap(0);
    }
  });

  it('MaxPoolGrad finds the winners itself when MaxPool did not record them', () => {
    for (const p of pools) {
      const x = randomTensor(rng, [2, 7, 9, 3]);
      const y = tf.tidy(() => {
        uninstallNativeKernels();
        const out = tf.maxPool(x as tf.Tensor4D, p.f, p.s, p.pad);
        installNativeKernels();
        // a tensor with the same values but no recorded winners
        return tf.tensor(out.dataSync().slice(), out.shape);
      });
      const dy = randomTensor(rng, y.shape);
      const attrs = { filterSize: p.f, strides: p.s, pad: p.pad };
      const r = runBoth(
        () => tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs) as tf.Tensor,
      );
      expectSameResult(r, 1e-6, JSON.stringify(p));
      tf.dispose([x, y, dy]);
    }
  });

  it('max pooling breaks ties like tfjs and ignores NaN', () => {
    const x = tf.tensor4d(
      [1, 1, 1, 1, NaN, 2, 2, NaN, -Infinity, -Infinity, -Infinity, -Infinity, 5, 5, 5, 5],
      [1, 4, 4, 1],
    );
    const r = runBoth(() => {
      const [g] = tf.grads((xx: tf.Tensor) => tf.maxPool(xx as tf.Tensor4D, 2, 2, 'valid').sum())([x]);
      return [tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), g as tf.Tensor];
    });
    expectSameResult(r, 0);
    x.dispose();
  });
});
