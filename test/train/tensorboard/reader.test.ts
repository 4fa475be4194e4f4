import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelautoError } from '../../../src/core/errors.js';
import { decodeEventFile, listEventFiles, readEventFile } from '../../../src/train/tensorboard/reader.js';
import { frameRecord, splitRecords } from '../../../src/train/tensorboard/record.js';
import { RECORD_1, RECORD_1_DATA, RECORD_1_WALL_TIME, RECORD_2, RECORD_2_DATA, TF_FILE } from './golden.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function errorOf(fn: () => unknown): ModelautoError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ModelautoError) return e;
    throw e;
  }
  throw new Error('expected a ModelautoError');
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelauto-tb-reader-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('TFRecord framing', () => {
  it('frames data exactly as TensorFlow does', () => {
    expect(hex(frameRecord(RECORD_1_DATA))).toBe(hex(RECORD_1));
    expect(hex(frameRecord(RECORD_2_DATA))).toBe(hex(RECORD_2));
  });

  it('splits a file into records with their offsets', () => {
    const records = splitRecords(TF_FILE, 'mem');
    expect(records.map((r) => [r.index, r.offset, r.data.length])).toEqual([
      [0, 0, RECORD_1_DATA.length],
      [1, RECORD_1.length, RECORD_2_DATA.length],
    ]);
    expect(splitRecords(new Uint8Array(0), 'mem')).toEqual([]);
  });
});

describe('readEventFile', () => {
  it('reads an event file written by TensorFlow', () => {
    const path = join(dir, 'events.out.tfevents.1599759586.host');
    writeFileSync(path, TF_FILE);
    const events = readEventFile(path);
    expect(events).toHaveLength(2);
    expect(events[0]).toEqual({ wallTime: RECORD_1_WALL_TIME, step: 0, fileVersion: 'brain.Event:2' });
    expect(events[1]?.step).toBe(77);
    expect(events[1]?.summary?.value[0]?.tensor?.values).toEqual([Math.fround(0.99)]);
  });

  it('refuses a flipped data byte, naming the file, record and offset', () => {
    const bytes = TF_FILE.slice();
    bytes[RECORD_1.length + 12 + 20]! ^= 0x01;
    const path = join(dir, 'corrupt');
    writeFileSync(path, bytes);
    const e = errorOf(() => readEventFile(path));
    expect(e.code).toBe('INVALID_DATA');
    expect(e.location).toEqual({ file: path, path: 'record[1]' });
    expect(e.message).toMatch(
      new RegExp(
        `^${path}, record\\[1\\]: record 1 at byte offset ${RECORD_1.length}: data CRC mismatch \\(stored 0x33645ba5, computed 0x[0-9a-f]{8}\\)`,
      ),
    );
  });

  it('refuses a flipped data CRC byte and a flipped length byte', () => {
    const crcFlip = TF_FILE.slice();
    crcFlip[RECORD_1.length - 1]! ^= 0x80;
    expect(errorOf(() => decodeEventFile(crcFlip, 'f')).message).toContain(
      'record 0 at byte offset 0: data CRC mismatch (stored 0x2b364b12',
    );

    const lengthFlip = TF_FILE.slice();
    lengthFlip[RECORD_1.length]! ^= 0x01;
    const e = errorOf(() => decodeEventFile(lengthFlip, 'f'));
    expect(e.message).toContain(
      `record 1 at byte offset ${RECORD_1.length}: length CRC mismatch (stored 0xec561924`,
    );
  });

  it('refuses a file cut inside a record, whether in the header or the data', () => {
    const path = join(dir, 'cut');
    writeFileSync(path, TF_FILE.subarray(0, TF_FILE.length - 3));
    const inData = errorOf(() => readEventFile(path));
    expect(inData.code).toBe('INVALID_DATA');
    expect(inData.message).toContain(
      `record 1 at byte offset ${RECORD_1.length}: truncated: the header declares 50 data bytes plus a 4-byte CRC but only 51 bytes follow the header`,
    );

    const inHeader = errorOf(() => decodeEventFile(TF_FILE.subarray(0, RECORD_1.length + 5), 'f'));
    expect(inHeader.message).toContain(
      `record 1 at byte offset ${RECORD_1.length}: truncated: 5 bytes left but a record header needs 12`,
    );
  });

  it('refuses a record whose CRCs are right but whose Event is malformed', () => {
    const bad = frameRecord(Uint8Array.from([0x08, 0x01]));
    const e = errorOf(() => decodeEventFile(Uint8Array.from([...RECORD_1, ...bad]), 'f'));
    expect(e.message).toBe(
      `f, record[1]: record 1 at byte offset ${RECORD_1.length}: Event: field wall_time (1) has wire type 0, expected 1 at byte 0 of the message`,
    );
  });

  it('reports a missing file as NOT_FOUND', () => {
    const e = errorOf(() => readEventFile(join(dir, 'nope')));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toContain('nope');
  });
});

describe('listEventFiles', () => {
  it('lists event files in name (timestamp) order, ignoring other files', () => {
    writeFileSync(join(dir, 'events.out.tfevents.1700000002.h.v2'), '');
    writeFileSync(join(dir, 'events.out.tfevents.1700000001.h.v2'), '');
    writeFileSync(join(dir, 'notes.txt'), '');
    expect(listEventFiles(dir)).toEqual([
      join(dir, 'events.out.tfevents.1700000001.h.v2'),
      join(dir, 'events.out.tfevents.1700000002.h.v2'),
    ]);
    expect(errorOf(() => listEventFiles(join(dir, 'missing'))).code).toBe('NOT_FOUND');
  });
});
