/**
 * Prediction log records on their way to the writer thread, packed: every tensor value of a batch of
 * records in one Float32Array (handed over to the thread, not copied), the rest as one JSON text (a
 * structured clone of a hundred small records, object by object, cost the server thread more than
 * answering the requests). The records themselves (base64 tensors, summaries: record.ts) are made
 * where they are written, from the same values, so they are the records the server thread would
 * have made.
 *
 * Packing copies what a record needs when the request is answered, so the request's buffers (its
 * inputs, the batch's outputs) are not kept alive until the next write.
 */
import type { Cell } from '../../data/values.js';
import type { InferenceEvent } from '../../serve/index.js';
import type { PredictionRecord } from '../../store/prediction-log.js';
import { encodeTensor, type LoggedInput } from './record.js';

type PackedValue =
  | { name: string; kind: 'tensor'; shape: number[]; offset: number; length: number }
  | { name: string; kind: 'cells'; values: Cell[] };

export interface PackedRecord extends Omit<PredictionRecord, 'inputs' | 'outputs'> {
  inputs: PackedValue[] | null;
  outputs: PackedValue[];
}

export interface PackedRecords {
  /** JSON of PackedRecord[] (only finite numbers, texts, booleans and nulls: JSON keeps them exactly). */
  records: string;
  count: number;
  /** The tensors of every record, at their offsets. */
  values: Float32Array;
}

/**
 * Value buffers go to the writer and come back (`releaseValues`) to be filled again: a fresh buffer
 * of a few hundred kB per write costs the server thread a page fault per 4 kB on first touch (about
 * a millisecond per write), a returned one nothing.
 */
const spare: ArrayBuffer[] = [];
const MAX_SPARE = 8;

function valuesBuffer(minValues: number): Float32Array {
  const i = spare.findIndex((b) => b.byteLength >= minValues * 4);
  if (i >= 0) return new Float32Array(spare.splice(i, 1)[0] as ArrayBuffer);
  return new Float32Array(Math.max(4096, minValues));
}

/** Gives a written batch's value buffer back for the next batches. */
export function releaseValues(buffer: ArrayBuffer): void {
  if (spare.length < MAX_SPARE && buffer.byteLength > 0) spare.push(buffer);
}

/** Collects records and their tensor values; `take` hands them over and starts afresh. */
export class RecordPacker {
  private records: PackedRecord[] = [];
  private values = valuesBuffer(4096);
  private used = 0;

  get size(): number {
    return this.records.length;
  }

  /** Packs an answered request (status 200, with outputs and a version) and its predicted classes. */
  add(e: InferenceEvent, predicted: string[] | null): void {
    const outputs = e.outputs as NonNullable<InferenceEvent['outputs']>;
    let inputs: PackedValue[] | null = null;
    if (e.inputs) {
      inputs = [];
      for (const [name, input] of e.inputs) {
        if (input.role === 'column') {
          inputs.push({ name, kind: 'cells', values: input.values.slice(0, e.rows) });
          continue;
        }
        const spec = e.signature?.inputs.find((i) => i.name === name);
        const sample =
          spec && spec.role === 'tensor' ? spec.sampleShape : [input.data.length / Math.max(e.rows, 1)];
        inputs.push(this.tensor(name, input.data, [e.rows, ...sample]));
      }
    }
    const packedOutputs: PackedValue[] = [];
    for (const [name, t] of outputs.tensors) {
      const size = t.sampleShape.reduce((a, b) => a * b, 1);
      packedOutputs.push(
        this.tensor(name, t.data.subarray(0, outputs.rows * size), [outputs.rows, ...t.sampleShape]),
      );
    }
    this.records.push({
      requestId: e.requestId,
      model: e.model,
      version: e.version as number,
      time: e.receivedAt,
      protocol: e.protocol,
      rows: e.rows,
      latencyMs: e.totalSeconds * 1000,
      inputs,
      outputs: packedOutputs,
      predicted,
      classes: e.signature?.labels ? [...e.signature.labels] : null,
    });
  }

  /** The records packed so far (undefined when there are none). */
  take(): PackedRecords | undefined {
    if (this.records.length === 0) return undefined;
    // The buffer itself goes (its first `used` values count); this packer takes another.
    const packed = {
      records: JSON.stringify(this.records),
      count: this.records.length,
      values: this.values.subarray(0, this.used),
    };
    this.records = [];
    this.values = valuesBuffer(this.values.length);
    this.used = 0;
    return packed;
  }

  private tensor(name: string, data: Float32Array, shape: number[]): PackedValue {
    if (this.used + data.length > this.values.length) {
      const grown = valuesBuffer(Math.max(this.values.length * 2, this.used + data.length));
      grown.set(this.values.subarray(0, this.used));
      releaseValues(this.values.buffer as ArrayBuffer);
      this.values = grown;
    }
    this.values.set(data, this.used);
    const value: PackedValue = { name, kind: 'tensor', shape, offset: this.used, length: data.length };
    this.used += data.length;
    return value;
  }
}

function logged(p: PackedRecords, values: PackedValue[], maxValues: number, bytes: boolean) {
  const out: Record<string, LoggedInput> = {};
  for (const v of values) {
    out[v.name] =
      v.kind === 'cells'
        ? { kind: 'cells', values: v.values }
        : encodeTensor(p.values.subarray(v.offset, v.offset + v.length), v.shape, maxValues, bytes);
  }
  return out;
}

/** The records as the prediction log stores them (record.ts encodings; scores always float32). */
export function unpackRecords(p: PackedRecords, maxValues: number): PredictionRecord[] {
  return (JSON.parse(p.records) as PackedRecord[]).map((r) => ({
    ...r,
    inputs: r.inputs ? logged(p, r.inputs, maxValues, true) : null,
    outputs: logged(p, r.outputs, maxValues, false),
  }));
}
