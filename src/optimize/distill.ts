import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ModelautoError } from '../core/errors.js';
import type { Callback } from '../train/callbacks.js';
import { createOptimizer, type OptimizerSpec } from '../train/optimizers.js';
import type { LrSchedule } from '../train/schedules.js';
import { fit, type FitResult, type TensorData } from '../train/trainer.js';
import { parseWith } from './parse.js';
import { copyWeights, withLogitsOutput } from './topology.js';

/**
 * Default temperature. The best T depends on the student: Hinton et al. found 2.5-4 clearly better than
 * higher temperatures for students of 30 units per layer, while larger students do well up to 8+. Measured
 * on MNIST from the seed MLP (3 seeds each): the main job's half-width student (1 epoch, then pruning and
 * uint8) scores 0.2-0.36 points higher with T 4 than with T 2 on every seed, and a 784-32-10 student
 * trained 20 epochs does better with T 2 than with 3, 4 or 8. 4 is the default; tiny students: try 2.
 */
export const DEFAULT_TEMPERATURE = 4;
/** Default weight of the hard labels: Keras' distillation example's, with Hinton's advice to keep it low. */
export const DEFAULT_ALPHA = 0.1;

/**
 * Knowledge distillation (Hinton, Vinyals & Dean 2015), the loss modelauto uses:
 *
 *   L = alpha * CE(y, softmax(z_s)) + (1 - alpha) * T^2 * KL(softmax(z_t / T) || softmax(z_s / T))
 *
 * averaged over the batch, with z_s / z_t the student / teacher logits (the inputs of their final softmax).
 * alpha weighs the hard labels; the T^2 factor keeps the soft term's gradients on the same scale whatever
 * the temperature (they shrink as 1/T^2 otherwise). Formulas often quoted elsewhere drop the T^2, put
 * alpha on the soft term instead, or use the soft-target cross-entropy, which is this KL plus the teacher's
 * entropy: a constant that leaves gradients unchanged but not the loss value.
 */
export const DistillationSchema = z.strictObject({
  temperature: z
    .number({ error: 'expected a temperature > 0' })
    .positive('expected a temperature > 0')
    .default(DEFAULT_TEMPERATURE),
  alpha: z
    .number({ error: 'expected alpha in [0, 1]' })
    .min(0, 'expected alpha in [0, 1]')
    .max(1, 'expected alpha in [0, 1]')
    .default(DEFAULT_ALPHA),
});
export type Distillation = z.infer<typeof DistillationSchema>;
export type DistillationInput = z.input<typeof DistillationSchema>;

export function parseDistillation(input: unknown, path = 'distill'): Distillation {
  return parseWith(DistillationSchema, input, path);
}

/** The distillation loss of a batch: yTrue one-hot [n, k], logits [n, k]; returns a scalar. */
export function distillationLoss(
  yTrue: tf.Tensor,
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  options: Distillation,
): tf.Scalar {
  const { temperature: t, alpha } = options;
  return tf.tidy(() => {
    const hard = tf.neg(tf.sum(tf.mul(yTrue, tf.logSoftmax(studentLogits)), -1));
    const logPt = tf.logSoftmax(tf.div(teacherLogits, t));
    const logPs = tf.logSoftmax(tf.div(studentLogits, t));
    const kl = tf.sum(tf.mul(tf.exp(logPt), tf.sub(logPt, logPs)), -1);
    return tf.mean(tf.add(tf.mul(hard, alpha), tf.mul(kl, (1 - alpha) * t * t))) as tf.Scalar;
  });
}

function outputUnits(model: tf.LayersModel): number[] {
  return (model.outputs[0]?.shape ?? []).slice(1).map((d) => d ?? -1);
}

/** Teacher and student must predict the same classes; checked before any work. */
export function checkDistillable(teacher: tf.LayersModel, student: tf.LayersModel): void {
  const t = outputUnits(teacher);
  const s = outputUnits(student);
  if (t.join(',') !== s.join(',')) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `distill: the teacher outputs shape [batch, ${t.join(', ')}] but the student outputs [batch, ${s.join(', ')}]; they must predict the same classes`,
    );
  }
  const ti = (teacher.inputs[0]?.shape ?? []).slice(1).join(',');
  const si = (student.inputs[0]?.shape ?? []).slice(1).join(',');
  if (ti !== si) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `distill: the teacher takes inputs [batch, ${ti}] but the student takes [batch, ${si}]`,
    );
  }
}

