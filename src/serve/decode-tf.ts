/**
 * TF Serving REST request bodies (api_rest.md): `:predict` with `instances` (row format) or `inputs`
 * (columnar format), never both; `:classify` / `:regress` with `examples` and an optional `context`.
 */
import { describe } from './datatypes.js';
import { bad, InputReader, isB64, isPlainObject } from './decode-values.js';
import type { DecodedInputs, RowNamer } from './features.js';
import type { ServedInput, ServedSignature } from './signature.js';

export type TfFormat = 'row' | 'columnar';

export interface DecodedRequest {
  inputs: DecodedInputs;
  rows: number;
  rowName: RowNamer;
}

/** Checks the body's shape and keys; what is left to decode depends on the version's signature. */
export interface TfPredictBody {
  format: TfFormat;
  value: unknown;
}

const SIGNATURES = ['', 'serving_default'];

export function parsePredictBody(body: unknown): TfPredictBody {
  const doc = topObject(body);
  checkSignature(doc, SIGNATURES);
  const hasInstances = Object.hasOwn(doc, 'instances');
  const hasInputs = Object.hasOwn(doc, 'inputs');
  if (hasInstances && hasInputs) {
    throw bad(
      `the request has both "instances" (row format) and "inputs" (columnar format): send exactly one of them`,
    );
  }
  const unknown = Object.keys(doc).find((k) => k !== 'signature_name' && k !== 'instances' && k !== 'inputs');
  if (unknown !== undefined) {
    throw bad(
      `unknown key ${JSON.stringify(unknown)} in the request: expected "instances" or "inputs" (and optionally "signature_name")`,
    );
  }
  if (hasInstances) {
    const v = doc['instances'];
    if (!Array.isArray(v))
      throw bad(`"instances" must be a list with one entry per instance, got ${describe(v)}`);
    if (v.length === 0) throw bad(`"instances" is empty: the batch needs at least one instance`);
    return { format: 'row', value: v };
  }
  if (hasInputs) return { format: 'columnar', value: doc['inputs'] };
  throw bad(`missing "instances" or "inputs": a predict request sends its tensors in one of them`);
}

export function decodePredict(body: TfPredictBody, sig: ServedSignature): DecodedRequest {
  return body.format === 'row'
    ? decodeRows(body.value as unknown[], sig, 'instances')
    : decodeColumns(body.value, sig);
}

/** `examples` (with `context` merged into each) as the instances of a row-format request. */
export function parseExamplesBody(body: unknown, method: 'classify' | 'regress'): unknown[] {
  const doc = topObject(body);
  checkSignature(doc, [...SIGNATURES, method, `tensorflow/serving/${method}`]);
  const unknown = Object.keys(doc).find((k) => k !== 'signature_name' && k !== 'examples' && k !== 'context');
  if (unknown !== undefined) {
    throw bad(
      `unknown key ${JSON.stringify(unknown)} in the request: expected "examples" (and optionally "context", "signature_name")`,
    );
  }
  if (!Object.hasOwn(doc, 'examples'))
    throw bad(`missing "examples": a ${method} request sends a list of examples`);
  const examples = doc['examples'];
  if (!Array.isArray(examples)) throw bad(`"examples" must be a list of objects, got ${describe(examples)}`);
  if (examples.length === 0) throw bad(`"examples" is empty: the batch needs at least one example`);
  const context = doc['context'];
  if (context !== undefined && !isPlainObject(context))
    throw bad(`"context" must be an object of features, got ${describe(context)}`);
  return examples.map((e, i) => {
    if (!isPlainObject(e))
      throw bad(`examples[${i}]: an example must be an object of features, got ${describe(e)}`);
    if (!context) return e;
    const shared = Object.keys(context).find((k) => Object.hasOwn(e, k));
    if (shared !== undefined)
      throw bad(`examples[${i}].${shared}: the feature is in "context" too; a feature goes in one of them`);
    return { ...context, ...e };
  });
}

export function decodeExamples(examples: unknown[], sig: ServedSignature): DecodedRequest {
  return decodeRows(examples, sig, 'examples', true);
}

function topObject(body: unknown): Record<string, unknown> {
  if (!isPlainObject(body)) throw bad(`the request body must be a JSON object, got ${describe(body)}`);
  return body;
}

