import * as ort from 'onnxruntime-node';
import { ModelautoError } from '../../core/errors.js';

/**
 * Running exported models with onnxruntime-node (CPU). Parity tests, calibration, int8 accuracy and the
 * benchmark all go through here, so they run the model the way a user would.
 */
export interface SessionOptions {
  /** Intra-op threads (default 1: predictable on a shared machine; 0 lets onnxruntime decide). */
  threads?: number;
  /** Where onnxruntime writes the model after its graph optimizations (to see which kernels were fused). */
  optimizedModelPath?: string;
}

export async function createSession(
  model: Uint8Array | string,
  options: SessionOptions = {},
): Promise<ort.InferenceSession> {
  const opts: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: options.threads ?? 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    ...(options.optimizedModelPath ? { optimizedModelFilePath: options.optimizedModelPath } : {}),
  };
  try {
    return typeof model === 'string'
      ? await ort.InferenceSession.create(model, opts)
      : await ort.InferenceSession.create(model, opts);
  } catch (e) {
    throw new ModelautoError('INVALID_DATA', `onnxruntime refused the model: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

export type FeedValue =
  | { type: 'float32'; data: Float32Array; dims: number[] }
  | { type: 'int32'; data: Int32Array; dims: number[] }
  | { type: 'string'; data: string[]; dims: number[] };

/** Runs the session on named inputs and returns every output as float32 data with its dims. */
export async function runSession(
  session: ort.InferenceSession,
  feeds: Record<string, FeedValue>,
): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
  const tensors: Record<string, ort.Tensor> = {};
  for (const [name, f] of Object.entries(feeds)) {
    tensors[name] =
      f.type === 'string' ? new ort.Tensor('string', f.data, f.dims) : new ort.Tensor(f.type, f.data, f.dims);
  }
  const result = await session.run(tensors);
  const out: Record<string, { data: Float32Array; dims: number[] }> = {};
  for (const [name, t] of Object.entries(result)) {
    if (!(t.data instanceof Float32Array)) {
      throw new ModelautoError('INTERNAL', `onnxruntime output ${name} is ${t.type}, expected float32`);
    }
    out[name] = { data: t.data, dims: [...t.dims] };
  }
  return out;
}

/**
 * Predicts n samples laid out row-major in batches, for a single-input single-output model; returns the
 * outputs concatenated, row-major.
 */
export async function predictOnnx(
  session: ort.InferenceSession,
  x: Float32Array,
  sampleShape: number[],
  batchSize = 256,
): Promise<{ data: Float32Array; width: number }> {
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  if (session.inputNames.length !== 1 || !inputName || !outputName) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `expected a model with one input, got ${session.inputNames.length}`,
    );
  }
  const size = sampleShape.reduce((a, b) => a * b, 1);
  const n = x.length / size;
  const parts: Float32Array[] = [];
  let width = 0;
  for (let start = 0; start < n; start += batchSize) {
    const b = Math.min(batchSize, n - start);
    const feed = new ort.Tensor('float32', x.subarray(start * size, (start + b) * size), [b, ...sampleShape]);
    const result = await session.run({ [inputName]: feed });
    const out = result[outputName];
    if (!out || !(out.data instanceof Float32Array)) {
      throw new ModelautoError('INTERNAL', `onnxruntime gave no float32 output ${outputName}`);
    }
    width = out.data.length / b;
    parts.push(Float32Array.from(out.data));
  }
  const data = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    data.set(p, off);
    off += p.length;
  }
  return { data, width };
}
