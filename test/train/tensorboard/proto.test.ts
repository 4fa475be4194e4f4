import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../../src/core/errors.js';
import {
  decodeEvent,
  decodeHistogram,
  encodeEvent,
  encodeHistogram,
  FILE_VERSION,
  type HistogramData,
} from '../../../src/train/tensorboard/proto.js';
import { RECORD_1_DATA, RECORD_1_WALL_TIME, RECORD_2_DATA } from './golden.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

function errorOf(fn: () => unknown): ModelautoError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ModelautoError) return e;
    throw e;
  }
  throw new Error('expected a ModelautoError');
}

describe('encodeEvent', () => {
  it('writes the file_version event byte for byte as TensorFlow does', () => {
    const bytes = encodeEvent({ wallTime: RECORD_1_WALL_TIME, step: 0, fileVersion: FILE_VERSION });
    expect(hex(bytes)).toBe(hex(RECORD_1_DATA));
  });

  it('encodes a scalar summary with the documented field numbers', () => {
    const bytes = encodeEvent({
      wallTime: 1.5,
      step: 3,
      summary: { value: [{ tag: 'a', simpleValue: 0.5 }] },
    });
    expect(hex(bytes)).toBe(
      // wall_time: key 0x09 + double 1.5; step: 0x10 0x03; summary: 0x2a len 10 { value: 0x0a len 8 {
      // tag: 0x0a 0x01 'a'; simple_value: 0x15 + float 0.5 } }
      '09' + '000000000000f83f' + '1003' + '2a0a' + '0a08' + '0a0161' + '15' + '0000003f',
    );
  });

  it('keeps a zero simple_value (oneof member) but leaves default wall_time and step off', () => {
    const bytes = encodeEvent({ wallTime: 0, step: 0, summary: { value: [{ tag: 'z', simpleValue: 0 }] } });
    expect(hex(bytes)).toBe('2a0a' + '0a08' + '0a017a' + '1500000000');
    expect(decodeEvent(bytes)).toEqual({
      wallTime: 0,
      step: 0,
      summary: { value: [{ tag: 'z', simpleValue: 0 }] },
    });
  });

  it('encodes int64 steps as varints, negative ones in ten bytes', () => {
    expect(hex(encodeEvent({ wallTime: 0, step: 300, fileVersion: '' }))).toBe('10ac02' + '1a00');
    expect(hex(encodeEvent({ wallTime: 0, step: -1, fileVersion: '' }))).toBe(
      '10ffffffffffffffffff01' + '1a00',
    );
    for (const step of [1, 127, 128, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER, -2, -(2 ** 40)]) {
      expect(decodeEvent(encodeEvent({ wallTime: 1, step, fileVersion: 'x' })).step).toBe(step);
    }
  });

  it('round-trips a histogram with packed bucket arrays and omitted zero fields', () => {
    const h: HistogramData = {
      min: -1,
      max: 2,
      num: 3,
      sum: 0,
      sumSquares: 5,
      bucketLimit: [0, 2],
      bucket: [1, 2],
    };
    const bytes = encodeHistogram(h);
    // 4 doubles of 9 bytes (sum is 0, so absent) + two packed fields of 2 + 16 bytes.
    expect(bytes.length).toBe(4 * 9 + 2 * 18);
    expect(hex(bytes)).toContain('3210' + '0000000000000000' + '0000000000000040');
    expect(decodeHistogram(bytes)).toEqual(h);
    const event = encodeEvent({ wallTime: 2, step: 4, summary: { value: [{ tag: 'w', histo: h }] } });
    expect(decodeEvent(event)).toEqual({
      wallTime: 2,
      step: 4,
      summary: { value: [{ tag: 'w', histo: h }] },
    });
  });
});

