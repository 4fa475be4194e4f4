import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import {
  nativeAddon,
  NativeAdamOptimizer,
  NativeAdamWOptimizer,
  NativeMomentumOptimizer,
  NativeSGDOptimizer,
} from '../../../src/engine/native/index.js';
import { describeNative, expectClose, randomArray, useCpu } from './helpers.js';

beforeAll(useCpu);

const SHAPES = [[7], [33, 17], [3, 1, 5], [1], [300, 250]];

type Counted = tf.Optimizer & { steps?: { native: number; js: number } };

/** Runs `steps` updates of an optimizer on fresh variables; returns the final values. */
function train(make: () => Counted, seed: number, steps = 5, expectPath?: 'native' | 'js'): Float32Array[] {
  const rng = new Rng(seed);
  const vars = SHAPES.map((s) =>
    tf.variable(
      tf.tensor(
        randomArray(
          rng,
          s.reduce((a, b) => a * b, 1),
        ),
        s,
      ),
    ),
  );
  const opt = make();
  for (let step = 0; step < steps; step++) {
    const grads: tf.NamedTensorMap = {};
    vars.forEach((v) => (grads[v.name] = tf.tensor(randomArray(rng, v.size), v.shape)));
    opt.applyGradients(grads);
    tf.dispose(Object.values(grads));
  }
  if (expectPath) expect(opt.steps?.[expectPath], `${expectPath} steps`).toBe(steps);
  const out = vars.map((v) => (v.dataSync() as Float32Array).slice());
  tf.dispose(vars);
  opt.dispose();
  return out;
}

function expectBitExact(a: Float32Array[], b: Float32Array[]): void {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => expect(Array.from(x), `variable ${i}`).toEqual(Array.from(b[i] ?? [])));
}

