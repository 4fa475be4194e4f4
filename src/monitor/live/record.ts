/**
 * How a request's inputs and outputs are written to the prediction log, compactly:
 *
 * - tensor inputs (images): `{"kind": "tensor", "dtype": "uint8" | "float32", "shape": [rows, ...],
 *   "data": "<base64>"}`. Values that are all integers 0..255 (raw MNIST pixels) are stored one byte
 *   each (a 28x28 digit is 784 bytes, 1,048 base64 characters), anything else as little-endian
 *   float32. A tensor with more than `maxInputValues` values is stored as a summary instead:
 *   `{"kind": "summary", "shape", "min", "max", "mean", "std", "nan"}`;
 * - column inputs (tables): `{"kind": "cells", "values": [...]}`, one JSON value per row (null: missing);
 * - outputs: per output, a float32 tensor as above (exact, and much cheaper to write than JSON
 *   numbers), or a summary past the same limit.
 *
 * `predicted` is the argmax class per row for classifiers (the output with one score per class).
 */
import type { Cell } from '../../data/values.js';
import type { DecodedInputs, ServedOutputs, ServedSignature } from '../../serve/index.js';

export interface TensorSummary {
  kind: 'summary';
  shape: number[];
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
  /** Values that were NaN (left out of the statistics). */
  nan: number;
}

export type LoggedInput =
  | { kind: 'tensor'; dtype: 'uint8' | 'float32'; shape: number[]; data: string }
  | { kind: 'cells'; values: Cell[] }
  | TensorSummary;

export type LoggedOutput = LoggedInput;

function sampleShapeOf(signature: ServedSignature | null, name: string): number[] | null {
  const input = signature?.inputs.find((i) => i.name === name);
  return input && input.role === 'tensor' ? input.sampleShape : null;
}

function summarize(data: Float32Array, shape: number[]): TensorSummary {
  let n = 0;
  let nan = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of data) {
    if (Number.isNaN(v)) {
      nan++;
      continue;
    }
    n++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = n ? sum / n : null;
  let ss = 0;
  if (mean !== null) for (const v of data) if (!Number.isNaN(v)) ss += (v - mean) ** 2;
  return {
    kind: 'summary',
    shape,
    min: n ? min : null,
    max: n ? max : null,
    mean,
    std: n ? Math.sqrt(ss / n) : null,
    nan,
  };
}

function isBytes(data: Float32Array): boolean {
  // Integers 0..255 only: `& 255` truncates and wraps anything else (NaN becomes 0).
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if ((v & 255) !== v) return false;
  }
  return true;
}

/** A tensor as bytes when it holds raw pixel values (and bytes are allowed), else as float32. */
export function encodeTensor(
  data: Float32Array,
  shape: number[],
  maxValues: number,
  bytesAllowed = true,
): LoggedInput {
  if (data.length > maxValues) return summarize(data, shape);
  if (bytesAllowed && isBytes(data)) {
    const bytes = new Uint8Array(data);
    return { kind: 'tensor', dtype: 'uint8', shape, data: Buffer.from(bytes.buffer).toString('base64') };
  }
  // Float32Array is little-endian on every platform Node runs on.
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { kind: 'tensor', dtype: 'float32', shape, data: bytes.toString('base64') };
}

/** The values of a logged tensor (the inverse of encodeTensor; null for a summary or cells). */
export function decodeLoggedTensor(input: LoggedInput): Float32Array | null {
  if (input.kind !== 'tensor') return null;
  const bytes = Buffer.from(input.data, 'base64');
  if (input.dtype === 'uint8') return Float32Array.from(bytes);
  const copy = new Uint8Array(bytes);
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

export function encodeInputs(
  inputs: DecodedInputs,
  rows: number,
  signature: ServedSignature | null,
  maxValues: number,
): Record<string, LoggedInput> {
  const out: Record<string, LoggedInput> = {};
  for (const [name, input] of inputs) {
    if (input.role === 'column') {
      out[name] = { kind: 'cells', values: input.values.slice(0, rows) };
    } else {
      const sample = sampleShapeOf(signature, name) ?? [input.data.length / Math.max(rows, 1)];
      out[name] = encodeTensor(input.data, [rows, ...sample], maxValues);
    }
  }
  return out;
}

export function encodeOutputs(outputs: ServedOutputs, maxValues: number): Record<string, LoggedOutput> {
  const out: Record<string, LoggedOutput> = {};
  for (const [name, t] of outputs.tensors) {
    const size = t.sampleShape.reduce((a, b) => a * b, 1);
    const data = t.data.subarray(0, outputs.rows * size);
    // Scores stay float32 even when they happen to be whole numbers.
    out[name] = encodeTensor(data, [outputs.rows, ...t.sampleShape], maxValues, false);
  }
  return out;
}

/** The output that holds one score per class, with its per-row size; undefined for non-classifiers. */
function classScores(outputs: ServedOutputs, labels: readonly string[]): Float32Array | undefined {
  for (const t of outputs.tensors.values()) {
    if (t.sampleShape.length === 1 && t.sampleShape[0] === labels.length) return t.data;
  }
  return undefined;
}

/** The argmax class of each row (the first of equal scores; NaN never wins), or null for non-classifiers. */
export function predictedClasses(outputs: ServedOutputs, signature: ServedSignature | null): string[] | null {
  const labels = signature?.labels;
  if (!labels || labels.length === 0) return null;
  const scores = classScores(outputs, labels);
  if (!scores) return null;
  const k = labels.length;
  const predicted: string[] = new Array(outputs.rows);
  for (let r = 0; r < outputs.rows; r++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let j = 0; j < k; j++) {
      const v = scores[r * k + j] as number;
      if (v > bestScore) {
        bestScore = v;
        best = j;
      }
    }
    predicted[r] = labels[best] as string;
  }
  return predicted;
}

/**
 * The decoded inputs of a logged request (the inverse of encodeInputs), or null when an input was
 * stored as a summary (its values are gone).
 */
export function decodeLoggedInputs(inputs: unknown): DecodedInputs | null {
  if (typeof inputs !== 'object' || inputs === null) return null;
  const out: DecodedInputs = new Map();
  for (const [name, value] of Object.entries(inputs as Record<string, LoggedInput>)) {
    if (value.kind === 'cells') out.set(name, { role: 'column', values: value.values });
    else {
      const data = decodeLoggedTensor(value);
      if (!data) return null;
      out.set(name, { role: 'tensor', data });
    }
  }
  return out;
}
