import * as tf from '@tensorflow/tfjs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import {
  installNativeKernels,
  NativeAdamOptimizer,
  nativeStatus,
  uninstallNativeKernels,
} from '../../../src/engine/native/index.js';
import { describeNative, randomArray, useCpu } from './helpers.js';

beforeAll(useCpu);

/** A full garbage collection (V8 only exposes gc() behind a flag; set it for this process). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc === 'function') gc();
}

function seedMlp(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 64, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  return model;
}

function tinyCnn(): tf.Sequential {
  const model = tf.sequential();
  model.add(
    tf.layers.conv2d({
      inputShape: [10, 10, 2],
      filters: 4,
      kernelSize: 3,
      activation: 'relu',
      padding: 'same',
    }),
  );
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, activation: 'relu' }));
  model.add(tf.layers.averagePooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  return model;
}

/** The benchmark's CNN shape (conv16-pool-conv32-pool-dense) on small 1-channel images. */
function benchCnn(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 16, kernelSize: 3, activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  return model;
}

interface Batch {
  x: tf.Tensor;
  y: tf.Tensor;
}

function batches(rng: Rng, count: number, size: number, inShape: number[], classes: number): Batch[] {
  const per = inShape.reduce((a, b) => a * b, 1);
  return Array.from({ length: count }, () => ({
    x: tf.tensor(randomArray(rng, size * per, 0, 1), [size, ...inShape]),
    y: tf.oneHot(
      tf.tensor1d(
        Array.from({ length: size }, () => rng.int(classes)),
        'int32',
      ),
      classes,
    ),
  }));
}

/** Glorot-uniform kernels drawn from `rng` and zero biases, shaped like the model's. */
function seededWeights(make: () => tf.Sequential, rng: Rng): tf.Tensor[] {
  const ref = make();
  const weights = ref.getWeights().map((w) => {
    if (w.shape.length === 1) return tf.zeros(w.shape);
    const fanIn = w.shape.length > 1 ? w.shape.slice(0, -1).reduce((a, b) => a * b, 1) : w.size;
    const fanOut = w.shape[w.shape.length - 1] ?? 1;
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return tf.tensor(randomArray(rng, w.size, -limit, limit), w.shape);
  });
  ref.dispose();
  return weights;
}

/** Losses of `steps` trainOnBatch calls from the given initial weights. */
async function lossCurve(
  make: () => tf.Sequential,
  init: tf.Tensor[],
  data: Batch[],
  native: boolean,
): Promise<number[]> {
  if (native) installNativeKernels();
  else uninstallNativeKernels();
  const model = make();
  model.setWeights(init);
  model.compile({
    optimizer: native ? new NativeAdamOptimizer(1e-3) : tf.train.adam(1e-3),
    loss: 'categoricalCrossentropy',
  });
  const losses: number[] = [];
  for (const b of data) losses.push((await model.trainOnBatch(b.x, b.y)) as number);
  model.dispose();
  return losses;
}