describeNative('fused native optimizers', () => {
  it('Adam is bit-identical to tfjs Adam', () => {
    const js = train(() => tf.train.adam(0.01, 0.8, 0.95, 1e-6), 1);
    const native = train(() => new NativeAdamOptimizer(0.01, 0.8, 0.95, 1e-6), 1, 5, 'native');
    expectBitExact(native, js);
    expectBitExact(
      train(() => new NativeAdamOptimizer(), 9, 5, 'native'),
      train(() => tf.train.adam(), 9),
    );
  });

  it('Adam is bit-identical on every instruction set (AVX-512, baseline SIMD)', () => {
    const addon = nativeAddon();
    const js = train(() => tf.train.adam(0.02), 6);
    try {
      for (const cap of [0, 2, 1]) {
        addon?.setIsaCap(cap);
        expectBitExact(
          train(() => new NativeAdamOptimizer(0.02), 6, 5, 'native'),
          js,
        );
      }
    } finally {
      addon?.setIsaCap(0);
    }
  });

  it('moments decaying through the subnormal range: same weights as tfjs, moments flushed to zero', async () => {
    // One real gradient, then zeros: Adam's first moment shrinks by beta1 every step and passes
    // below 2^-126 (where the native update flushes to zero) within a few hundred steps.
    const run = async (make: () => tf.Optimizer): Promise<{ w: Float32Array; m: Float32Array }> => {
      const w = tf.variable(tf.tensor(Float32Array.from([0.5, -0.25, 0.125, 2]), [4]));
      const opt = make();
      const zero = tf.zeros([4]);
      const g = tf.tensor(Float32Array.from([1e-3, -2e-4, 3e-5, 0.5]), [4]);
      opt.applyGradients({ [w.name]: g });
      for (let i = 0; i < 900; i++) opt.applyGradients({ [w.name]: zero });
      const weights = await opt.getWeights();
      const m = weights.find((x) => x.name.endsWith('/m'))?.tensor;
      const out = {
        w: (w.dataSync() as Float32Array).slice(),
        m: ((m?.dataSync() ?? []) as Float32Array).slice(),
      };
      tf.dispose([w, zero, g]);
      opt.dispose();
      return out;
    };
    const js = await run(() => tf.train.adam(0.01));
    const native = await run(() => new NativeAdamOptimizer(0.01));
    expect(Array.from(native.w)).toEqual(Array.from(js.w));
    expect(js.m.length).toBe(4);
    // tfjs keeps subnormal moments; the native update reads and writes them as zero
    js.m.forEach((v, i) => {
      const n = native.m[i] ?? NaN;
      if (Math.abs(v) >= 2 ** -126) expect(n).toBe(v);
      else expect(Math.abs(n) < 2 ** -126).toBe(true);
    });
    expect(js.m.some((v) => v !== 0 && Math.abs(v) < 2 ** -126)).toBe(true);
  });

  it('SGD and Momentum (plain and Nesterov) are bit-identical to tfjs', () => {
    expectBitExact(
      train(() => new NativeSGDOptimizer(0.05), 2, 5, 'native'),
      train(() => tf.train.sgd(0.05), 2),
    );
    expectBitExact(
      train(() => new NativeMomentumOptimizer(0.05, 0.9), 3, 5, 'native'),
      train(() => tf.train.momentum(0.05, 0.9), 3),
    );
    expectBitExact(
      train(() => new NativeMomentumOptimizer(0.05, 0.9, true), 4, 5, 'native'),
      train(() => tf.train.momentum(0.05, 0.9, true), 4),
    );
  });

  it('AdamW decays weights before the Adam step, identically on the native and JS paths', async () => {
    const native = train(() => new NativeAdamWOptimizer(0.01, 0.9, 0.999, 1e-7, 0.1), 5, 5, 'native');
    const manual = train(() => {
      const adam = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
      const step = adam.applyGradients.bind(adam);
      adam.applyGradients = (grads) => {
        tf.tidy(() => {
          for (const name of Object.keys(grads)) {
            const v = tf.engine().registeredVariables[name];
            v?.assign(tf.mul(v, tf.scalar(Math.fround(1 - 0.01 * 0.1))));
          }
        });
        step(grads);
      };
      return adam;
    }, 5);
    expectBitExact(native, manual);
    // Off the cpu backend the same class runs tfjs ops.
    await tf.setBackend('wasm');
    const wasm = train(() => new NativeAdamWOptimizer(0.01, 0.9, 0.999, 1e-7, 0.1), 5, 5, 'js');
    await useCpu();
    wasm.forEach((w, i) => expectClose(w, native[i] ?? new Float32Array(0), 1e-5));
  });

  it('keeps getWeights/setWeights and the config of tfjs optimizers', async () => {
    const opt = new NativeAdamWOptimizer(0.002, 0.85, 0.99, 1e-8, 0.05);
    expect(opt.getClassName()).toBe('AdamW');
    const clone = NativeAdamWOptimizer.fromConfig(NativeAdamWOptimizer, opt.getConfig());
    expect(clone.getConfig()).toEqual(opt.getConfig());
    const v = tf.variable(tf.ones([3]));
    opt.applyGradients([{ name: v.name, tensor: tf.ones([3]) }]);
    const weights = await opt.getWeights();
    expect(weights.map((w) => w.name)).toEqual(['iter', `${v.name}/m`, `${v.name}/v`]);
    expect(new NativeAdamOptimizer().getClassName()).toBe('Adam');
    tf.dispose([v]);
    opt.dispose();
  });

  it('trains a Keras model through compile({optimizer})', async () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: 'softmax' })],
    });
    model.compile({ optimizer: new NativeAdamOptimizer(0.05), loss: 'categoricalCrossentropy' });
    const x = tf.randomNormal([16, 4], 0, 1, 'float32', 1);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32'), 3);
    const first = (await model.trainOnBatch(x, y)) as number;
    let last = first;
    for (let i = 0; i < 30; i++) last = (await model.trainOnBatch(x, y)) as number;
    expect(last).toBeLessThan(first);
    tf.dispose([x, y]);
    model.dispose();
  });
});
