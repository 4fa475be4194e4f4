import type * as ort from 'onnxruntime-node';
import { ModelautoError } from '../../core/errors.js';
import type { Preprocessor } from '../../data/preprocess.js';
import { headDataset } from '../../data/split.js';
import type { Dataset, Target } from '../../data/types.js';
import { rawFeeds } from './preprocess.js';
import { predictOnnx, runSession, type FeedValue } from './runtime.js';

/**
 * Predictions of an exported model on a data set, the way a deployment would compute them: raw columns
 * into a graph that preprocesses, or the saved transform in JS and then the graph.
 */
export async function predictDataset(
  session: ort.InferenceSession,
  ds: Dataset,
  preprocessor: Preprocessor,
  preprocessingInGraph: boolean,
  batchSize = 256,
): Promise<{ data: Float32Array; width: number }> {
  if (!preprocessingInGraph) {
    const { x } = preprocessor.transform(ds);
    return predictOnnx(session, x, preprocessor.inputShape, batchSize);
  }
  const state = preprocessor.toJSON();
  const parts: Float32Array[] = [];
  let width = 0;
  for (let start = 0; start < ds.n; start += batchSize) {
    const end = Math.min(ds.n, start + batchSize);
    const out = await runSession(session, rawFeeds(state, ds, start, end));
    const first = Object.values(out)[0];
    if (!first) throw new ModelautoError('INTERNAL', 'onnxruntime returned no output');
    width = first.data.length / (end - start);
    parts.push(Float32Array.from(first.data));
  }
  const data = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    data.set(p, off);
    off += p.length;
  }
  return { data, width };
}

export interface Score {
  /** accuracy for classification, mae for regression. */
  metric: 'accuracy' | 'mae';
  value: number;
  n: number;
}

/** Accuracy (argmax, or p >= 0.5 for one sigmoid output) or mean absolute error against the true targets. */
export function scorePredictions(pred: { data: Float32Array; width: number }, target: Target): Score {
  const n = target.y.length;
  if (n === 0) throw new ModelautoError('INVALID_DATA', 'no samples to score');
  if (target.kind === 'regression') {
    let sum = 0;
    for (let i = 0; i < n; i++)
      sum += Math.abs((pred.data[i * pred.width] as number) - (target.y[i] as number));
    return { metric: 'mae', value: sum / n, n };
  }
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = pred.data.subarray(i * pred.width, (i + 1) * pred.width);
    let best = 0;
    if (pred.width === 1) best = (row[0] as number) >= 0.5 ? 1 : 0;
    else for (let k = 1; k < row.length; k++) if ((row[k] as number) > (row[best] as number)) best = k;
    if (best === target.y[i]) correct++;
  }
  return { metric: 'accuracy', value: correct / n, n };
}

/** Calibration batches from the first `samples` rows of a data set, in the graph's input form. */
export function calibrationBatches(
  data: Dataset,
  preprocessor: Preprocessor,
  preprocessingInGraph: boolean,
  samples: number,
  batchSize = 64,
): Record<string, FeedValue>[] {
  const ds = headDataset(data, samples);
  const n = ds.n;
  const batches: Record<string, FeedValue>[] = [];
  const state = preprocessor.toJSON();
  const x = preprocessingInGraph ? undefined : preprocessor.transform(ds).x;
  const size = preprocessor.inputShape.reduce((a, b) => a * b, 1);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    batches.push(
      x
        ? {
            input: {
              type: 'float32',
              data: x.slice(start * size, end * size),
              dims: [end - start, ...preprocessor.inputShape],
            },
          }
        : rawFeeds(state, ds, start, end),
    );
  }
  return batches;
}
