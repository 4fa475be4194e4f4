/**
 * What a gate measures itself: a model's scores on a holdout (the candidate's test split, re-created
 * from its recorded seed, so the champion is scored on exactly the rows the candidate was), the size of
 * its model files, and its single-row prediction latency percentiles.
 */
import * as tf from '@tensorflow/tfjs';
import { gzipSync } from 'node:zlib';
import { ModelautoError } from '../../../core/errors.js';
import { fingerprintDataset } from '../../../data/fingerprint.js';
import { loadDataset } from '../../../data/load.js';
import { splitDataset } from '../../../data/split.js';
import type { Dataset } from '../../../data/types.js';
import { setupBackend } from '../../../engine/backend.js';
import type { TrackingStore } from '../../../store/tracking-store.js';
import { ARTIFACTS, type LoadedBundle } from '../../bundle.js';
import { evaluatePredictions } from '../../evaluation.js';
import { toTensorData } from '../../train-job.js';

export interface Holdout {
  data: Dataset;
  /** Class names in label order (classification), to check a champion predicts the same classes. */
  classes: string[] | null;
  description: string;
}

/** The test split of a run's data, as it was when the run trained (refused if the data changed). */
export async function holdoutOf(store: TrackingStore, runId: string, bundle: LoadedBundle): Promise<Holdout> {
  const run = await store.getRun(runId);
  const specDir = typeof run.params['specDir'] === 'string' ? run.params['specDir'] : process.cwd();
  const full = await loadDataset(bundle.spec.data, { baseDir: specDir });
  if (run.dataFingerprint && fingerprintDataset(full) !== run.dataFingerprint) {
    throw new ModelautoError(
      'CONFLICT',
      `the data of run ${runId.slice(0, 8)} changed since training (fingerprint differs): its holdout cannot be re-created`,
    );
  }
  const data = splitDataset(full, bundle.spec.data.split).test;
  if (data.n === 0) {
    throw new ModelautoError(
      'INVALID_DATA',
      `run ${runId.slice(0, 8)} has no test split to gate on (data.split.test is 0)`,
    );
  }
  const classes = data.target.kind === 'classification' ? data.target.classes : null;
  return { data, classes, description: `test split of run ${runId.slice(0, 8)} (${data.n} rows)` };
}

/** `test_<score>` for every score of the model on the holdout. */
export async function scoreOnHoldout(
  bundle: LoadedBundle,
  holdout: Holdout,
): Promise<Record<string, number>> {
  await setupBackend({});
  const tensors = toTensorData(bundle.preprocessor, holdout.data, 'index');
  const e = await evaluatePredictions(bundle.model, tensors, holdout.data.target, holdout.data);
  return Object.fromEntries(Object.entries(e.scalars).map(([k, v]) => [`test_${k}`, v]));
}

/** Bytes of the run's model files (model.json + weights), raw and gzipped as one would ship them. */
export async function modelSize(store: TrackingStore, runId: string): Promise<Record<string, number>> {
  const files = [ARTIFACTS.modelJson, ARTIFACTS.weights];
  let raw = 0;
  let gz = 0;
  for (const name of files) {
    const bytes = await store.readArtifact(runId, name);
    raw += bytes.length;
    gz += gzipSync(bytes, { level: 9 }).length;
  }
  return { size_bytes: raw, size_gzip_bytes: gz };
}

/**
 * Latency of one-row predictions (input from the holdout, values read back) over `calls` calls after a
 * warm-up: mean, p50, p95, p99 in milliseconds.
 */
export function predictLatency(bundle: LoadedBundle, holdout: Holdout, calls = 200): Record<string, number> {
  const { x, xShape } = toTensorData(bundle.preprocessor, holdout.data, 'index');
  const d = xShape.reduce((a, b) => a * b, 1);
  const rows = Math.max(1, holdout.data.n);
  const times: number[] = [];
  for (let i = 0; i < calls + 10; i++) {
    const row = i % rows;
    const input = tf.tensor(x.subarray(row * d, (row + 1) * d), [1, ...xShape], 'float32');
    const t0 = performance.now();
    const y = bundle.model.predict(input) as tf.Tensor;
    y.dataSync();
    const ms = performance.now() - t0;
    y.dispose();
    input.dispose();
    if (i >= 10) times.push(ms);
  }
  times.sort((a, b) => a - b);
  const q = (p: number): number =>
    times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)] as number;
  return {
    latency_mean_ms: times.reduce((s, t) => s + t, 0) / times.length,
    latency_p50_ms: q(0.5),
    latency_p95_ms: q(0.95),
    latency_p99_ms: q(0.99),
  };
}
