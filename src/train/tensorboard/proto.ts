import { ProtoReader, ProtoWriter, WireType } from './wire.js';

/**
 * The subset of tensorflow/core/util/event.proto and framework/summary.proto that modelauto writes
 * and reads. Field numbers (checked against TensorBoard's copies of those files):
 *   Event          wall_time 1 double, step 2 int64, file_version 3 string, summary 5 Summary
 *   Summary        value 1 repeated Value
 *   Summary.Value  tag 1 string, simple_value 2 float, histo 5 HistogramProto, tensor 8 TensorProto,
 *                  metadata 9 SummaryMetadata   (simple_value/histo/tensor form a oneof)
 *   HistogramProto min 1, max 2, num 3, sum 4, sum_squares 5 (double), bucket_limit 6, bucket 7
 *                  (packed double)
 * The reader also decodes scalar-style TensorProto values, which is how TensorFlow 2 and Keras
 * write scalars, so curves from those logs can be shown too.
 */

export const FILE_VERSION = 'brain.Event:2';

/**
 * HistogramProto. bucket[i] counts the values between bucket_limit[i-1] and bucket_limit[i]; TensorBoard
 * takes min as the left edge of bucket 0 and max as the right edge of the last bucket.
 */
export interface HistogramData {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  bucketLimit: number[];
  bucket: number[];
}

/** TensorFlow DataType enum values the reader turns into numbers. */
export const TensorDType = { FLOAT: 1, DOUBLE: 2 } as const;

export interface TensorData {
  /** TensorFlow DataType enum value (1 = float32, 2 = float64, ...). */
  dtype: number;
  shape: number[];
  /** Values as stored, for float32/float64 tensors; undefined for other dtypes. */
  values?: number[];
}

export interface SummaryValue {
  tag: string;
  simpleValue?: number;
  histo?: HistogramData;
  tensor?: TensorData;
  /** SummaryMetadata.plugin_data.plugin_name, e.g. "scalars" for TensorFlow 2 scalars. */
  pluginName?: string;
}

export interface TensorBoardEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  summary?: { value: SummaryValue[] };
}

export type SummaryValueToWrite =
  { tag: string; simpleValue: number } | { tag: string; histo: HistogramData };

/** Event.what is a oneof: an event carries either the file version or a summary. */
export type EventToWrite = { wallTime: number; step: number } & (
  { fileVersion: string } | { summary: { value: SummaryValueToWrite[] } }
);

// Proto3 leaves fields at their default value off the wire; oneof members are always written.
export function encodeEvent(event: EventToWrite): Uint8Array {
  const w = new ProtoWriter();
  if (!Object.is(event.wallTime, 0)) w.double(1, event.wallTime);
  if (event.step !== 0) w.int64(2, event.step);
  if ('fileVersion' in event) w.string(3, event.fileVersion);
  else w.bytes(5, encodeSummary(event.summary.value));
  return w.finish();
}

function encodeSummary(values: readonly SummaryValueToWrite[]): Uint8Array {
  const w = new ProtoWriter();
  for (const v of values) w.bytes(1, encodeValue(v));
  return w.finish();
}

function encodeValue(value: SummaryValueToWrite): Uint8Array {
  const w = new ProtoWriter();
  if (value.tag !== '') w.string(1, value.tag);
  if ('simpleValue' in value) w.float(2, value.simpleValue);
  else w.bytes(5, encodeHistogram(value.histo));
  return w.finish();
}

export function encodeHistogram(h: HistogramData): Uint8Array {
  const w = new ProtoWriter();
  const doubles: Array<[number, number]> = [
    [1, h.min],
    [2, h.max],
    [3, h.num],
    [4, h.sum],
    [5, h.sumSquares],
  ];
  for (const [field, v] of doubles) if (!Object.is(v, 0)) w.double(field, v);
  if (h.bucketLimit.length > 0) w.packedDoubles(6, h.bucketLimit);
  if (h.bucket.length > 0) w.packedDoubles(7, h.bucket);
  return w.finish();
}

export function decodeEvent(bytes: Uint8Array): TensorBoardEvent {
  const r = new ProtoReader(bytes, 'Event');
  const event: TensorBoardEvent = { wallTime: 0, step: 0 };
  while (!r.done) {
    const { field, wireType, at } = r.key();
    if (field === 1) {
      r.expect(wireType, WireType.FIXED64, 'wall_time (1)', at);
      event.wallTime = r.double();
    } else if (field === 2) {
      r.expect(wireType, WireType.VARINT, 'step (2)', at);
      event.step = r.int64();
    } else if (field === 3) {
      r.expect(wireType, WireType.LENGTH_DELIMITED, 'file_version (3)', at);
      event.fileVersion = r.string();
    } else if (field === 5) {
      r.expect(wireType, WireType.LENGTH_DELIMITED, 'summary (5)', at);
      // Protobuf merges repeated occurrences of a message field; for Summary that appends values.
      const values = decodeSummary(r.bytesField());
      event.summary = { value: [...(event.summary?.value ?? []), ...values] };
    } else {
      r.skip(wireType, at);
    }
  }
  return event;
}

function decodeSummary(bytes: Uint8Array): SummaryValue[] {
  const r = new ProtoReader(bytes, 'Summary');
  const values: SummaryValue[] = [];
  while (!r.done) {
    const { field, wireType, at } = r.key();
    if (field === 1) {
      r.expect(wireType, WireType.LENGTH_DELIMITED, 'value (1)', at);
      values.push(decodeValue(r.bytesField()));
    } else {
      r.skip(wireType, at);
    }
  }
  return values;
}

