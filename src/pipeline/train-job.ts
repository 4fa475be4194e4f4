import * as tf from '@tensorflow/tfjs';
import { dirname, join, resolve } from 'node:path';
import { ModelautoError, toModelautoError } from '../core/errors.js';
import type { Dataset } from '../data/types.js';
import { loadDataset } from '../data/load.js';
import { splitDataset } from '../data/split.js';
import { fitPreprocessor, type Preprocessor } from '../data/preprocess.js';
import { profileDataset } from '../data/profile.js';
import { fingerprintDataset } from '../data/fingerprint.js';
import { sampleReference } from '../monitor/drift/reference.js';
import { setupBackend, type BackendInfo } from '../engine/backend.js';
import { buildModel, needsConvGradients } from '../model/build.js';
import type { Callback } from '../train/callbacks.js';
import { EarlyStopping } from '../train/early-stopping.js';
import { ModelCheckpoint } from '../train/checkpoint.js';
import {
  loadExperimentSpec,
  parseExperimentSpec,
  type ExperimentSpec,
  type ExperimentSpecInput,
} from '../train/experiment.js';
import { ProgressLogger, type ProgressOptions } from '../train/progress.js';
import { TensorBoardCallback } from '../train/tensorboard-callback.js';
import {
  fit,
  type FitResult,
  type LossName,
  type TensorData,
  type TrainMetricName,
} from '../train/trainer.js';
import type { TrackingStore } from '../store/tracking-store.js';
import type { RunRecord } from '../store/types.js';
import { openTrackingStore } from '../store/open.js';
import { evaluatePredictions, type Evaluation } from './evaluation.js';
import { gitCommit } from './git.js';
import { saveBundle } from './bundle.js';
import { TrackingCallback } from './tracking-callback.js';

export interface TrainJobOptions {
  /** A store instance, or a location (default: MODELAUTO_STORE or ./.modelauto). */
  store?: TrackingStore | string;
  /** Folder that relative data paths in the spec are resolved against (default: the spec file's folder). */
  baseDir?: string;
  /** A data set already in memory, used instead of `spec.data`'s source (its split and preprocess still apply). */
  dataset?: Dataset;
  /** A tfjs model built in code, used instead of `spec.model`. */
  model?: tf.LayersModel;
  /** Override a few training settings without editing the spec (CLI flags). */
  overrides?: {
    epochs?: number;
    batchSize?: number;
    backend?: ExperimentSpec['train']['backend'];
    limit?: number;
  };
  /** Print a progress bar/line logs to stderr (or the given stream). */
  progress?: boolean | ProgressOptions;
  /** User callbacks, called after modelauto's own. */
  callbacks?: Callback[];
  /** Aborting stops after the current batch; the run is recorded as interrupted. */
  signal?: AbortSignal;
  /** Run name; default: the spec's name. */
  runName?: string;
  /** Status lines (data loaded, backend, ...); default: silent. */
  log?: (line: string) => void;
  /** Links the run to a parent run (a search's trials are children of the search run). */
  parentRunId?: string;
  /** Tags set on the run when it is created. */
  tags?: Record<string, string>;
}

export interface TrainJobResult {
  run: RunRecord;
  storeLocation: string;
  runDir: string;
  backend: BackendInfo;
  fit: FitResult;
  /** Evaluation on the test split (absent when the run was interrupted or there is no test split). */
  test?: Evaluation;
  sizes: { train: number; validation: number; test: number };
}

/**
 * Trains an experiment end to end and records everything in the tracking store: params, per-epoch
 * metrics, the model with its preprocessing and data profile, TensorBoard logs, and the test evaluation.
 * A failure is recorded as a failed run before it is rethrown; Ctrl-C (the signal) as interrupted.
 */
