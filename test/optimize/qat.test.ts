import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  fakeQuantInt8,
  fakeQuantRange,
  WeightFakeQuant,
  withActivationFakeQuant,
  withoutFakeQuant,
} from '../../src/optimize/qat.js';
import { quantizeAffine } from '../../src/optimize/quantize.js';
import { fit } from '../../src/train/trainer.js';
import { accuracyOf, clusters, mlp } from './helpers.js';

const adam = { type: 'adam' as const, learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

describe('fake quantization', () => {
  it('int8: symmetric, one scale per output channel', () => {
    const w = tf.tensor2d([
      [1, -0.5],
      [0.3, 2],
    ]);
    const q = fakeQuantInt8(w).dataSync();
    const s0 = 1 / 127;
    const s1 = 2 / 127;
    expect(q[0]).toBeCloseTo(1, 6);
    expect(q[1]).toBeCloseTo(Math.round(-0.5 / s1) * s1, 6);
    expect(q[2]).toBeCloseTo(Math.round(0.3 / s0) * s0, 6);
    expect(q[3]).toBeCloseTo(2, 6);
    // 7-bit (reduce-range): 63 levels each side.
    const q7 = fakeQuantInt8(w, 7).dataSync();
    expect(q7[2]).toBeCloseTo(Math.round(0.3 / (1 / 63)) / 63, 6);
  });

  it('activation range: quantizes to 256 levels with a straight-through gradient inside the range only', () => {
    const x = tf.tensor1d([-1, -0.2, 0, 0.33, 0.9, 3]);
    const lo = tf.scalar(-0.5);
    const hi = tf.scalar(1);
    const y = fakeQuantRange(x, lo, hi).dataSync();
    const scale = 1.5 / 255;
    expect(y[0]).toBeCloseTo(-Math.round(0.5 / scale) * scale, 6); // clipped to the range
    expect(y[2]).toBe(0);
    expect(Math.abs((y[3] as number) - 0.33)).toBeLessThanOrEqual(scale / 2 + 1e-7);
    const g = tf
      .grad((t: tf.Tensor) => fakeQuantRange(t, lo, hi).sum())(x)
      .dataSync();
    expect(Array.from(g)).toEqual([0, 1, 1, 1, 1, 0]);
  });
});

describe('quantization-aware training', () => {
  const train = clusters(300, 8, 21);

  it('int8 scheme: trains through the quantized weights and ends on the int8 grid', async () => {
    const model = mlp(8, 32, 16, 3);
    const qat = new WeightFakeQuant(model, { scheme: 'int8' });
    const r = await fit(model, train, {
      epochs: 4,
      batchSize: 32,
      optimizer: adam,
      loss: 'categoricalCrossentropy',
      callbacks: [qat],
    });
    expect(r.history[3]!['loss']).toBeLessThan(r.history[0]!['loss']!);
    expect(accuracyOf(model, train)).toBeGreaterThan(0.9);
    for (const name of ['h1', 'h2', 'out']) {
      const k = model.getLayer(name).getWeights()[0]!;
      const again = fakeQuantInt8(k).dataSync();
      Array.from(k.dataSync()).forEach((v, i) => expect(again[i]).toBeCloseTo(v, 6)); // idempotent: on the grid
    }
  });

  it('uint8 scheme: weights end exactly where tfjs uint8 weights would put them', async () => {
    const model = mlp(8, 16, 8, 4);
    const qat = new WeightFakeQuant(model, { scheme: 'uint8' });
    await fit(model, train, {
      epochs: 2,
      batchSize: 32,
      optimizer: adam,
      loss: 'categoricalCrossentropy',
      callbacks: [qat],
    });
    const k = Float32Array.from(model.getLayer('h1').getWeights()[0]!.dataSync());
    const a = quantizeAffine(k, 'uint8');
    Array.from(k).forEach((v, i) => expect((a.q[i] as number) * a.scale + a.min).toBeCloseTo(v, 6));
    expect(() => new WeightFakeQuant(model, { skip: ['zz'] })).toThrow(/qat\.skip: unknown layer "zz"/);
  });

  it('activation fake-quant layers train, record ranges, and strip back to a stock model', async () => {
    const base = mlp(8, 16, 8, 5);
    const model = await withActivationFakeQuant(base);
    expect(model.layers.map((l) => l.getClassName())).toEqual([
      'Dense',
      'ModelautoFakeQuant',
      'Dense',
      'ModelautoFakeQuant',
      'Dense',
    ]);
    await fit(model, train, { epochs: 3, batchSize: 32, optimizer: adam, loss: 'categoricalCrossentropy' });
    const { model: stock, ranges } = await withoutFakeQuant(model);
    expect(Object.keys(ranges)).toEqual(['h1', 'h2']);
    expect(ranges['h1']!.min).toBe(0); // relu output: the range starts at 0
    expect(ranges['h1']!.max).toBeGreaterThan(0);
    expect(stock.layers.map((l) => l.name)).toEqual(['h1', 'h2', 'out']);
    expect(Math.abs(accuracyOf(stock, train) - accuracyOf(model, train))).toBeLessThan(0.03);
    expect(accuracyOf(stock, train)).toBeGreaterThan(0.9);
  });
});