/** Logits of a model over all rows, computed in inference mode in batches. */
async function logitsOf(model: tf.LayersModel, data: TensorData, batchSize = 512): Promise<Float32Array> {
  const d = data.xShape.reduce((a, b) => a * b, 1);
  const k = data.yShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(data.n * k);
  for (let from = 0; from < data.n; from += batchSize) {
    const to = Math.min(data.n, from + batchSize);
    const y = tf.tidy(
      () =>
        model.predict(tf.tensor(data.x.subarray(from * d, to * d), [to - from, ...data.xShape])) as tf.Tensor,
    );
    out.set(await y.data(), from * k);
    y.dispose();
  }
  return out;
}

/** Rows of [one-hot label | teacher logits]: how the custom loss receives the teacher per batch. */
function pack(data: TensorData, teacher: Float32Array): TensorData {
  const k = data.yShape[0] as number;
  const y = new Float32Array(data.n * 2 * k);
  for (let i = 0; i < data.n; i++) {
    y.set(data.y.subarray(i * k, (i + 1) * k), i * 2 * k);
    y.set(teacher.subarray(i * k, (i + 1) * k), i * 2 * k + k);
  }
  return { ...data, y, yShape: [2 * k] };
}

export interface DistillOptions extends DistillationInput {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerSpec;
  lrSchedule?: LrSchedule;
  seed?: number;
  validation?: TensorData;
  callbacks?: Callback[];
  signal?: AbortSignal;
}

/**
 * Trains `student` (any architecture ending in softmax) to match `teacher` on `train` (one-hot labels).
 * Teacher logits are computed once in inference mode and cached; the student trains on its logits and
 * its weights are copied back into `student`, which keeps its softmax. Logs: loss (the distillation
 * loss) and accuracy on the hard labels, with val_ versions when validation data is given.
 */
export async function distill(
  teacher: tf.LayersModel,
  student: tf.LayersModel,
  train: TensorData,
  options: DistillOptions,
): Promise<FitResult> {
  const params = parseDistillation({
    ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
    ...(options.alpha !== undefined ? { alpha: options.alpha } : {}),
  });
  checkDistillable(teacher, student);
  const k = outputUnits(student)[0] as number;
  if (train.yShape.length !== 1 || train.yShape[0] !== k) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `distill: labels must be one-hot rows of ${k} classes, got rows of shape [${train.yShape.join(', ')}]`,
    );
  }
  const teacherLogits = await withLogitsOutput(teacher);
  const studentLogits = await withLogitsOutput(student);
  try {
    const packedTrain = pack(train, await logitsOf(teacherLogits, train));
    const packedVal = options.validation
      ? pack(options.validation, await logitsOf(teacherLogits, options.validation))
      : undefined;
    const loss = (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar =>
      distillationLoss(
        yTrue.slice([0, 0], [-1, k]),
        yPred.slice([0, 0], [-1, k]),
        yTrue.slice([0, k], [-1, k]),
        params,
      );
    // Named so that tfjs logs it as `accuracy`: agreement with the hard labels.
    const accuracy = (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor =>
      tf.metrics.categoricalAccuracy(yTrue.slice([0, 0], [-1, k]), yPred.slice([0, 0], [-1, k]));
    // tfjs checks targets against the output shape, so the trained graph outputs [z_s | z_s] to take the
    // packed [labels | teacher logits] rows; only the first half enters the loss. Weights are the student's.
    const input = tf.input({ shape: train.xShape });
    const z = studentLogits.apply(input) as tf.SymbolicTensor;
    const trainer = tf.model({
      inputs: input,
      outputs: tf.layers.concatenate({ axis: -1 }).apply([z, z]) as tf.SymbolicTensor,
    });
    trainer.compile({ optimizer: createOptimizer(options.optimizer), loss, metrics: [accuracy] });
    const result = await fit(trainer, packedTrain, {
      epochs: options.epochs,
      batchSize: options.batchSize,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.lrSchedule ? { lrSchedule: options.lrSchedule } : {}),
      ...(packedVal ? { validation: packedVal } : {}),
      ...(options.callbacks ? { callbacks: options.callbacks } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    copyWeights(studentLogits, student);
    return result;
  } finally {
    teacherLogits.dispose();
    studentLogits.dispose();
  }
}