export async function runTrainJob(
  specOrFile: string | ExperimentSpec | ExperimentSpecInput,
  options: TrainJobOptions = {},
): Promise<TrainJobResult> {
  const log = options.log ?? (() => undefined);
  const spec =
    typeof specOrFile === 'string' ? loadExperimentSpec(specOrFile) : parseExperimentSpec(specOrFile);
  const baseDir =
    options.baseDir ?? (typeof specOrFile === 'string' ? dirname(resolve(specOrFile)) : process.cwd());
  const train = {
    ...spec.train,
    ...(options.overrides?.epochs !== undefined ? { epochs: options.overrides.epochs } : {}),
    ...(options.overrides?.batchSize !== undefined ? { batchSize: options.overrides.batchSize } : {}),
    ...(options.overrides?.backend !== undefined ? { backend: options.overrides.backend } : {}),
  };
  if (!spec.model && !options.model) {
    throw new ModelautoError(
      'INVALID_SPEC',
      'model: required (a list of layers) unless a tfjs model is passed in code',
    );
  }
  const modelSpec = spec.model;
  const dataSpec =
    options.overrides?.limit !== undefined ? { ...spec.data, limit: options.overrides.limit } : spec.data;

  const ownsStore = !(options.store && typeof options.store !== 'string');
  const store =
    options.store && typeof options.store !== 'string'
      ? options.store
      : await openTrackingStore(options.store);
  let run: RunRecord | undefined;
  try {
    // Data first: a bad file fails before a run is opened, so the error is the data's, not a half run.
    const dataset = options.dataset ?? (await loadDataset(dataSpec, { baseDir }));
    const splits = splitDataset(dataset, dataSpec.split);
    log(
      `data: ${dataset.name} — train ${splits.train.n}, validation ${splits.validation.n}, test ${splits.test.n}`,
    );
    const pre = fitPreprocessor(
      splits.train,
      dataSpec.preprocess,
      'missing' in dataSpec && dataSpec.missing ? { missing: dataSpec.missing } : {},
    );
    const loss = train.loss ?? defaultLoss(dataset);
    const metrics = train.metrics ?? defaultMetrics(dataset);
    checkLossFitsTask(loss, dataset);

    const backend = await setupBackend({
      ...(train.backend ? { backend: train.backend } : {}),
      needsConvGradients: options.model
        ? modelHasConv(options.model)
        : modelSpec
          ? needsConvGradients(modelSpec)
          : false,
    });
    log(`backend: ${backend.name} (${backend.reason})`);

    const model = options.model ?? buildModel(modelSpec!, { inputShape: pre.inputShape, name: spec.name });
    checkOutputFitsTarget(model, dataset, loss, options.model ? undefined : spec);

    run = await store.createRun({
      name: options.runName ?? spec.name,
      kind: 'train',
      params: runParams(baseDir, spec, train, dataset, splits, backend, loss, metrics, model),
      dataFingerprint: fingerprintDataset(dataset),
      ...optionalGit(),
      ...(options.parentRunId ? { parentRunId: options.parentRunId } : {}),
      ...(options.tags ? { tags: options.tags } : {}),
    });
    const runDir = await store.runDir(run.id);
    log(`run: ${run.id} (${store.location})`);

    const callbacks: Callback[] = [new TrackingCallback(store, run.id)];
    if (options.progress)
      callbacks.push(new ProgressLogger(options.progress === true ? {} : options.progress));
    const tbDir = train.tensorboard
      ? resolve(baseDir, train.tensorboard.logdir ?? join(runDir, 'tensorboard'))
      : undefined;
    if (tbDir && train.tensorboard)
      callbacks.push(new TensorBoardCallback(tbDir, train.tensorboard.updateFreq));
    if (train.earlyStopping) callbacks.push(new EarlyStopping(train.earlyStopping));
    if (train.checkpoint) callbacks.push(new ModelCheckpoint(join(runDir, 'checkpoints'), train.checkpoint));
    callbacks.push(...(options.callbacks ?? []));

    const target = targetFormat(loss);
    const trainData = toTensorData(pre, splits.train, target);
    const valData = splits.validation.n > 0 ? toTensorData(pre, splits.validation, target) : undefined;
    const result = await fit(model, trainData, {
      epochs: train.epochs,
      batchSize: train.batchSize,
      shuffle: train.shuffle,
      seed: train.seed,
      optimizer: train.optimizer,
      loss,
      metrics,
      ...(train.lrSchedule ? { lrSchedule: train.lrSchedule } : {}),
      ...(valData ? { validation: valData } : {}),
      callbacks,
      ...(options.signal ? { signal: options.signal } : {}),
    });

    let test: Evaluation | undefined;
    if (result.status !== 'interrupted' && splits.test.n > 0) {
      const testData = toTensorData(pre, splits.test, target);
      test = await evaluatePredictions(model, testData, dataset.target, splits.test);
      await store.logMetrics(
        run.id,
        Object.entries(test.scalars).map(([k, v]) => ({
          key: `test_${k}`,
          value: v,
          step: result.epochsCompleted,
        })),
      );
    }
    await saveBundle(store, run.id, runDir, {
      model,
      preprocessor: pre,
      profile: profileDataset(splits.train),
      referenceSample: sampleReference(splits.train, { seed: dataSpec.split.seed }),
      spec,
      history: result.history,
      ...(test ? { evaluation: test } : {}),
      ...(tbDir ? { tensorboardDir: tbDir } : {}),
    });
    await store.setTags(run.id, {
      stop_reason: result.stopReason ?? 'completed all epochs',
      samples_per_second: String(Math.round(result.samplesPerSecond)),
    });
    const finished =
      result.status === 'interrupted'
        ? await store.finishRun(run.id, 'interrupted', 'interrupted by the user (SIGINT)')
        : await store.finishRun(run.id, 'finished');
    return {
      run: finished,
      storeLocation: store.location,
      runDir,
      backend,
      fit: result,
      ...(test ? { test } : {}),
      sizes: { train: splits.train.n, validation: splits.validation.n, test: splits.test.n },
    };
  } catch (e) {
    const err = toModelautoError(e);
    // Every attempt is on record: a failure before the run was opened (bad data, a model that does not
    // fit the data) still leaves a failed run that says why.
    const failed =
      run ??
      (await store
        .createRun({
          name: options.runName ?? spec.name,
          kind: 'train',
          params: { experiment: spec.name, specDir: baseDir },
          ...(options.parentRunId ? { parentRunId: options.parentRunId } : {}),
          ...(options.tags ? { tags: options.tags } : {}),
        })
        .catch(() => undefined));
    if (failed)
      await store.finishRun(failed.id, 'failed', `${err.code}: ${err.message}`).catch(() => undefined);
    throw err;
  } finally {
    if (ownsStore) await store.close();
  }
}

