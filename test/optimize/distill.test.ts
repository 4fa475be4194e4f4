import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distill, distillationLoss } from '../../src/optimize/distill.js';
import { withLogitsOutput } from '../../src/optimize/topology.js';
import { fit } from '../../src/train/trainer.js';
import { accuracyOf, clusters, mlp } from './helpers.js';

const adam = { type: 'adam' as const, learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

describe('distillation loss', () => {
  const y = tf.tensor2d([
    [0, 1, 0],
    [1, 0, 0],
  ]);
  const zs = tf.tensor2d([
    [1, 2, 0.5],
    [0.2, -0.4, 1.1],
  ]);
  const zt = tf.tensor2d([
    [0.5, 3, -1],
    [2.0, 0.1, -0.3],
  ]);

  it('matches a hand-computed value: alpha * CE + (1 - alpha) * T^2 * KL(p_t || p_s), batch mean', () => {
    // By hand (numpy): sample 1: CE 0.464369, KL 0.109780 → 0.3 * 0.464369 + 0.7 * 4 * 0.109780 = 0.446693;
    // sample 2: CE 1.388396, KL 0.219074 → 1.029925; mean 0.738309.
    const loss = distillationLoss(y, zs, zt, { temperature: 2, alpha: 0.3 }).dataSync()[0] as number;
    expect(loss).toBeCloseTo(0.7383093791561945, 5);
  });

  it('alpha 1 is the hard-label cross-entropy; alpha 0 scales the KL by T^2', () => {
    const ce = tf.losses.softmaxCrossEntropy(y, zs).dataSync()[0] as number;
    expect(distillationLoss(y, zs, zt, { temperature: 5, alpha: 1 }).dataSync()[0]).toBeCloseTo(ce, 5);
    const kl2 = distillationLoss(y, zs, zt, { temperature: 2, alpha: 0 }).dataSync()[0] as number;
    expect(kl2).toBeCloseTo(4 * ((0.10977958693334132 + 0.2190737600650253) / 2), 5);
    // Same logits for teacher and student: no soft loss at any temperature.
    expect(distillationLoss(y, zs, zs, { temperature: 7, alpha: 0 }).dataSync()[0]).toBeCloseTo(0, 6);
  });
});

describe('distill', () => {
  const train = clusters(300, 8, 11);

  it('trains a smaller student of another shape from a teacher, keeping its softmax', async () => {
    const teacher = mlp(8, 32, 16, 1);
    await fit(teacher, train, { epochs: 4, batchSize: 32, optimizer: adam, loss: 'categoricalCrossentropy' });
    const student = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [8],
          units: 4,
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
        }),
        tf.layers.dense({
          units: 3,
          activation: 'softmax',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }),
        }),
      ],
    });
    const r = await distill(teacher, student, train, {
      epochs: 4,
      batchSize: 32,
      optimizer: adam,
      temperature: 3,
      alpha: 0.2,
      validation: train,
    });
    expect(r.history[0]).toHaveProperty('val_accuracy');
    expect(r.history[3]!['loss']).toBeLessThan(r.history[0]!['loss']!);
    expect(accuracyOf(student, train)).toBeGreaterThan(0.9);
    const p = (student.predict(tf.tensor(train.x.subarray(0, 8), [1, 8])) as tf.Tensor).dataSync();
    expect(Array.from(p).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('logits model: the softmax-free copy gives the same probabilities after softmax', async () => {
    const m = mlp();
    const logits = await withLogitsOutput(m);
    const x = tf.tensor(train.x.subarray(0, 16), [2, 8]);
    const a = (m.predict(x) as tf.Tensor).dataSync();
    const b = tf.softmax(logits.predict(x) as tf.Tensor).dataSync();
    Array.from(a).forEach((v, i) => expect(b[i]).toBeCloseTo(v, 6));
  });

  it('refuses a student whose outputs differ from the teacher before any work', async () => {
    const teacher = mlp();
    const student = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [8], units: 4, activation: 'softmax' })],
    });
    await expect(
      distill(teacher, student, train, { epochs: 1, batchSize: 32, optimizer: adam }),
    ).rejects.toThrow(
      'distill: the teacher outputs shape [batch, 3] but the student outputs [batch, 4]; they must predict the same classes',
    );
    await expect(
      distill(teacher, mlp(), train, { epochs: 1, batchSize: 32, optimizer: adam, temperature: 0 }),
    ).rejects.toThrow(/distill\.temperature: expected a temperature > 0/);
  });
});
