/**
 * Open Inference Protocol v2 inference requests (kserve open-inference-protocol, inference_rest.md):
 * `{"id"?, "parameters"?, "inputs": [{"name", "shape", "datatype", "parameters"?, "data"}], "outputs"?}`.
 * Data is row-major, flat or nested as the shape; every element is checked against its datatype, then
 * the datatype against what the served input takes.
 */
import {
  describe,
  elementProblem,
  isNumericDatatype,
  isOipDatatype,
  OIP_DATATYPES,
  type OipDatatype,
} from './datatypes.js';
import { bad, InputReader, isPlainObject, sampleSizeOf } from './decode-values.js';
import type { DecodedRequest } from './decode-tf.js';
import type { ServedInput, ServedSignature } from './signature.js';

export interface OipRequestedOutput {
  name: string;
  /** Triton's classification extension: the top N classes as "score:index:label" texts. */
  classification?: number;
}

export interface OipInferBody {
  id: string | undefined;
  inputs: OipInputTensor[];
  outputs: OipRequestedOutput[] | undefined;
}

interface OipInputTensor {
  name: string;
  shape: number[];
  datatype: OipDatatype;
  data: unknown;
  index: number;
}

const TOP_KEYS = new Set(['id', 'parameters', 'inputs', 'outputs']);
const INPUT_KEYS = new Set(['name', 'shape', 'datatype', 'parameters', 'data']);

