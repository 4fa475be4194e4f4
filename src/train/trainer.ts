import * as tf from '@tensorflow/tfjs';
import { ModelautoError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { gatherRowsTensor } from '../engine/native/index.js';
import { CallbackList, type Callback, type Logs, type TrainingContext } from './callbacks.js';
import { createOptimizer, getLearningRate, setLearningRate, type OptimizerSpec } from './optimizers.js';
import { scheduledLearningRate, type LrSchedule } from './schedules.js';

/** Samples as flat row-major float32 arrays: `x` is n × prod(xShape), `y` is n × prod(yShape). */
export interface TensorData {
  n: number;
  x: Float32Array;
  xShape: number[];
  y: Float32Array;
  yShape: number[];
}

export const LOSSES = [
  'categoricalCrossentropy',
  'sparseCategoricalCrossentropy',
  'binaryCrossentropy',
  'meanSquaredError',
  'meanAbsoluteError',
] as const;
export type LossName = (typeof LOSSES)[number];

export const TRAIN_METRICS = [
  'accuracy',
  'binaryAccuracy',
  'categoricalAccuracy',
  'sparseCategoricalAccuracy',
  'precision',
  'recall',
  'mse',
  'mae',
] as const;
export type TrainMetricName = (typeof TRAIN_METRICS)[number];

export interface FitOptions {
  epochs: number;
  batchSize: number;
  /** Reshuffle the training samples every epoch with a seeded permutation (default true). */
  shuffle?: boolean;
  seed?: number;
  /** An optimizer instance, or a spec to build one; required unless the model is already compiled. */
  optimizer?: tf.Optimizer | OptimizerSpec;
  loss?: LossName;
  metrics?: TrainMetricName[];
  lrSchedule?: LrSchedule;
  validation?: TensorData;
  callbacks?: Callback[];
  /** Aborting stops training after the current batch; the result says 'interrupted'. */
  signal?: AbortSignal;
}

export interface FitResult {
  /** finished: all epochs ran; stopped: a callback stopped training; interrupted: the signal fired. */
  status: 'finished' | 'stopped' | 'interrupted';
  stopReason?: string;
  epochsCompleted: number;
  history: Logs[];
  seconds: number;
  samplesPerSecond: number;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function rowSize(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function checkTensorData(d: TensorData, what: string): void {
  const dx = rowSize(d.xShape);
  const dy = rowSize(d.yShape);
  if (d.x.length !== d.n * dx) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `${what}.x: expected ${d.n}×${dx} values, got ${d.x.length}`,
    );
  }
  if (d.y.length !== d.n * dy) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `${what}.y: expected ${d.n}×${dy} values, got ${d.y.length}`,
    );
  }
}

/**
 * The training loop: seeded shuffling, per-step learning-rate schedules, Keras callbacks, and a clean stop
 * after the current batch on abort. Built on `trainOnBatch` rather than `model.fit` because fit shuffles
 * with an unseeded Math.random and cannot change the learning rate per step.
 */
