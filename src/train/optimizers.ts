import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { backendInfo } from '../engine/backend.js';
import {
  NativeAdamOptimizer,
  NativeAdamWOptimizer,
  NativeMomentumOptimizer,
  NativeSGDOptimizer,
} from '../engine/native/index.js';

/** Optimizer options use Keras names and defaults (epsilon 1e-7, AdamW weight decay 0.004). */
const lr = (d: number) => z.number().positive().default(d);

export const OptimizerSpecSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('sgd'),
    learningRate: lr(0.01),
    momentum: z.number().min(0).lt(1).default(0),
    nesterov: z.boolean().default(false),
  }),
  z.strictObject({
    type: z.literal('adam'),
    learningRate: lr(0.001),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    epsilon: z.number().positive().default(1e-7),
  }),
  z.strictObject({
    type: z.literal('adamw'),
    learningRate: lr(0.001),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    epsilon: z.number().positive().default(1e-7),
    weightDecay: z.number().min(0).default(0.004),
  }),
  z.strictObject({
    type: z.literal('rmsprop'),
    learningRate: lr(0.001),
    rho: z.number().min(0).lt(1).default(0.9),
    momentum: z.number().min(0).lt(1).default(0),
    epsilon: z.number().positive().default(1e-7),
    centered: z.boolean().default(false),
  }),
]);

export const OPTIMIZER_TYPES = ['sgd', 'adam', 'adamw', 'rmsprop'] as const;

/** Accepts the shorthand `optimizer: adam` as well as the full object. */
export const OptimizerFieldSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { type: v } : v),
  OptimizerSpecSchema,
);

export type OptimizerSpec = z.infer<typeof OptimizerSpecSchema>;
export type OptimizerSpecInput = z.input<typeof OptimizerSpecSchema>;

/**
 * AdamW (Loshchilov & Hutter): weight decay decoupled from the gradient, applied as
 * w <- w - lr * wd * w before the Adam step. tfjs has no AdamW of its own.
 */
export class AdamWOptimizer extends tf.AdamOptimizer {
  static override get className(): string {
    return 'AdamW';
  }

  constructor(
    learningRate: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    readonly weightDecay: number,
  ) {
    super(learningRate, beta1, beta2, epsilon);
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (this.weightDecay > 0) {
      const names = Array.isArray(variableGradients)
        ? variableGradients.map((v) => v.name)
        : Object.keys(variableGradients);
      const factor = 1 - this.learningRate * this.weightDecay;
      tf.tidy(() => {
        for (const name of names) {
          const v = tf.engine().registeredVariables[name];
          if (v) v.assign(tf.mul(v, factor));
        }
      });
    }
    super.applyGradients(variableGradients);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), weightDecay: this.weightDecay };
  }
}
tf.serialization.registerClass(AdamWOptimizer);

/**
 * Builds the optimizer for a spec. On the native backend each variable is updated by one fused native
 * call (same math as tfjs's optimizers, bit for bit); RMSProp has no fused version and stays on tfjs.
 */
export function createOptimizer(spec: OptimizerSpec): tf.Optimizer {
  if (backendInfo()?.name === 'native') {
    switch (spec.type) {
      case 'sgd':
        return spec.momentum > 0
          ? new NativeMomentumOptimizer(spec.learningRate, spec.momentum, spec.nesterov)
          : new NativeSGDOptimizer(spec.learningRate);
      case 'adam':
        return new NativeAdamOptimizer(spec.learningRate, spec.beta1, spec.beta2, spec.epsilon);
      case 'adamw':
        return new NativeAdamWOptimizer(
          spec.learningRate,
          spec.beta1,
          spec.beta2,
          spec.epsilon,
          spec.weightDecay,
        );
      case 'rmsprop':
        break;
    }
  }
  switch (spec.type) {
    case 'sgd':
      return spec.momentum > 0
        ? tf.train.momentum(spec.learningRate, spec.momentum, spec.nesterov)
        : tf.train.sgd(spec.learningRate);
    case 'adam':
      return tf.train.adam(spec.learningRate, spec.beta1, spec.beta2, spec.epsilon);
    case 'adamw':
      return new AdamWOptimizer(spec.learningRate, spec.beta1, spec.beta2, spec.epsilon, spec.weightDecay);
    case 'rmsprop':
      return tf.train.rmsprop(spec.learningRate, spec.rho, spec.momentum, spec.epsilon, spec.centered);
  }
}

interface HasLearningRate {
  learningRate: number;
  setLearningRate?: (lr: number) => void;
}

/** Changes an optimizer's learning rate between steps (for schedules). */
export function setLearningRate(optimizer: tf.Optimizer, value: number): void {
  const o = optimizer as unknown as HasLearningRate;
  // SGD and Momentum cache -lr in a tensor, so they must go through their own setter.
  if (typeof o.setLearningRate === 'function') o.setLearningRate(value);
  else o.learningRate = value;
}

export function getLearningRate(optimizer: tf.Optimizer): number {
  return (optimizer as unknown as HasLearningRate).learningRate;
}