/** Checks the request's structure (independent of the model version). */
export function parseInferBody(body: unknown): OipInferBody {
  if (!isPlainObject(body)) throw bad(`the request body must be a JSON object, got ${describe(body)}`);
  const unknown = Object.keys(body).find((k) => !TOP_KEYS.has(k));
  if (unknown !== undefined)
    throw bad(
      `unknown key ${JSON.stringify(unknown)}; an inference request has id, parameters, inputs and outputs`,
    );
  const id = body['id'];
  if (id !== undefined && typeof id !== 'string') throw bad(`"id" must be a string, got ${describe(id)}`);
  checkParameters(body['parameters'], 'parameters');
  const inputs = body['inputs'];
  if (!Array.isArray(inputs)) throw bad(`"inputs" must be a list of input tensors, got ${describe(inputs)}`);
  if (inputs.length === 0) throw bad(`"inputs" is empty: name every input of the model`);
  const seen = new Set<string>();
  const parsed = inputs.map((t, index) => {
    const where = `inputs[${index}]`;
    if (!isPlainObject(t))
      throw bad(`${where}: expected an object with name, shape, datatype and data, got ${describe(t)}`);
    const extra = Object.keys(t).find((k) => !INPUT_KEYS.has(k));
    if (extra !== undefined)
      throw bad(
        `${where}: unknown key ${JSON.stringify(extra)}; an input has name, shape, datatype, parameters and data`,
      );
    const name = t['name'];
    if (typeof name !== 'string' || name === '')
      throw bad(`${where}.name: expected a non-empty string, got ${describe(name)}`);
    if (seen.has(name)) throw bad(`${where}: input ${JSON.stringify(name)} is given twice`);
    seen.add(name);
    const shape = t['shape'];
    if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) {
      throw bad(`${where}.shape: expected a list of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    const datatype = t['datatype'];
    if (!isOipDatatype(datatype)) {
      throw bad(`${where}.datatype: expected one of ${OIP_DATATYPES.join(', ')}, got ${describe(datatype)}`);
    }
    checkParameters(t['parameters'], `${where}.parameters`);
    if (!Object.hasOwn(t, 'data')) throw bad(`${where}: missing "data"`);
    return { name, shape: shape as number[], datatype, data: t['data'], index };
  });
  return { id, inputs: parsed, outputs: parseOutputs(body['outputs']) };
}

function parseOutputs(outputs: unknown): OipRequestedOutput[] | undefined {
  if (outputs === undefined) return undefined;
  if (!Array.isArray(outputs))
    throw bad(`"outputs" must be a list of requested outputs, got ${describe(outputs)}`);
  return outputs.map((o, i) => {
    const where = `outputs[${i}]`;
    if (!isPlainObject(o)) throw bad(`${where}: expected an object with a name, got ${describe(o)}`);
    const name = o['name'];
    if (typeof name !== 'string' || name === '')
      throw bad(`${where}.name: expected a non-empty string, got ${describe(name)}`);
    const extra = Object.keys(o).find((k) => k !== 'name' && k !== 'parameters');
    if (extra !== undefined)
      throw bad(`${where}: unknown key ${JSON.stringify(extra)}; a requested output has name and parameters`);
    const params = checkParameters(o['parameters'], `${where}.parameters`);
    const out: OipRequestedOutput = { name };
    if (params['binary_data'] === true)
      throw bad(`${where}.parameters.binary_data: binary tensor data is not supported; ask for JSON data`);
    const k = params['classification'];
    if (k !== undefined) {
      if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) {
        throw bad(
          `${where}.parameters.classification: expected a positive integer (how many top classes), got ${describe(k)}`,
        );
      }
      out.classification = k;
    }
    return out;
  });
}

function checkParameters(p: unknown, where: string): Record<string, unknown> {
  if (p === undefined) return {};
  if (!isPlainObject(p)) throw bad(`${where}: expected an object of parameters, got ${describe(p)}`);
  for (const [k, v] of Object.entries(p)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw bad(`${where}.${k}: a parameter value is a string, number or boolean, got ${describe(v)}`);
    }
  }
  return p;
}

/** Decodes the input tensors against a version's signature. */
export function decodeInfer(body: OipInferBody, sig: ServedSignature): DecodedRequest {
  const byName = new Map(sig.inputs.map((i) => [i.name, i]));
  const list = sig.inputs.map((i) => i.name).join(', ');
  for (const t of body.inputs) {
    if (!byName.has(t.name))
      throw bad(`inputs[${t.index}]: unknown input ${JSON.stringify(t.name)}; the model takes: ${list}`);
  }
  const given = new Map(body.inputs.map((t) => [t.name, t]));
  let rows: number | undefined;
  const readers: InputReader[] = [];
  for (const input of sig.inputs) {
    const t = given.get(input.name);
    if (!t) throw bad(`missing input ${JSON.stringify(input.name)}; the model takes: ${list}`);
    const where = `inputs[${t.index}] ("${t.name}")`;
    checkDatatype(input, t.datatype, where);
    const n = batchOf(input, t.shape, where);
    if (rows === undefined) rows = n;
    else if (n !== rows)
      throw bad(
        `${where}: shape [${t.shape.join(', ')}] has ${n} rows, the other inputs ${rows}: every input needs the same batch size`,
      );
    const values = flatten(t.data, t.shape, where);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      // null: a missing cell of a column (read by the saved preprocessing).
      if (v === null && input.role === 'column') continue;
      const problem = elementProblem(t.datatype, v);
      if (problem) throw bad(`${where}.data[${i}]: ${problem}`);
    }
    const reader = new InputReader(input, n);
    reader.flat(values, (i) => `${where}.data[${i}]`);
    readers.push(reader);
  }
  if (!rows) throw bad(`the inputs hold no rows: the batch needs at least one`);
  const index = new Map(body.inputs.map((t) => [t.name, t.index]));
  return {
    inputs: new Map(readers.map((r) => [r.input.name, r.result()])),
    rows,
    rowName: (row, input) =>
      input !== undefined ? `inputs[${index.get(input) ?? '?'}] ("${input}") row ${row}` : `row ${row}`,
  };
}

function checkDatatype(input: ServedInput, datatype: OipDatatype, where: string): void {
  if (input.role === 'tensor' || input.kind === 'numeric') {
    if (!isNumericDatatype(datatype)) {
      throw bad(
        `${where}: datatype ${datatype} does not fit input "${input.name}", which takes numbers (FP32, or FP16, FP64, INT*, UINT*)`,
      );
    }
    return;
  }
  if (datatype.startsWith('FP')) {
    throw bad(
      `${where}: datatype ${datatype} does not fit categorical input "${input.name}", which takes BYTES (or BOOL, INT*, UINT*)`,
    );
  }
}

/** Whether a request shape `[n, ...]` fits the served input (the sample shape, squeezed or flat). */
export function shapeFits(input: ServedInput, shape: readonly number[]): boolean {
  const n = shape[0];
  const per = shape.slice(1);
  const expected = input.role === 'tensor' ? input.sampleShape : [];
  const size = sampleSizeOf(expected);
  return (
    n !== undefined &&
    (sameShape(per, expected) ||
      (input.role === 'tensor' &&
        sameShape(
          per.filter((d) => d !== 1),
          expected.filter((d) => d !== 1),
        )) ||
      (input.role === 'tensor' && per.length === 1 && per[0] === size) ||
      (input.role === 'column' && per.length === 1 && per[0] === 1) ||
      (input.role === 'tensor' && expected.length === 0 && per.length === 0))
  );
}

function batchOf(input: ServedInput, shape: number[], where: string): number {
  if (!shapeFits(input, shape)) {
    const expected = input.role === 'tensor' ? input.sampleShape : [];
    const size = sampleSizeOf(expected);
    const want =
      input.role === 'tensor'
        ? `[n, ${expected.join(', ')}]${expected.length > 1 ? ` or [n, ${size}]` : ''}`
        : '[n] or [n, 1]';
    throw bad(
      `${where}: shape [${shape.join(', ')}] does not fit input "${input.name}", which takes ${want}`,
    );
  }
  return shape[0] as number;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Row-major elements of `data`: flat, or nested exactly as `shape`. */
function flatten(data: unknown, shape: number[], where: string): unknown[] {
  const total = sampleSizeOf(shape);
  if (!Array.isArray(data)) throw bad(`${where}.data: expected a list, got ${describe(data)}`);
  if (data.length === total && (shape.length <= 1 || !data.some(Array.isArray))) {
    if (shape.length <= 1 && data.some(Array.isArray)) {
      throw bad(`${where}.data: shape [${shape.join(', ')}] needs ${total} values, got nested lists`);
    }
    return data;
  }
  if (!data.some(Array.isArray)) {
    throw bad(`${where}.data: shape [${shape.join(', ')}] holds ${total} values, data has ${data.length}`);
  }
  const out: unknown[] = [];
  const walk = (v: unknown, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (Array.isArray(v)) throw bad(`${path}: nested deeper than shape [${shape.join(', ')}]`);
      out.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw bad(
        `${path}: expected a list of ${shape[dim]} (data nested as shape [${shape.join(', ')}]), got ${describe(v)}`,
      );
    }
    for (let i = 0; i < v.length; i++) walk(v[i], dim + 1, `${path}[${i}]`);
  };
  walk(data, 0, `${where}.data`);
  return out;
}