export async function fit(model: tf.LayersModel, train: TensorData, options: FitOptions): Promise<FitResult> {
  checkTensorData(train, 'train');
  if (options.validation) checkTensorData(options.validation, 'validation');
  if (train.n === 0) throw new ModelautoError('INVALID_ARGUMENT', 'train: no samples to train on');
  if (!Number.isInteger(options.epochs) || options.epochs < 1) {
    throw new ModelautoError('INVALID_ARGUMENT', `epochs: expected positive integer, got ${options.epochs}`);
  }
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `batchSize: expected positive integer, got ${options.batchSize}`,
    );
  }

  const metrics = options.metrics ?? [];
  if (options.optimizer || options.loss) {
    if (!options.optimizer || !options.loss) {
      throw new ModelautoError('INVALID_ARGUMENT', 'optimizer and loss must be given together');
    }
    const optimizer =
      options.optimizer instanceof tf.Optimizer ? options.optimizer : createOptimizer(options.optimizer);
    model.compile({ optimizer, loss: options.loss, metrics: [...metrics] });
  } else if (!model.optimizer) {
    throw new ModelautoError('INVALID_ARGUMENT', 'the model is not compiled: give optimizer and loss');
  }
  const optimizer = model.optimizer;
  // tfjs names 'accuracy' as 'acc' in its logs; report every metric under the name the user asked for.
  const logNames = ['loss', ...metrics];
  if (model.metricsNames.length !== logNames.length && metrics.length > 0) {
    throw new ModelautoError(
      'INTERNAL',
      `unexpected metric names from tfjs: ${model.metricsNames.join(', ')}`,
    );
  }
  const names = metrics.length > 0 ? logNames : model.metricsNames;

  const batchSize = options.batchSize;
  const stepsPerEpoch = Math.ceil(train.n / batchSize);
  const ctx: TrainingContext = {
    model,
    params: {
      epochs: options.epochs,
      batchSize,
      samples: train.n,
      stepsPerEpoch,
      validationSamples: options.validation?.n ?? 0,
      metrics: names,
    },
    stopTraining: false,
    globalStep: 0,
  };
  const callbacks = new CallbackList(options.callbacks ?? []);
  callbacks.setContext(ctx);

  const rng = new Rng(options.seed ?? 42);
  const shuffle = options.shuffle ?? true;
  const initialLr = getLearningRate(optimizer);
  const totalSteps = stepsPerEpoch * options.epochs;
  const history: Logs[] = [];
  let status: FitResult['status'] = 'finished';
  const started = performance.now();
  let samplesSeen = 0;

  const valTensors = options.validation
    ? {
        x: tf.tensor(options.validation.x, [options.validation.n, ...options.validation.xShape], 'float32'),
        y: tf.tensor(options.validation.y, [options.validation.n, ...options.validation.yShape], 'float32'),
      }
    : undefined;

  try {
    await callbacks.trainBegin({});
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      await callbacks.epochBegin(epoch, {});
      const order = shuffle ? rng.permutation(train.n) : Int32Array.from({ length: train.n }, (_, i) => i);
      const sums = new Float64Array(names.length);
      let seen = 0;
      let lr = initialLr;
      for (let batch = 0; batch < stepsPerEpoch; batch++) {
        if (options.lrSchedule) {
          lr = scheduledLearningRate(options.lrSchedule, initialLr, {
            step: ctx.globalStep,
            epoch,
            totalSteps,
          });
          setLearningRate(optimizer, lr);
        }
        const from = batch * batchSize;
        const to = Math.min(train.n, from + batchSize);
        await callbacks.batchBegin(batch, { batch, size: to - from });
        const xs = gatherRowsTensor(train.x, train.xShape, order, from, to);
        const ys = gatherRowsTensor(train.y, train.yShape, order, from, to);
        let values: number | number[];
        try {
          values = await model.trainOnBatch(xs, ys);
        } finally {
          xs.dispose();
          ys.dispose();
        }
        const arr = Array.isArray(values) ? values : [values];
        const logs: Logs = { batch, size: to - from };
        arr.forEach((v, i) => {
          logs[names[i] as string] = v;
          sums[i] = (sums[i] as number) + v * (to - from);
        });
        seen += to - from;
        samplesSeen += to - from;
        ctx.globalStep += 1;
        await callbacks.batchEnd(batch, logs);
        // tfjs resolves data() as a microtask, so without this the loop never lets the event loop run
        // signal handlers (Ctrl-C), timers or I/O callbacks until training ends.
        await yieldToEventLoop();
        if (options.signal?.aborted) {
          status = 'interrupted';
          break;
        }
        if (ctx.stopTraining) break;
      }
      if (status === 'interrupted') break;
      const epochLogs: Logs = {};
      names.forEach((k, i) => (epochLogs[k] = (sums[i] as number) / Math.max(seen, 1)));
      if (valTensors) {
        const out = model.evaluate(valTensors.x, valTensors.y, { batchSize: Math.max(batchSize, 256) });
        const outs = Array.isArray(out) ? out : [out];
        const vals = await Promise.all(outs.map((t) => t.data()));
        outs.forEach((t) => t.dispose());
        vals.forEach((v, i) => (epochLogs[`val_${names[i]}`] = v[0] as number));
      }
      epochLogs['learning_rate'] = lr;
      history.push(epochLogs);
      await callbacks.epochEnd(epoch, epochLogs);
      if (ctx.stopTraining) {
        status = 'stopped';
        break;
      }
    }
    await callbacks.trainEnd(history[history.length - 1] ?? {});
  } finally {
    valTensors?.x.dispose();
    valTensors?.y.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    status,
    ...(status === 'interrupted'
      ? { stopReason: 'interrupted by the user' }
      : ctx.stopReason
        ? { stopReason: ctx.stopReason }
        : {}),
    epochsCompleted: history.length,
    history,
    seconds,
    samplesPerSecond: samplesSeen / Math.max(seconds, 1e-9),
  };
}

/** Runs the model on `x` in batches and returns the flat outputs (n × outputs). */
export async function predictBatches(
  model: tf.LayersModel,
  x: Float32Array,
  xShape: number[],
  batchSize = 512,
): Promise<{ values: Float32Array; outputShape: number[] }> {
  const d = rowSize(xShape);
  const n = x.length / d;
  const outShape = (model.outputs[0]?.shape ?? []).slice(1).map((v) => v ?? 1);
  const k = rowSize(outShape);
  const values = new Float32Array(n * k);
  for (let from = 0; from < n; from += batchSize) {
    const to = Math.min(n, from + batchSize);
    const xs = tf.tensor(x.subarray(from * d, to * d), [to - from, ...xShape], 'float32');
    const ys = model.predict(xs) as tf.Tensor;
    values.set(await ys.data(), from * k);
    xs.dispose();
    ys.dispose();
  }
  return { values, outputShape: outShape };
}
