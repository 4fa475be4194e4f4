import type * as tf from '@tensorflow/tfjs';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { ModelautoError } from '../core/errors.js';
import { Preprocessor } from '../data/preprocess.js';
import type { DataProfile } from '../data/profile.js';
import { loadModelFrom, MODEL_JSON, saveModel, WEIGHTS_BIN } from '../model/io.js';
import type { TrackingStore } from '../store/tracking-store.js';
import type { Logs } from '../train/callbacks.js';
import { parseExperimentSpec, type ExperimentSpec } from '../train/experiment.js';
import type { Evaluation } from './evaluation.js';
import { REFERENCE_ARTIFACTS, type EncodedReferenceSample } from '../monitor/drift/reference.js';

/**
 * What a trained run leaves behind, as artifacts of the run: the model (tfjs format), the fitted
 * preprocessing, the training-data profile, the spec, the history, the test evaluation, TensorBoard logs.
 * Everything needed to predict the way training saw the data, and to compare live data to it later.
 */
export const ARTIFACTS = {
  modelJson: `model/${MODEL_JSON}`,
  weights: `model/${WEIGHTS_BIN}`,
  preprocessor: 'preprocessor.json',
  profile: 'profile.json',
  spec: 'spec.json',
  history: 'history.json',
  evaluation: 'evaluation.json',
  /**
   * Up to 1000 seeded rows of raw training features: the drift reference (src/monitor/drift/reference.ts).
   * Tensor features add their values as REFERENCE_ARTIFACTS.data (reference-sample.bin).
   */
  referenceSample: REFERENCE_ARTIFACTS.sample,
} as const;

export interface BundleContent {
  model: tf.LayersModel;
  preprocessor: Preprocessor;
  profile: DataProfile;
  spec: ExperimentSpec;
  history: Logs[];
  evaluation?: Evaluation;
  tensorboardDir?: string;
  referenceSample?: EncodedReferenceSample;
}

const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';

export async function saveBundle(
  store: TrackingStore,
  runId: string,
  runDir: string,
  b: BundleContent,
): Promise<void> {
  const modelDir = join(runDir, 'model');
  await saveModel(b.model, modelDir);
  await store.logArtifact(runId, { name: ARTIFACTS.modelJson, path: join(modelDir, MODEL_JSON) });
  await store.logArtifact(runId, { name: ARTIFACTS.weights, path: join(modelDir, WEIGHTS_BIN) });
  await store.logArtifact(runId, { name: ARTIFACTS.preprocessor, data: json(b.preprocessor.toJSON()) });
  await store.logArtifact(runId, { name: ARTIFACTS.profile, data: json(b.profile) });
  await store.logArtifact(runId, { name: ARTIFACTS.spec, data: json(b.spec) });
  await store.logArtifact(runId, { name: ARTIFACTS.history, data: json(b.history) });
  if (b.evaluation) await store.logArtifact(runId, { name: ARTIFACTS.evaluation, data: json(b.evaluation) });
  if (b.referenceSample) {
    await store.logArtifact(runId, { name: ARTIFACTS.referenceSample, data: b.referenceSample.json });
    if (b.referenceSample.data)
      await store.logArtifact(runId, { name: REFERENCE_ARTIFACTS.data, data: b.referenceSample.data });
  }
  if (b.tensorboardDir) {
    for (const file of listFiles(b.tensorboardDir)) {
      const rel = relative(b.tensorboardDir, file).split(sep).join('/');
      await store.logArtifact(runId, { name: `tensorboard/${rel}`, path: file });
    }
  }
}

function listFiles(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries.sort()) {
    const p = join(dir, e);
    out = statSync(p).isDirectory() ? out.concat(listFiles(p)) : out.concat(p);
  }
  return out;
}

export interface LoadedBundle {
  model: tf.LayersModel;
  preprocessor: Preprocessor;
  spec: ExperimentSpec;
}

/** Loads a trained run's model, preprocessing and spec from the store (hashes verified on read). */
export async function loadBundle(store: TrackingStore, runId: string): Promise<LoadedBundle> {
  const run = await store.getRun(runId);
  const names = new Set(run.artifacts.map((a) => a.name));
  for (const required of [ARTIFACTS.modelJson, ARTIFACTS.preprocessor, ARTIFACTS.spec]) {
    if (!names.has(required)) {
      throw new ModelautoError(
        'NOT_FOUND',
        `run ${runId} (${run.kind}, ${run.status}) has no ${required}: only finished or interrupted train runs hold a model`,
      );
    }
  }
  const modelJson = await store.readArtifact(runId, ARTIFACTS.modelJson);
  const model = await loadModelFrom(`run ${runId}: ${ARTIFACTS.modelJson}`, modelJson, (p) =>
    store.readArtifact(runId, `model/${p}`),
  );
  const preprocessor = Preprocessor.fromJSON(
    JSON.parse((await store.readArtifact(runId, ARTIFACTS.preprocessor)).toString('utf8')),
  );
  const spec = parseExperimentSpec(
    JSON.parse((await store.readArtifact(runId, ARTIFACTS.spec)).toString('utf8')),
  );
  return { model, preprocessor, spec };
}