describe('decodeEvent', () => {
  it('reads a TensorFlow 2 scalar (tensor + plugin metadata) from a real event file', () => {
    const event = decodeEvent(RECORD_2_DATA);
    expect(event.step).toBe(77);
    expect(event.wallTime - RECORD_1_WALL_TIME).toBeGreaterThan(0);
    expect(event.wallTime - RECORD_1_WALL_TIME).toBeLessThan(60);
    expect(event.summary?.value).toEqual([
      {
        tag: 'accuracy',
        tensor: { dtype: 1, shape: [], values: [Math.fround(0.99)] },
        pluginName: 'scalars',
      },
    ]);
  });

  it('accepts unpacked repeated doubles, as protobuf parsers must', () => {
    const view = new DataView(new ArrayBuffer(9 * 4));
    [
      [0x31, 1.5],
      [0x31, 4],
      [0x39, 7],
      [0x39, 8],
    ].forEach(([key, v], i) => {
      view.setUint8(i * 9, key!);
      view.setFloat64(i * 9 + 1, v!, true);
    });
    const h = decodeHistogram(new Uint8Array(view.buffer));
    expect(h.bucketLimit).toEqual([1.5, 4]);
    expect(h.bucket).toEqual([7, 8]);
  });

  it('skips fields it does not know (varint, fixed32, fixed64, length-delimited)', () => {
    const bytes = Uint8Array.from([
      ...[0x78, 0x96, 0x01], // field 15 varint 150
      ...[0x3a, 0x02, 0x08, 0x01], // field 7 (session_log) message
      ...[0x65, 1, 2, 3, 4], // field 12 fixed32
      ...[0x69, 1, 2, 3, 4, 5, 6, 7, 8], // field 13 fixed64
      ...[0x1a, 0x01, ...ascii('v')],
    ]);
    expect(decodeEvent(bytes)).toEqual({ wallTime: 0, step: 0, fileVersion: 'v' });
  });

  it('merges repeated summary fields the way protobuf does', () => {
    const a = encodeEvent({ wallTime: 0, step: 0, summary: { value: [{ tag: 'a', simpleValue: 1 }] } });
    const b = encodeEvent({ wallTime: 0, step: 0, summary: { value: [{ tag: 'b', simpleValue: 2 }] } });
    const merged = decodeEvent(Uint8Array.from([...a, ...b]));
    expect(merged.summary?.value.map((v) => v.tag)).toEqual(['a', 'b']);
  });

  it('refuses malformed messages with the message name and byte offset', () => {
    const wrongType = errorOf(() => decodeEvent(Uint8Array.from([0x08, 0x01])));
    expect(wrongType.code).toBe('INVALID_DATA');
    expect(wrongType.message).toBe(
      'Event: field wall_time (1) has wire type 0, expected 1 at byte 0 of the message',
    );

    const cutDouble = errorOf(() => decodeEvent(Uint8Array.from([0x09, 1, 2, 3])));
    expect(cutDouble.message).toBe('Event: double needs 8 bytes but only 3 remain at byte 1 of the message');

    const cutVarint = errorOf(() => decodeEvent(Uint8Array.from([0x10, 0x80, 0x80])));
    expect(cutVarint.message).toContain('varint runs past the end at byte 1');

    const longString = errorOf(() => decodeEvent(Uint8Array.from([0x1a, 0x05, 0x61])));
    expect(longString.message).toContain('length-delimited field needs 5 bytes but only 1 remain');

    const group = errorOf(() => decodeEvent(Uint8Array.from([0x7b])));
    expect(group.message).toContain('unsupported wire type 3');

    const nested = errorOf(() => decodeEvent(Uint8Array.from([0x2a, 0x03, 0x0a, 0x01, 0x08])));
    expect(nested.message).toBe(
      'Summary.Value: field tag (1) has wire type 0, expected 2 at byte 0 of the message',
    );

    const badUtf8 = errorOf(() => decodeEvent(Uint8Array.from([0x1a, 0x01, 0xff])));
    expect(badUtf8.message).toContain('string is not valid UTF-8');
  });
});

describe('encodeEvent input checks', () => {
  it('refuses a step that is not a safe integer', () => {
    const e = errorOf(() => encodeEvent({ wallTime: 0, step: 1.5, fileVersion: 'x' }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('int64 field 2 needs a safe integer, got 1.5');
  });
});