export type TargetFormat = 'onehot' | 'index' | 'value';

function targetFormat(loss: LossName): TargetFormat {
  if (loss === 'categoricalCrossentropy') return 'onehot';
  if (loss === 'sparseCategoricalCrossentropy' || loss === 'binaryCrossentropy') return 'index';
  return 'value';
}

export function toTensorData(pre: Preprocessor, ds: Dataset, target: TargetFormat): TensorData {
  const { x } = pre.transform(ds);
  const y = encodeTarget(ds, target);
  return { n: ds.n, x, xShape: pre.inputShape, y: y.values, yShape: y.shape };
}

function encodeTarget(ds: Dataset, format: TargetFormat): { values: Float32Array; shape: number[] } {
  const t = ds.target;
  if (t.kind === 'regression') return { values: Float32Array.from(t.y), shape: [1] };
  if (format === 'onehot') {
    const k = t.classes.length;
    const out = new Float32Array(ds.n * k);
    for (let i = 0; i < ds.n; i++) out[i * k + (t.y[i] as number)] = 1;
    return { values: out, shape: [k] };
  }
  return { values: Float32Array.from(t.y), shape: [1] };
}

function defaultLoss(ds: Dataset): LossName {
  return ds.target.kind === 'regression' ? 'meanSquaredError' : 'categoricalCrossentropy';
}

function defaultMetrics(ds: Dataset): TrainMetricName[] {
  return ds.target.kind === 'regression' ? ['mae'] : ['accuracy'];
}

function checkLossFitsTask(loss: LossName, ds: Dataset): void {
  const classification = ds.target.kind === 'classification';
  if (classification && (loss === 'meanSquaredError' || loss === 'meanAbsoluteError')) {
    throw new ModelautoError(
      'INVALID_SPEC',
      `train.loss: ${loss} is a regression loss but data.task is classification`,
    );
  }
  if (!classification && !(loss === 'meanSquaredError' || loss === 'meanAbsoluteError')) {
    throw new ModelautoError(
      'INVALID_SPEC',
      `train.loss: ${loss} is a classification loss but data.task is regression`,
    );
  }
  if (
    loss === 'binaryCrossentropy' &&
    ds.target.kind === 'classification' &&
    ds.target.classes.length !== 2
  ) {
    throw new ModelautoError(
      'INVALID_SPEC',
      `train.loss: binaryCrossentropy needs exactly 2 classes, the data has ${ds.target.classes.length}`,
    );
  }
}

/** The last layer must produce what the loss compares against; say so before training, not after. */
function checkOutputFitsTarget(
  model: tf.LayersModel,
  ds: Dataset,
  loss: LossName,
  spec?: ExperimentSpec,
): void {
  const out = model.outputs[0]?.shape ?? [];
  const t = ds.target;
  const expectedUnits = t.kind === 'classification' && loss !== 'binaryCrossentropy' ? t.classes.length : 1;
  if (out.length !== 2 || out[1] !== expectedUnits) {
    const where = spec?.model ? `model.layers[${spec.model.layers.length - 1}]` : 'model output';
    const what = t.kind === 'classification' ? `${t.classes.length} classes` : 'one regression target';
    throw new ModelautoError(
      'INVALID_SPEC',
      `${where}: the model outputs shape [${out.map((d) => d ?? 'batch').join(', ')}] but ${loss} on ${what} needs [batch, ${expectedUnits}]`,
    );
  }
}

function modelHasConv(model: tf.LayersModel): boolean {
  return model.layers.some((l) => /conv|pool/i.test(l.getClassName()));
}

function optionalGit(): { gitCommit?: string } {
  const c = gitCommit();
  return c ? { gitCommit: c } : {};
}

function runParams(
  baseDir: string,
  spec: ExperimentSpec,
  train: ExperimentSpec['train'],
  dataset: Dataset,
  splits: { train: Dataset; validation: Dataset; test: Dataset },
  backend: BackendInfo,
  loss: LossName,
  metrics: TrainMetricName[],
  model: tf.LayersModel,
): Record<string, import('../store/types.js').JsonValue> {
  return {
    experiment: spec.name,
    specDir: baseDir,
    data: JSON.parse(JSON.stringify(spec.data)),
    model: spec.model ? JSON.parse(JSON.stringify(spec.model)) : { code: model.name },
    train: JSON.parse(JSON.stringify(train)),
    loss,
    metrics,
    backend: backend.name,
    dataset: dataset.name,
    classes: dataset.target.kind === 'classification' ? dataset.target.classes : null,
    samples: { train: splits.train.n, validation: splits.validation.n, test: splits.test.n },
    parameters: model.countParams(),
    tfjs: tf.version.tfjs,
  };
}
