import * as tf from '@tensorflow/tfjs';
import { ModelautoError } from '../../core/errors.js';
import { fingerprintDataset } from '../../data/fingerprint.js';
import { loadDataset } from '../../data/load.js';
import { profileDataset, type DataProfile } from '../../data/profile.js';
import { splitDataset } from '../../data/split.js';
import type { Dataset } from '../../data/types.js';
import { MODEL_JSON, WEIGHTS_BIN } from '../../model/io.js';
import { loadBundle, type LoadedBundle } from '../bundle.js';
import { evaluatePredictions, type Evaluation } from '../evaluation.js';
import { toTensorData, type TargetFormat } from '../train-job.js';
import type { TrackingStore } from '../../store/tracking-store.js';
import type { RunRecord } from '../../store/types.js';
import { LOSSES, predictBatches, type LossName, type TensorData } from '../../train/trainer.js';
import { sizeOfFiles, type ModelSize } from '../../optimize/serialize.js';

/** A trained run with its data re-created from the recorded seed: what every optimize job starts from. */
export interface Source {
  store: TrackingStore;
  run: RunRecord;
  bundle: LoadedBundle;
  loss: LossName;
  target: TargetFormat;
  splits: { train: Dataset; validation: Dataset; test: Dataset };
  train: TensorData;
  validation: TensorData;
  test: TensorData;
  profile: DataProfile;
  /** The stored model files' sizes (what the candidates are compared with). */
  size: ModelSize;
  /** Score of the stored model: accuracy (classification) or -MAE (regression), on validation data. */
  validationScore: number;
  testScore: number;
  testEvaluation?: Evaluation;
}

export interface SourceOptions {
  /** Use only the first n training rows (must match how the run was trained, see the fingerprint check). */
  limit?: number;
  log?: (line: string) => void;
}

function targetFormat(loss: LossName): TargetFormat {
  if (loss === 'categoricalCrossentropy') return 'onehot';
  if (loss === 'sparseCategoricalCrossentropy' || loss === 'binaryCrossentropy') return 'index';
  return 'value';
}

/** Accuracy (classification) or negative MAE (regression) of a model on a split: higher is better. */
export async function scoreModel(model: tf.LayersModel, data: TensorData, ds: Dataset): Promise<number> {
  const { values, outputShape } = await predictBatches(model, data.x, data.xShape);
  const k = outputShape.reduce((a, b) => a * b, 1);
  const t = ds.target;
  if (t.kind === 'regression') {
    let s = 0;
    for (let i = 0; i < ds.n; i++) s += Math.abs((values[i] as number) - (t.y[i] as number));
    return -s / Math.max(1, ds.n);
  }
  let correct = 0;
  for (let i = 0; i < ds.n; i++) {
    let best = 0;
    if (k === 1) best = (values[i] as number) >= 0.5 ? 1 : 0;
    else
      for (let j = 1; j < k; j++)
        if ((values[i * k + j] as number) > (values[i * k + best] as number)) best = j;
    if (best === t.y[i]) correct++;
  }
  return correct / Math.max(1, ds.n);
}

/** The name of the score in messages and tables. */
export function scoreName(ds: Dataset): string {
  return ds.target.kind === 'regression' ? '-MAE' : 'accuracy';
}

/**
 * Loads a trained run's model and re-creates its splits from the recorded seed, refusing when the data
 * changed since training (fingerprint), like `modelauto evaluate`.
 */
export async function loadSource(
  store: TrackingStore,
  runRef: string,
  options: SourceOptions = {},
): Promise<Source> {
  const log = options.log ?? (() => undefined);
  const runId = await store.resolveRunId(runRef);
  const run = await store.getRun(runId);
  const bundle = await loadBundle(store, runId);
  const lossParam = run.params['loss'];
  const loss: LossName =
    typeof lossParam === 'string' && (LOSSES as readonly string[]).includes(lossParam)
      ? (lossParam as LossName)
      : (bundle.spec.train.loss ?? 'categoricalCrossentropy');
  const specDir = typeof run.params['specDir'] === 'string' ? run.params['specDir'] : process.cwd();
  const dataSpec =
    options.limit !== undefined ? { ...bundle.spec.data, limit: options.limit } : bundle.spec.data;
  const full = await loadDataset(dataSpec, { baseDir: specDir });
  if (run.dataFingerprint && fingerprintDataset(full) !== run.dataFingerprint) {
    throw new ModelautoError(
      'CONFLICT',
      `the data of run ${runId.slice(0, 8)} differs from what it was trained on (fingerprint)${
        options.limit !== undefined ? ` with --limit ${options.limit}` : ''
      }: its splits cannot be re-created (a run trained with --limit n needs the same --limit)`,
    );
  }
  const splits = splitDataset(full, bundle.spec.data.split);
  if (splits.validation.n === 0) {
    throw new ModelautoError(
      'INVALID_DATA',
      `run ${runId.slice(0, 8)} has no validation split: candidates are compared on validation data (set data.split.validation > 0)`,
    );
  }
  const target = targetFormat(loss);
  const train = toTensorData(bundle.preprocessor, splits.train, target);
  const validation = toTensorData(bundle.preprocessor, splits.validation, target);
  const test = toTensorData(bundle.preprocessor, splits.test, target);
  const files = {
    modelJson: await store.readArtifact(runId, `model/${MODEL_JSON}`),
    weights: await store.readArtifact(runId, `model/${WEIGHTS_BIN}`),
  };
  const validationScore = await scoreModel(bundle.model, validation, splits.validation);
  const testScore = splits.test.n > 0 ? await scoreModel(bundle.model, test, splits.test) : Number.NaN;
  log(
    `source: run ${runId.slice(0, 8)} (${run.name}); data train ${splits.train.n}, validation ${splits.validation.n}, test ${splits.test.n}; ` +
      `${scoreName(full)} validation ${validationScore.toFixed(4)}, test ${testScore.toFixed(4)}`,
  );
  return {
    store,
    run,
    bundle,
    loss,
    target,
    splits,
    train,
    validation,
    test,
    profile: profileDataset(splits.train),
    size: sizeOfFiles(files),
    validationScore,
    testScore,
  };
}

/** Full evaluation (scikit-learn metrics) of a model on the source's test split, when there is one. */
export async function evaluateOnTest(source: Source, model: tf.LayersModel): Promise<Evaluation | undefined> {
  if (source.splits.test.n === 0) return undefined;
  const full = source.splits.test;
  return evaluatePredictions(model, source.test, full.target, full);
}

/** One-hot labels of a classification split (what distillation trains against). */
export function oneHot(data: TensorData, ds: Dataset): TensorData {
  if (ds.target.kind !== 'classification') {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      'distillation needs a classification run (soft targets are class probabilities)',
    );
  }
  const k = ds.target.classes.length;
  const y = new Float32Array(ds.n * k);
  for (let i = 0; i < ds.n; i++) y[i * k + (ds.target.y[i] as number)] = 1;
  return { ...data, y, yShape: [k] };
}
