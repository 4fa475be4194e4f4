import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ModelautoError } from '../../../src/core/errors.js';
import { crc32c, maskCrc } from '../../../src/train/tensorboard/crc32c.js';
import { buildHistogram } from '../../../src/train/tensorboard/histogram.js';
import type { TensorBoardEvent } from '../../../src/train/tensorboard/proto.js';
import { readEventFile } from '../../../src/train/tensorboard/reader.js';
import {
  EventFileWriter,
  SummaryWriter,
  eventFileName,
  tensorBoardWriters,
  writeLogs,
} from '../../../src/train/tensorboard/writer.js';

function errorOf(fn: () => unknown): ModelautoError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ModelautoError) return e;
    throw e;
  }
  throw new Error('expected a ModelautoError');
}

/** Walks the records with its own parsing and checks both CRCs of each; returns the record count. */
function checkEveryCrc(path: string): number {
  const bytes = readFileSync(path);
  let offset = 0;
  let count = 0;
  while (offset < bytes.length) {
    const length = Number(bytes.readBigUInt64LE(offset));
    expect(bytes.readUInt32LE(offset + 8)).toBe(maskCrc(crc32c(bytes.subarray(offset, offset + 8))));
    const data = bytes.subarray(offset + 12, offset + 12 + length);
    expect(bytes.readUInt32LE(offset + 12 + length)).toBe(maskCrc(crc32c(data)));
    offset += 12 + length + 4;
    count++;
  }
  expect(offset).toBe(bytes.length);
  return count;
}