function checkSignature(doc: Record<string, unknown>, allowed: string[]): void {
  const s = doc['signature_name'];
  if (s === undefined) return;
  if (typeof s !== 'string') throw bad(`"signature_name" must be a string, got ${describe(s)}`);
  if (!allowed.includes(s)) {
    throw bad(
      `serving signature ${JSON.stringify(s)} not found; this endpoint serves ${allowed
        .filter((a) => a)
        .map((a) => JSON.stringify(a))
        .join(', ')}`,
    );
  }
}

function names(sig: ServedSignature): string {
  return sig.inputs.map((i) => i.name).join(', ');
}

function decodeRows(
  items: unknown[],
  sig: ServedSignature,
  key: 'instances' | 'examples',
  objects = false,
): DecodedRequest {
  const rows = items.length;
  const readers = sig.inputs.map((input) => new InputReader(input, rows));
  const byName = new Map(readers.map((r) => [r.input.name, r]));
  const single = readers.length === 1 ? (readers[0] as InputReader) : undefined;
  for (let i = 0; i < rows; i++) {
    const item = items[i];
    if (single && !objects && !isPlainObject(item)) {
      single.row(item, i, `${key}[${i}]`);
      continue;
    }
    if (!isPlainObject(item)) {
      throw bad(
        `${key}[${i}]: expected an object with the inputs ${names(sig)} (the model has ${sig.inputs.length} inputs), got ${describe(item)}`,
      );
    }
    for (const k of Object.keys(item)) {
      if (!byName.has(k))
        throw bad(`${key}[${i}]: unknown input ${JSON.stringify(k)}; the model takes: ${names(sig)}`);
    }
    for (const r of readers) {
      const name = r.input.name;
      if (Object.hasOwn(item, name)) r.row(item[name], i, `${key}[${i}].${name}`);
      else if (r.input.role === 'column' && r.input.missingAllowed) r.row(null, i, `${key}[${i}].${name}`);
      else throw bad(`${key}[${i}]: missing input ${JSON.stringify(name)}; the model takes: ${names(sig)}`);
    }
  }
  return {
    inputs: collect(readers),
    rows,
    rowName: (row, input) => `${key}[${row}]${input !== undefined ? `.${input}` : ''}`,
  };
}

function decodeColumns(value: unknown, sig: ServedSignature): DecodedRequest {
  let tensors: Map<ServedInput, unknown>;
  if (sig.inputs.length === 1 && (!isPlainObject(value) || isB64(value))) {
    tensors = new Map([[sig.inputs[0] as ServedInput, value]]);
  } else {
    if (!isPlainObject(value)) {
      throw bad(
        `"inputs" must be an object of named tensors (the model has ${sig.inputs.length} inputs: ${names(sig)}), got ${describe(value)}`,
      );
    }
    const known = new Set(sig.inputs.map((i) => i.name));
    const unknown = Object.keys(value).find((k) => !known.has(k));
    if (unknown !== undefined) throw bad(`inputs.${unknown}: unknown input; the model takes: ${names(sig)}`);
    tensors = new Map();
    for (const input of sig.inputs) {
      if (!Object.hasOwn(value, input.name))
        throw bad(
          `missing named input ${JSON.stringify(input.name)} in "inputs"; the model takes: ${names(sig)}`,
        );
      tensors.set(input, value[input.name]);
    }
  }
  // `"inputs": [...]` (the single input, unnamed) or `"inputs": {"name": [...]}`.
  const named = isPlainObject(value);
  const path = (input: ServedInput) => (named ? `inputs.${input.name}` : 'inputs');
  let rows: number | undefined;
  for (const [input, v] of tensors) {
    if (!Array.isArray(v))
      throw bad(`${path(input)}: expected a list with one entry per row, got ${describe(v)}`);
    if (rows === undefined) rows = v.length;
    else if (v.length !== rows) {
      throw bad(
        `${path(input)} has ${v.length} rows, the other inputs ${rows}: every input needs the same number of rows`,
      );
    }
  }
  if (!rows) throw bad(`"inputs" holds no rows: the batch needs at least one`);
  const readers: InputReader[] = [];
  for (const [input, v] of tensors) {
    const r = new InputReader(input, rows);
    r.batch(v, path(input));
    readers.push(r);
  }
  return {
    inputs: collect(readers),
    rows,
    rowName: (row, input) => (named && input !== undefined ? `inputs.${input}[${row}]` : `inputs[${row}]`),
  };
}

function collect(readers: InputReader[]): DecodedInputs {
  return new Map(readers.map((r) => [r.input.name, r.result()]));
}
