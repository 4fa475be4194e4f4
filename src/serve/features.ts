/**
 * From decoded request inputs (raw samples, raw column values) to the runtime's feeds: the saved
 * preprocessing (src/data/preprocess.ts) applied in the server, exactly as at training time, or the raw
 * values for ONNX graphs that preprocess themselves.
 */
import { ModelautoError } from '../core/errors.js';
import { Preprocessor } from '../data/preprocess.js';
import type { PreprocessorState } from '../data/preprocess-state.js';
import { categoryText, readCell, type Cell } from '../data/values.js';
import type { RuntimeTensor, RuntimeTensorInfo } from './runtime.js';

export type DecodedInput = { role: 'tensor'; data: Float32Array } | { role: 'column'; values: Cell[] };
export type DecodedInputs = Map<string, DecodedInput>;

/** Names row `row` (and the input, for a column) the way the client's protocol addresses it. */
export type RowNamer = (row: number, input?: string) => string;

export type FeatureBuilder = (
  inputs: DecodedInputs,
  rows: number,
  rowName: RowNamer,
) => Record<string, RuntimeTensor>;

function tensorOf(inputs: DecodedInputs, name: string): Float32Array {
  const d = inputs.get(name);
  if (!d || d.role !== 'tensor') throw new ModelautoError('INTERNAL', `decoded input ${name} is missing`);
  return d.data;
}

function dimsOf(info: RuntimeTensorInfo, rows: number): number[] {
  return [rows, ...info.shape.slice(1).map((d) => d ?? 1)];
}

/** Raw samples, scaled with the saved pixel scaling, into the model's input. */
export function tensorFeatures(
  pre: Preprocessor,
  model: RuntimeTensorInfo,
  servedName: string,
): FeatureBuilder {
  return (inputs, rows, rowName) => {
    try {
      const { x } = pre.transformTensor(tensorOf(inputs, servedName), rows);
      return { [model.name]: { type: 'float32', data: x, dims: dimsOf(model, rows) } };
    } catch (e) {
      throw relocate(e, rowName);
    }
  };
}

/** Values passed on as they are (a graph that preprocesses itself, or a model without preprocessing). */
export function passThroughFeatures(pairs: { served: string; model: RuntimeTensorInfo }[]): FeatureBuilder {
  return (inputs, rows) => {
    const feeds: Record<string, RuntimeTensor> = {};
    for (const { served, model } of pairs) {
      feeds[model.name] = { type: 'float32', data: tensorOf(inputs, served), dims: dimsOf(model, rows) };
    }
    return feeds;
  };
}

function records(pre: Preprocessor, inputs: DecodedInputs, rows: number): Record<string, Cell>[] {
  const columns = pre.inputColumns.map((c) => {
    const d = inputs.get(c.name);
    if (!d || d.role !== 'column')
      throw new ModelautoError('INTERNAL', `decoded column ${c.name} is missing`);
    return { name: c.name, values: d.values };
  });
  const out: Record<string, Cell>[] = new Array(rows);
  for (let i = 0; i < rows; i++) {
    const rec: Record<string, Cell> = {};
    for (const c of columns) rec[c.name] = c.values[i] ?? null;
    out[i] = rec;
  }
  return out;
}

/** Column values as records through the saved table preprocessing (imputing, scaling, one-hot). */
export function tableFeatures(pre: Preprocessor, model: RuntimeTensorInfo): FeatureBuilder {
  return (inputs, rows, rowName) => {
    try {
      const { x } = pre.transformRecords(records(pre, inputs, rows));
      return { [model.name]: { type: 'float32', data: x, dims: [rows, pre.inputShape[0] as number] } };
    } catch (e) {
      throw relocate(e, rowName);
    }
  };
}

/**
 * Column values for an ONNX graph with the preprocessing inside: validated by the JS transform first
 * (the graph cannot refuse a record), then fed raw, one `[rows, 1]` tensor per column.
 */
export function tableGraphFeatures(
  pre: Preprocessor,
  state: Extract<PreprocessorState, { kind: 'table' }>,
): FeatureBuilder {
  const missing = new Set(state.missingValues);
  const marker = state.missingValues[0] ?? '';
  return (inputs, rows, rowName) => {
    const recs = records(pre, inputs, rows);
    try {
      pre.transformRecords(recs);
    } catch (e) {
      throw relocate(e, rowName);
    }
    const feeds: Record<string, RuntimeTensor> = {};
    for (const c of state.columns) {
      if (c.kind === 'numeric') {
        const data = new Float32Array(rows);
        for (let i = 0; i < rows; i++) {
          const r = readCell((recs[i] as Record<string, Cell>)[c.name] ?? null, missing);
          data[i] = r.kind === 'number' ? r.value : NaN;
        }
        feeds[c.name] = { type: 'float32', data, dims: [rows, 1] };
      } else {
        const data: string[] = new Array(rows);
        for (let i = 0; i < rows; i++) {
          const cell = (recs[i] as Record<string, Cell>)[c.name] ?? null;
          const r = readCell(cell, missing);
          data[i] = r.kind === 'missing' ? marker : categoryText(cell as string | number | boolean, r);
        }
        feeds[c.name] = { type: 'string', data, dims: [rows, 1] };
      }
    }
    return feeds;
  };
}

const RECORD_PATH = /^records\[(\d+)\](?:\.([\w$-]+)|\[("(?:[^"\\]|\\.)*")\])?$/;

/**
 * The preprocessing names a bad value `records[3].plan` (or `record 3`); the client sent
 * `instances[3].plan`, `inputs.plan[3]` or an OIP tensor: name it the client's way.
 */
export function relocate(e: unknown, rowName: RowNamer): unknown {
  if (!(e instanceof ModelautoError)) return e;
  const loc = e.location;
  let message = e.message;
  const path = loc?.path;
  const m = path !== undefined ? RECORD_PATH.exec(path) : null;
  if (m && path !== undefined && message.startsWith(`${path}: `)) {
    const column = m[2] ?? (m[3] !== undefined ? (JSON.parse(m[3]) as string) : undefined);
    message = `${rowName(Number(m[1]), column)}: ${message.slice(path.length + 2)}`;
  } else if (loc?.column !== undefined) {
    const column = String(loc.column);
    const r = /record (\d+): /.exec(message);
    if (r) {
      const prefix = `column ${JSON.stringify(column)}: `;
      const body = message.startsWith(prefix) ? message.slice(prefix.length) : message;
      message = `${rowName(Number(r[1]), column)}: ${body.replace(r[0], '')}`;
    }
  }
  return new ModelautoError('INVALID_ARGUMENT', message, { cause: e });
}