/** Tag -> [step, value] pairs of the scalar events in a run directory's only event file. */
function scalarsIn(runDir: string): Record<string, Array<[number, number]>> {
  const files = readdirSync(runDir);
  expect(files).toHaveLength(1);
  const out: Record<string, Array<[number, number]>> = {};
  for (const e of readEventFile(join(runDir, files[0]!)).slice(1)) {
    for (const v of e.summary?.value ?? []) (out[v.tag] ??= []).push([e.step, v.simpleValue!]);
  }
  return out;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelauto-tb-writer-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

describe('SummaryWriter', () => {
  it('writes scalars and a histogram that read back with every CRC, tag, step and value', () => {
    const before = Date.now() / 1000;
    const logdir = join(dir, 'run', 'nested');
    const w = new SummaryWriter(logdir);
    w.scalar('loss', 0.1, 1);
    w.scalar('loss', 2.5, 2);
    w.scalar('acc', 1 / 3, 2);
    w.scalar('nan', NaN, 3);
    w.scalar('neg_step', -7, -5);
    const weights = [-0.5, 0.25, 0.25, 1, 3];
    w.histogram('dense/kernel', weights, 2);
    w.histogram('bins', Float32Array.from([0, 1, 2, 3, 4]), 3, { bins: 2 });
    w.close();
    const after = Date.now() / 1000;

    expect(basename(w.path)).toMatch(
      new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\.${escapeRegExp(hostname())}\\.v2$`),
    );
    const seconds = Number(basename(w.path).split('.')[3]);
    expect(seconds).toBeGreaterThanOrEqual(Math.floor(before));
    expect(seconds).toBeLessThanOrEqual(after);
    expect(readdirSync(logdir)).toEqual([basename(w.path)]);
    expect(checkEveryCrc(w.path)).toBe(8);

    const events = readEventFile(w.path);
    expect(events).toHaveLength(8);
    const [first, ...rest] = events as [TensorBoardEvent, ...TensorBoardEvent[]];
    expect(first.fileVersion).toBe('brain.Event:2');
    expect(first.step).toBe(0);
    expect(first.summary).toBeUndefined();
    for (const e of events) {
      expect(e.wallTime).toBeGreaterThanOrEqual(before - 0.001);
      expect(e.wallTime).toBeLessThanOrEqual(after + 0.001);
    }
    const simplified = rest.map((e) => [e.step, e.fileVersion, e.summary?.value]);
    expect(simplified).toEqual([
      [1, undefined, [{ tag: 'loss', simpleValue: Math.fround(0.1) }]],
      [2, undefined, [{ tag: 'loss', simpleValue: 2.5 }]],
      [2, undefined, [{ tag: 'acc', simpleValue: Math.fround(1 / 3) }]],
      [3, undefined, [{ tag: 'nan', simpleValue: NaN }]],
      [-5, undefined, [{ tag: 'neg_step', simpleValue: -7 }]],
      [2, undefined, [{ tag: 'dense/kernel', histo: buildHistogram(weights) }]],
      [
        3,
        undefined,
        [
          {
            tag: 'bins',
            histo: { min: 0, max: 4, num: 5, sum: 10, sumSquares: 30, bucketLimit: [2, 4], bucket: [2, 3] },
          },
        ],
      ],
    ]);
    expect(Math.fround(0.1)).not.toBe(0.1);
  });

  it('names the file after the clock and host, and refuses to reuse a name', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(1_700_000_000_500));
    const a = new SummaryWriter(dir);
    expect(basename(a.path)).toBe(`events.out.tfevents.1700000000.${hostname()}.v2`);
    const e = errorOf(() => new SummaryWriter(dir));
    expect(e.code).toBe('CONFLICT');
    expect(e.message).toContain(a.path);
    expect(e.message).toContain('filenameSuffix');
    const b = new SummaryWriter(dir, { filenameSuffix: '.second' });
    expect(basename(b.path)).toBe(`events.out.tfevents.1700000000.${hostname()}.second`);
    a.close();
    b.close();
    expect(eventFileName(42.9, 'h', '')).toBe('events.out.tfevents.0000000042.h');
  });

  it('buffers writes until flush, and has the first record on disk at once', () => {
    const w = new SummaryWriter(dir, { flushBytes: 1 << 20, flushMillis: 3_600_000 });
    const onDisk = (): number => readEventFile(w.path).length;
    expect(onDisk()).toBe(1);
    w.scalar('x', 1, 1);
    w.scalar('x', 2, 2);
    expect(onDisk()).toBe(1);
    w.flush();
    expect(onDisk()).toBe(3);
    w.scalar('x', 3, 3);
    w.close();
    expect(onDisk()).toBe(4);
  });

  it('flushes on its own once flushBytes are buffered', () => {
    const w = new SummaryWriter(dir, { flushBytes: 100, flushMillis: 3_600_000 });
    w.scalar('x', 1, 1);
    expect(readEventFile(w.path)).toHaveLength(1);
    for (let i = 2; i <= 5; i++) w.scalar('x', i, i);
    expect(readEventFile(w.path).length).toBeGreaterThan(1);
    w.close();
    expect(readEventFile(w.path)).toHaveLength(6);
  });

  it('flushes on a write that comes flushMillis after the last flush', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(1_700_000_000_000));
    const w = new SummaryWriter(dir, { flushBytes: 1 << 20, flushMillis: 1000 });
    w.scalar('x', 1, 1);
    expect(readEventFile(w.path)).toHaveLength(1);
    vi.setSystemTime(new Date(1_700_000_001_000));
    w.scalar('x', 2, 2);
    expect(readEventFile(w.path)).toHaveLength(3);
    w.close();
  });

  it('refuses bad arguments and use after close', () => {
    const w = new SummaryWriter(dir);
    expect(errorOf(() => w.scalar('', 1, 1)).message).toContain('tag must be a non-empty string');
    expect(errorOf(() => w.scalar('t', 1, 1.5)).message).toBe(
      'step: step must be an integer, got 1.5 for tag "t"',
    );
    expect(errorOf(() => w.histogram('h', [1, Infinity], 1)).code).toBe('INVALID_ARGUMENT');
    w.close();
    w.close();
    const closed = errorOf(() => w.scalar('t', 1, 1));
    expect(closed.code).toBe('CONFLICT');
    expect(closed.message).toContain('closed');
  });

  it('validates its options', () => {
    expect(errorOf(() => new EventFileWriter(dir, { flushBytes: -1 })).message).toContain(
      'options.flushBytes',
    );
    expect(errorOf(() => new EventFileWriter(dir, { filenameSuffix: '/x' })).message).toContain(
      'options.filenameSuffix',
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reports a log directory it cannot create as IO', () => {
    const file = join(dir, 'file');
    writeFileSync(file, '');
    const e = errorOf(() => new SummaryWriter(join(file, 'sub')));
    expect(e.code).toBe('IO');
    expect(e.message).toContain('cannot create the log directory');
  });
});

describe('tensorBoardWriters + writeLogs', () => {
  it('routes val_ metrics to logdir/val and the rest to logdir/train, like tfjs-node', () => {
    const writers = tensorBoardWriters(dir);
    writeLogs(writers, 'batch', { loss: 0.9, acc: 0.5, batch: 0, size: 32 }, 1);
    writeLogs(writers, 'batch', { loss: 0.8, acc: 0.6, batch: 1, size: 32 }, 2);
    writeLogs(writers, 'epoch', { loss: 0.75, acc: 0.625, val_loss: 1.25, val_acc: 0.5, num_steps: 2 }, 1);
    writeLogs(writers, 'epoch', { loss: 0.5, acc: 0.75, val_loss: 1, val_acc: 0.625 }, 2);
    writers.close();

    expect(readdirSync(dir).sort()).toEqual(['train', 'val']);
    expect(scalarsIn(join(dir, 'train'))).toEqual({
      batch_loss: [
        [1, Math.fround(0.9)],
        [2, Math.fround(0.8)],
      ],
      batch_acc: [
        [1, 0.5],
        [2, Math.fround(0.6)],
      ],
      epoch_loss: [
        [1, 0.75],
        [2, 0.5],
      ],
      epoch_acc: [
        [1, 0.625],
        [2, 0.75],
      ],
    });
    expect(scalarsIn(join(dir, 'val'))).toEqual({
      epoch_loss: [
        [1, 1.25],
        [2, 1],
      ],
      epoch_acc: [
        [1, 0.5],
        [2, 0.625],
      ],
    });
    for (const run of ['train', 'val']) {
      const runDir = join(dir, run);
      checkEveryCrc(join(runDir, readdirSync(runDir)[0]!));
    }
  });

  it('creates no val run when there are no val_ metrics', () => {
    const writers = tensorBoardWriters(dir);
    writeLogs(writers, 'epoch', { loss: 1 }, 1);
    writers.flush();
    expect(existsSync(join(dir, 'val'))).toBe(false);
    expect(scalarsIn(join(dir, 'train'))).toEqual({ epoch_loss: [[1, 1]] });
    writers.close();
    expect(errorOf(() => writers.train).code).toBe('CONFLICT');
  });

  it('refuses an unknown prefix', () => {
    const writers = tensorBoardWriters(dir);
    const e = errorOf(() => writeLogs(writers, 'step' as 'epoch', { loss: 1 }, 1));
    expect(e.message).toBe('prefix: prefix must be "epoch" or "batch", got "step"');
    writers.close();
    expect(readdirSync(dir)).toEqual([]);
  });
});