describeNative('training with native kernels', () => {
  it('gives the same losses as the JS kernels for 50 steps of the seed MLP (Adam 1e-3)', async () => {
    const rng = new Rng(31);
    const data = batches(rng, 50, 24, [784], 10);
    // Seeded (not tfjs's Math.random) initial weights: kernels that round differently can flip a
    // ReLU whose input is within ~1e-7 of zero, and a random start makes that a coin toss.
    const init = seededWeights(seedMlp, rng);
    const js = await lossCurve(seedMlp, init, data, false);
    const native = await lossCurve(seedMlp, init, data, true);
    expect(native).toHaveLength(50);
    native.forEach((l, i) =>
      expect(Math.abs(l - (js[i] ?? NaN)), `step ${i}: ${l} vs ${js[i]}`).toBeLessThanOrEqual(
        1e-4 * Math.abs(js[i] ?? 1) + 1e-6,
      ),
    );
    expect(native[49]).toBeLessThan(native[0] ?? 0);
    tf.dispose([...init, ...data.flatMap((b) => [b.x, b.y])]);
  });

  it('gives the same losses for a small CNN (conv, depthwise, max/avg pooling)', async () => {
    const rng = new Rng(32);
    const data = batches(rng, 6, 5, [10, 10, 2], 3);
    const init = seededWeights(tinyCnn, rng);
    const js = await lossCurve(tinyCnn, init, data, false);
    const native = await lossCurve(tinyCnn, init, data, true);
    native.forEach((l, i) =>
      expect(Math.abs(l - (js[i] ?? NaN)), `step ${i}`).toBeLessThanOrEqual(
        1e-4 * Math.abs(js[i] ?? 1) + 1e-6,
      ),
    );
    const used = nativeStatus()
      .kernels.filter((k) => k.calls > 0)
      .map((k) => k.name);
    expect(used).toEqual(
      expect.arrayContaining([
        'Conv2D',
        'Conv2DBackpropFilter',
        'DepthwiseConv2dNative',
        'MaxPoolGrad',
        'AvgPoolGrad',
      ]),
    );
    tf.dispose([...init, ...data.flatMap((b) => [b.x, b.y])]);
  });

  it('gives the same losses for the benchmark CNN shape (1-channel input, valid convolutions)', async () => {
    const rng = new Rng(34);
    const data = batches(rng, 6, 8, [12, 12, 1], 10);
    const init = seededWeights(benchCnn, rng);
    const js = await lossCurve(benchCnn, init, data, false);
    const before = ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'ModelautoReluGrad'].map(
      (k) => nativeStatus().kernels.find((s) => s.name === k)?.calls ?? 0,
    );
    const native = await lossCurve(benchCnn, init, data, true);
    native.forEach((l, i) =>
      expect(Math.abs(l - (js[i] ?? NaN)), `step ${i}: ${l} vs ${js[i]}`).toBeLessThanOrEqual(
        1e-4 * Math.abs(js[i] ?? 1) + 1e-6,
      ),
    );
    ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'ModelautoReluGrad'].forEach((k, i) =>
      expect(nativeStatus().kernels.find((s) => s.name === k)?.calls ?? 0, k).toBeGreaterThan(before[i] ?? 0),
    );
    tf.dispose([...init, ...data.flatMap((b) => [b.x, b.y])]);
  });

  it('does not leak tensors or memory over 1,000 training steps', async () => {
    installNativeKernels();
    const rng = new Rng(33);
    const model = seedMlp();
    model.compile({ optimizer: new NativeAdamOptimizer(1e-3), loss: 'categoricalCrossentropy' });
    const data = batches(rng, 4, 16, [784], 10);
    const step = async (i: number): Promise<void> => {
      const b = data[i % data.length] as Batch;
      await model.trainOnBatch(b.x, b.y);
    };
    for (let i = 0; i < 100; i++) await step(i);
    const tensors = tf.memory().numTensors;
    const settled = (): number => {
      collectGarbage();
      return process.memoryUsage().rss / 2 ** 20;
    };
    const rss: number[] = [settled()];
    for (let i = 0; i < 1000; i++) {
      await step(i);
      if (i % 250 === 249) rss.push(settled());
    }
    expect(tf.memory().numTensors).toBe(tensors);
    // After a full collection RSS must stay flat: a 20 KB/step leak would add 10 MB over the
    // last 500 steps.
    const last = rss.slice(-3);
    expect(Math.max(...last) - Math.min(...last)).toBeLessThan(10);
    model.dispose();
    tf.dispose(data.flatMap((b) => [b.x, b.y]));
  });

  it('does not leak tensors or memory training the benchmark CNN (recycled buffers, recorded pooling winners)', async () => {
    installNativeKernels();
    const rng = new Rng(35);
    const model = benchCnn();
    model.compile({ optimizer: new NativeAdamOptimizer(1e-3), loss: 'categoricalCrossentropy' });
    const data = batches(rng, 4, 8, [12, 12, 1], 10);
    const step = async (i: number): Promise<void> => {
      const b = data[i % data.length] as Batch;
      await model.trainOnBatch(b.x, b.y);
    };
    for (let i = 0; i < 50; i++) await step(i);
    const tensors = tf.memory().numTensors;
    const settled = (): number => {
      collectGarbage();
      return process.memoryUsage().rss / 2 ** 20;
    };
    const rss: number[] = [settled()];
    for (let i = 0; i < 600; i++) {
      await step(i);
      if (i % 150 === 149) rss.push(settled());
    }
    expect(tf.memory().numTensors).toBe(tensors);
    const last = rss.slice(-3);
    expect(Math.max(...last) - Math.min(...last)).toBeLessThan(10);
    model.dispose();
    tf.dispose(data.flatMap((b) => [b.x, b.y]));
  });
});
