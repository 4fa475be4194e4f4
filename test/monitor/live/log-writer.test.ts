/** The prediction log's writer thread: writes land in the store, errors come back as errors. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerLogWriter } from '../../../src/monitor/live/log-writer.js';
import { openPredictionLog } from '../../../src/store/prediction-log-open.js';
import type { PredictionRecord } from '../../../src/store/prediction-log.js';

const dir = mkdtempSync(join(tmpdir(), 'modelauto-log-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const record = (id: string, time: number): PredictionRecord => ({
  requestId: id,
  model: 'm',
  version: 1,
  time,
  protocol: 'tfserving',
  rows: 1,
  latencyMs: 2,
  inputs: { x: { kind: 'cells', values: [1] } },
  outputs: null,
  predicted: ['a'],
  classes: ['a', 'b'],
});

describe('writer thread', () => {
  it('writes and prunes in its own thread, in order', async () => {
    const writer = await WorkerLogWriter.start(join(dir, 'store'));
    expect(writer.location).toBe(`sqlite:${join(dir, 'store')}`);
    await writer.append([record('a', 1), record('b', 2)]);
    await writer.append([record('c', 3)]);
    expect(await writer.prune({ maxRows: 2, maxAgeMs: 1e9, now: 10 })).toBe(1);
    await writer.close();
    const log = await openPredictionLog(join(dir, 'store'));
    try {
      expect((await log.list('m', { limit: 10 })).map((r) => r.requestId)).toEqual(['c', 'b']);
    } finally {
      await log.close();
    }
    await expect(writer.append([record('d', 4)])).rejects.toThrow(/writer thread exited/);
  });

  it('passes the store’s errors back: invalid records, a store it cannot open', async () => {
    const writer = await WorkerLogWriter.start(join(dir, 'store2'));
    await expect(writer.append([{ ...record('x', 1), rows: 0 }])).rejects.toThrow(/append\.records\.0\.rows/);
    await writer.close();
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    await expect(WorkerLogWriter.start(file)).rejects.toThrow(/is a file, expected a folder/);
  });
});
