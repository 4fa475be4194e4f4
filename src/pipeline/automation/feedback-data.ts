/**
 * Fresh training data for a retrain: the training data (a `data:` section, e.g. a sample of MNIST's
 * training set) plus every labelled prediction the server logged for the model (inputs from the
 * prediction log, labels from feedback), written as one IDX images + labels pair that a train run
 * reads like any data file — so the gate can re-create the candidate's holdout (which then holds
 * feedback rows, shifted ones included) from the file and its recorded split seed.
 *
 * Image (tensor) models with integer class labels, as IDX holds them; the feedback rows must have the
 * training data's image size. Requests whose inputs were logged only as a summary (too large) have no
 * values to learn from and are counted as skipped.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileAtomic } from '../../core/atomic.js';
import { ModelautoError } from '../../core/errors.js';
import { loadDataset } from '../../data/load.js';
import type { DataSpec, SplitSpec } from '../../data/spec.js';
import { itemSize } from '../../data/split.js';
import { decodeLoggedInputs } from '../../monitor/live/record.js';
import type { LabelledPrediction, PredictionLog } from '../../store/prediction-log.js';

export interface FeedbackSelection {
  /** The most recent labelled rows taken at most. */
  limit: number;
  /** Wait until at least this many labelled rows are there (0: take what there is). */
  minRows: number;
  /** Longest wait for minRows, in ms. */
  timeoutMs: number;
  /** Only rows predicted within this long before now (ms); null: no age limit. */
  recentMs: number | null;
}

export interface CollectFeedbackOptions {
  model: string;
  /** The training data: a tensor data set (built-in MNIST, IDX files). */
  base: DataSpec;
  baseDir: string;
  feedback: FeedbackSelection;
  split: SplitSpec;
  /** Folder the IDX pair is written to. */
  outDir: string;
  predictionLog: PredictionLog;
  signal?: AbortSignal;
  log?: (line: string) => void;
  now?: () => number;
}

export interface FreshData {
  spec: DataSpec;
  files: { images: string; labels: string };
  rows: { base: number; feedback: number; skipped: number; total: number };
  /** Feedback rows by the version that made the prediction. */
  feedbackByVersion: Record<string, number>;
  /** Feedback rows whose prediction was wrong (what the retrain has to learn). */
  feedbackMispredicted: number;
  classes: string[];
  shape: number[];
}

/** Labelled rows of the model, newest first by label time, waiting for `minRows` if asked. */
async function labelledRows(o: CollectFeedbackOptions): Promise<LabelledPrediction[]> {
  const now = o.now ?? Date.now;
  const deadline = now() + o.feedback.timeoutMs;
  for (;;) {
    const all = await o.predictionLog.labelled(o.model, { limit: o.feedback.limit });
    const cutoff = o.feedback.recentMs === null ? -Infinity : now() - o.feedback.recentMs;
    const rows = all.filter((r) => r.predictedAt >= cutoff);
    if (rows.length >= o.feedback.minRows) return rows;
    if (o.signal?.aborted) throw new ModelautoError('INTERRUPTED', 'interrupted while waiting for feedback');
    if (now() >= deadline) {
      throw new ModelautoError(
        'UNAVAILABLE',
        `model ${o.model} has ${rows.length} labelled prediction(s)${o.feedback.recentMs !== null ? ' in the recent window' : ''}, fewer than the ${o.feedback.minRows} asked for, after waiting ${Math.round(o.feedback.timeoutMs / 1000)} s (send feedback to /v1/models/${o.model}/feedback)`,
      );
    }
    o.log?.(`waiting for feedback: ${rows.length}/${o.feedback.minRows} labelled rows`);
    await sleep(500);
  }
}

function integerLabel(label: string, where: string): number {
  const v = Number(label);
  if (!/^-?\d+$/.test(label.trim()) || !Number.isSafeInteger(v) || Math.abs(v) > 2 ** 31 - 1) {
    throw new ModelautoError(
      'INVALID_DATA',
      `${where}: class ${JSON.stringify(label)} is not an integer; fresh data is written as IDX files, whose labels are integers`,
    );
  }
  return v;
}

