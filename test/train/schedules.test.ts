import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  AdamWOptimizer,
  createOptimizer,
  OptimizerSpecSchema,
  getLearningRate,
  setLearningRate,
} from '../../src/train/optimizers.js';
import { LrScheduleSchema, scheduledLearningRate } from '../../src/train/schedules.js';

const at = (spec: unknown, step: number, epoch = 0, totalSteps = 100) =>
  scheduledLearningRate(LrScheduleSchema.parse(spec), 0.1, { step, epoch, totalSteps });

describe('learning-rate schedules', () => {
  it('step decay (PyTorch StepLR, in epochs)', () => {
    expect(at({ type: 'step', stepEpochs: 2, gamma: 0.5 }, 0, 0)).toBeCloseTo(0.1);
    expect(at({ type: 'step', stepEpochs: 2, gamma: 0.5 }, 50, 1)).toBeCloseTo(0.1);
    expect(at({ type: 'step', stepEpochs: 2, gamma: 0.5 }, 60, 2)).toBeCloseTo(0.05);
    expect(at({ type: 'step', stepEpochs: 2, gamma: 0.5 }, 90, 5)).toBeCloseTo(0.025);
  });

  it('exponential decay (Keras ExponentialDecay), smooth and staircase', () => {
    expect(at({ type: 'exponential', decaySteps: 10, decayRate: 0.5 }, 5)).toBeCloseTo(
      0.1 * Math.pow(0.5, 0.5),
    );
    expect(at({ type: 'exponential', decaySteps: 10, decayRate: 0.5, staircase: true }, 15)).toBeCloseTo(
      0.05,
    );
  });

  it('cosine decay (Keras CosineDecay) with alpha, over the whole run by default', () => {
    expect(at({ type: 'cosine' }, 0)).toBeCloseTo(0.1);
    expect(at({ type: 'cosine' }, 50)).toBeCloseTo(0.05);
    expect(at({ type: 'cosine' }, 100)).toBeCloseTo(0);
    expect(at({ type: 'cosine', alpha: 0.1 }, 100)).toBeCloseTo(0.01);
    expect(at({ type: 'cosine', decaySteps: 10 }, 500)).toBeCloseTo(0);
  });

  it('linear warmup before any schedule', () => {
    const spec = { type: 'cosine', warmupSteps: 10 };
    expect(at(spec, 0)).toBeCloseTo(0.01);
    expect(at(spec, 9)).toBeCloseTo(0.1);
    expect(at(spec, 10)).toBeCloseTo(0.1);
    expect(at(spec, 55)).toBeCloseTo(0.05);
  });

  it('rejects bad schedule options', () => {
    expect(LrScheduleSchema.safeParse({ type: 'cosine', alpha: 2 }).success).toBe(false);
    expect(LrScheduleSchema.safeParse({ type: 'linear' }).success).toBe(false);
  });
});

describe('optimizers', () => {
  it('changes the learning rate of every optimizer type', () => {
    for (const type of ['sgd', 'adam', 'adamw', 'rmsprop'] as const) {
      const opt = createOptimizer(OptimizerSpecSchema.parse({ type }));
      setLearningRate(opt, 0.123);
      expect(getLearningRate(opt)).toBe(0.123);
    }
  });

  it('SGD with a changed learning rate takes the new step size', () => {
    const v = tf.variable(tf.scalar(1), true, 'sgd_lr_test');
    const opt = createOptimizer({ type: 'sgd', learningRate: 0.1, momentum: 0, nesterov: false });
    setLearningRate(opt, 0.5);
    opt.minimize(() => v.mul(v) as tf.Scalar, false, [v]); // gradient 2v = 2
    expect(v.dataSync()[0]).toBeCloseTo(0); // 1 - 0.5 * 2
    v.dispose();
  });

  it('AdamW decays weights independently of the gradient (decoupled)', () => {
    // With a zero gradient Adam does nothing; AdamW still shrinks w by lr * wd * w.
    const v = tf.variable(tf.scalar(2), true, 'adamw_test');
    const opt = new AdamWOptimizer(0.1, 0.9, 0.999, 1e-7, 0.5);
    opt.applyGradients([{ name: 'adamw_test', tensor: tf.scalar(0) }]);
    expect(v.dataSync()[0]).toBeCloseTo(2 * (1 - 0.1 * 0.5), 5);
    v.dispose();
  });
});