function decodeValue(bytes: Uint8Array): SummaryValue {
  const r = new ProtoReader(bytes, 'Summary.Value');
  const value: SummaryValue = { tag: '' };
  while (!r.done) {
    const { field, wireType, at } = r.key();
    switch (field) {
      case 1:
        r.expect(wireType, WireType.LENGTH_DELIMITED, 'tag (1)', at);
        value.tag = r.string();
        break;
      case 2:
        r.expect(wireType, WireType.FIXED32, 'simple_value (2)', at);
        value.simpleValue = r.float();
        break;
      case 5:
        r.expect(wireType, WireType.LENGTH_DELIMITED, 'histo (5)', at);
        value.histo = decodeHistogram(r.bytesField());
        break;
      case 8:
        r.expect(wireType, WireType.LENGTH_DELIMITED, 'tensor (8)', at);
        value.tensor = decodeTensor(r.bytesField());
        break;
      case 9: {
        r.expect(wireType, WireType.LENGTH_DELIMITED, 'metadata (9)', at);
        const pluginName = decodePluginName(r.bytesField());
        if (pluginName !== undefined) value.pluginName = pluginName;
        break;
      }
      default:
        r.skip(wireType, at);
    }
  }
  return value;
}

export function decodeHistogram(bytes: Uint8Array): HistogramData {
  const r = new ProtoReader(bytes, 'HistogramProto');
  const h: HistogramData = { min: 0, max: 0, num: 0, sum: 0, sumSquares: 0, bucketLimit: [], bucket: [] };
  const scalarFields = ['min', 'max', 'num', 'sum', 'sumSquares'] as const;
  while (!r.done) {
    const { field, wireType, at } = r.key();
    const scalar = scalarFields[field - 1];
    if (scalar !== undefined) {
      r.expect(wireType, WireType.FIXED64, `${scalar} (${field})`, at);
      h[scalar] = r.double();
    } else if (field === 6) {
      r.repeatedDouble(wireType, h.bucketLimit);
    } else if (field === 7) {
      r.repeatedDouble(wireType, h.bucket);
    } else {
      r.skip(wireType, at);
    }
  }
  return h;
}

// TensorProto: dtype 1 (enum), tensor_shape 2, tensor_content 4 (raw little-endian), float_val 5, double_val 6.
function decodeTensor(bytes: Uint8Array): TensorData {
  const r = new ProtoReader(bytes, 'TensorProto');
  const tensor: TensorData = { dtype: 0, shape: [] };
  let content: Uint8Array | undefined;
  let contentAt = 0;
  const floats: number[] = [];
  const doubles: number[] = [];
  while (!r.done) {
    const { field, wireType, at } = r.key();
    if (field === 1) {
      r.expect(wireType, WireType.VARINT, 'dtype (1)', at);
      tensor.dtype = r.varint();
    } else if (field === 2) {
      r.expect(wireType, WireType.LENGTH_DELIMITED, 'tensor_shape (2)', at);
      tensor.shape = decodeShape(r.bytesField());
    } else if (field === 4) {
      r.expect(wireType, WireType.LENGTH_DELIMITED, 'tensor_content (4)', at);
      contentAt = at;
      content = r.bytesField();
    } else if (field === 5) {
      r.repeatedFloat(wireType, floats);
    } else if (field === 6) {
      r.repeatedDouble(wireType, doubles);
    } else {
      r.skip(wireType, at);
    }
  }
  const width = tensor.dtype === TensorDType.FLOAT ? 4 : tensor.dtype === TensorDType.DOUBLE ? 8 : 0;
  if (width === 0) return tensor;
  if (content !== undefined && content.length > 0) {
    if (content.length % width !== 0) {
      r.fail(`tensor_content of ${content.length} bytes is not a multiple of ${width}`, contentAt);
    }
    const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
    const values: number[] = [];
    for (let i = 0; i < content.length; i += width) {
      values.push(width === 4 ? view.getFloat32(i, true) : view.getFloat64(i, true));
    }
    tensor.values = values;
  } else {
    tensor.values = width === 4 ? floats : doubles;
  }
  return tensor;
}

// TensorShapeProto: dim 2 (repeated Dim{size 1 int64}).
function decodeShape(bytes: Uint8Array): number[] {
  const r = new ProtoReader(bytes, 'TensorShapeProto');
  const shape: number[] = [];
  while (!r.done) {
    const { field, wireType, at } = r.key();
    if (field === 2) {
      r.expect(wireType, WireType.LENGTH_DELIMITED, 'dim (2)', at);
      const d = new ProtoReader(r.bytesField(), 'TensorShapeProto.Dim');
      let size = 0;
      while (!d.done) {
        const k = d.key();
        if (k.field === 1) {
          d.expect(k.wireType, WireType.VARINT, 'size (1)', k.at);
          size = d.int64();
        } else {
          d.skip(k.wireType, k.at);
        }
      }
      shape.push(size);
    } else {
      r.skip(wireType, at);
    }
  }
  return shape;
}

// SummaryMetadata: plugin_data 1 (PluginData{plugin_name 1}).
function decodePluginName(bytes: Uint8Array): string | undefined {
  const r = new ProtoReader(bytes, 'SummaryMetadata');
  let name: string | undefined;
  while (!r.done) {
    const { field, wireType, at } = r.key();
    if (field !== 1) {
      r.skip(wireType, at);
      continue;
    }
    r.expect(wireType, WireType.LENGTH_DELIMITED, 'plugin_data (1)', at);
    const p = new ProtoReader(r.bytesField(), 'SummaryMetadata.PluginData');
    while (!p.done) {
      const k = p.key();
      if (k.field === 1) {
        p.expect(k.wireType, WireType.LENGTH_DELIMITED, 'plugin_name (1)', k.at);
        name = p.string();
      } else {
        p.skip(k.wireType, k.at);
      }
    }
  }
  return name;
}