/** An IDX file: magic (0, 0, type, dims), big-endian sizes, big-endian data. */
function idxFile(dims: number[], data: Uint8Array | Int32Array | Float32Array): Buffer {
  const type = data instanceof Uint8Array ? 0x08 : data instanceof Int32Array ? 0x0c : 0x0d;
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  if (data instanceof Uint8Array) return Buffer.concat([header, data]);
  const body = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Int32Array) body.writeInt32BE(data[i] as number, i * 4);
    else body.writeFloatBE(data[i] as number, i * 4);
  }
  return Buffer.concat([header, body]);
}

export async function collectFreshData(o: CollectFeedbackOptions): Promise<FreshData> {
  const base = await loadDataset(o.base, { baseDir: o.baseDir });
  if (base.features.kind !== 'tensor' || base.target.kind !== 'classification') {
    throw new ModelautoError(
      'INVALID_DATA',
      `the training data (${base.name}) must be images with class labels: fresh data is written as IDX files`,
      { location: { path: 'base' } },
    );
  }
  const shape = base.features.shape;
  const d = itemSize(shape);
  const { classes } = base.target;
  const labelled = await labelledRows(o);

  // Inputs of each labelled request, read once per request.
  const inputs = new Map<string, Float32Array | null>();
  const values: Float32Array[] = [];
  const labels: number[] = [];
  const byVersion: Record<string, number> = {};
  let skipped = 0;
  let mispredicted = 0;
  for (const l of labelled) {
    if (!inputs.has(l.requestId)) {
      const record = await o.predictionLog.get(o.model, l.requestId);
      const decoded = record ? decodeLoggedInputs(record.inputs) : null;
      const tensors = decoded ? [...decoded.values()] : [];
      const only = tensors.length === 1 && tensors[0]?.role === 'tensor' ? tensors[0].data : null;
      if (only && only.length !== (record?.rows ?? 0) * d) {
        throw new ModelautoError(
          'INVALID_DATA',
          `request ${l.requestId} of ${o.model}: its inputs hold ${only.length / Math.max(1, record?.rows ?? 1)} values per row, the training data ${d} (shape [${shape.join(', ')}])`,
        );
      }
      inputs.set(l.requestId, only);
    }
    const data = inputs.get(l.requestId);
    if (!data) {
      skipped++;
      continue;
    }
    values.push(data.subarray(l.row * d, (l.row + 1) * d));
    labels.push(integerLabel(l.label, `feedback for request ${l.requestId} row ${l.row}`));
    byVersion[String(l.version)] = (byVersion[String(l.version)] ?? 0) + 1;
    if (l.predicted !== l.label) mispredicted++;
  }

  const n = base.n + values.length;
  const pixels = base.features.data;
  const bytes = pixels instanceof Uint8Array && values.every((v) => v.every((x) => (x & 255) === x));
  const images = bytes ? new Uint8Array(n * d) : new Float32Array(n * d);
  images.set(pixels.subarray(0, base.n * d));
  values.forEach((v, i) => images.set(v, (base.n + i) * d));
  const ys = new Int32Array(n);
  for (let i = 0; i < base.n; i++) {
    ys[i] = integerLabel(classes[base.target.y[i] as number] ?? '', `${base.name} row ${i}`);
  }
  labels.forEach((y, i) => (ys[base.n + i] = y));
  const small = ys.every((y) => y >= 0 && y <= 255);

  mkdirSync(o.outDir, { recursive: true });
  const files = { images: join(o.outDir, 'images-idx-ubyte'), labels: join(o.outDir, 'labels-idx-ubyte') };
  writeFileAtomic(files.images, idxFile([n, ...shape.filter((_, i) => i < 2 || shape[i] !== 1)], images));
  writeFileAtomic(files.labels, idxFile([n], small ? Uint8Array.from(ys) : ys));
  o.log?.(
    `fresh data: ${base.n} training rows + ${values.length} labelled feedback rows (${mispredicted} mispredicted)` +
      `${skipped ? `, ${skipped} skipped (inputs logged as a summary)` : ''} → ${o.outDir}`,
  );
  const spec = {
    idx: files,
    name: `${o.model}-fresh`,
    split: o.split,
    preprocess: o.base.preprocess,
  } as DataSpec;
  return {
    spec,
    files,
    rows: { base: base.n, feedback: values.length, skipped, total: n },
    feedbackByVersion: byVersion,
    feedbackMispredicted: mispredicted,
    classes,
    shape,
  };
}
