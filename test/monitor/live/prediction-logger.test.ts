/**
 * The prediction log writer: sampling by request id, batched writes off the request path, a failed
 * write counted and reported (never thrown), a full queue dropping records, retention.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PredictionLogConfigSchema } from '../../../src/monitor/live/config.js';
import { InlineLogWriter } from '../../../src/monitor/live/log-writer.js';
import { inSample, PredictionLogger, type LogOutcome } from '../../../src/monitor/live/prediction-logger.js';
import type { InferenceEvent } from '../../../src/serve/index.js';
import { openPredictionLog } from '../../../src/store/prediction-log-open.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function freshLog() {
  const dir = mkdtempSync(join(tmpdir(), 'modelauto-predlogger-'));
  dirs.push(dir);
  return openPredictionLog(dir);
}

function event(id: string, overrides: Partial<InferenceEvent> = {}): InferenceEvent {
  return {
    requestId: id,
    model: 'm',
    version: 1,
    protocol: 'oip',
    status: 200,
    rows: 1,
    inputs: new Map([['input', { role: 'tensor', data: Float32Array.from([0, 128, 255]) }]]),
    outputs: {
      rows: 1,
      tensors: new Map([['output', { data: Float32Array.from([0.25, 0.75]), sampleShape: [2] }]]),
    },
    signature: {
      inputs: [{ name: 'input', role: 'tensor', datatype: 'FP32', sampleShape: [3] }],
      outputs: [{ name: 'output', runtimeName: 'output', datatype: 'FP32', sampleShape: [2] }],
      labels: ['no', 'yes'],
      task: 'classification',
    },
    receivedAt: 1_000,
    totalSeconds: 0.004,
    inferenceSeconds: 0.003,
    ...overrides,
  };
}

describe('prediction logger', () => {
  it('samples by a hash of the request id: stable, and close to the rate', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `req-${i}`);
    const share = ids.filter((id) => inSample(id, 0.25)).length / ids.length;
    expect(share).toBeGreaterThan(0.23);
    expect(share).toBeLessThan(0.27);
    expect(ids.filter((id) => inSample(id, 0.25))).toEqual(ids.filter((id) => inSample(id, 0.25)));
    expect(ids.every((id) => inSample(id, 1))).toBe(true);
    expect(ids.some((id) => inSample(id, 0))).toBe(false);
  });

  it('writes answered requests in batches with what the log needs', async () => {
    const log = await freshLog();
    const counts: Record<LogOutcome, number> = { written: 0, failed: 0, dropped: 0 };
    const logger = new PredictionLogger({
      log: new InlineLogWriter(log),
      config: PredictionLogConfigSchema.parse({ batchRows: 2 }),
      now: () => 5_000,
      report: () => undefined,
      count: (o, n) => (counts[o] += n),
    });
    expect(logger.offer(event('a'))).toBe(true);
    expect(logger.offer(event('failed', { status: 503, outputs: null }))).toBe(false);
    expect(logger.offer(event('b', { version: null }))).toBe(false);
    expect(logger.offer(event('c'))).toBe(true);
    expect(logger.offer(event('d'))).toBe(true);
    await logger.flush();
    expect(counts).toEqual({ written: 3, failed: 0, dropped: 0 });
    const a = await log.get('m', 'a');
    expect(a).toMatchObject({
      requestId: 'a',
      version: 1,
      time: 1_000,
      rows: 1,
      latencyMs: 4,
      predicted: ['yes'],
      classes: ['no', 'yes'],
      inputs: { input: { kind: 'tensor', dtype: 'uint8', shape: [1, 3] } },
      outputs: { output: { kind: 'tensor', dtype: 'float32', shape: [1, 2] } },
    });
    await logger.close();
    await log.close();
  });

  it('a failed write is counted and reported, never thrown; a full queue drops and counts', async () => {
    const log = await freshLog();
    const counts: Record<LogOutcome, number> = { written: 0, failed: 0, dropped: 0 };
    const lines: string[] = [];
    const logger = new PredictionLogger({
      log: new InlineLogWriter(log),
      config: PredictionLogConfigSchema.parse({ maxPending: 2 }),
      now: () => 0,
      report: (l) => lines.push(l),
      count: (o, n) => (counts[o] += n),
    });
    logger.offer(event('x'));
    logger.offer(event('y'));
    expect(logger.offer(event('z'))).toBe(false);
    await log.close();
    await expect(logger.flush()).resolves.toBeUndefined();
    expect(counts).toEqual({ written: 0, failed: 2, dropped: 1 });
    expect(lines.join('\n')).toMatch(/could not write 2 prediction log records to sqlite:.*closed/);
    await logger.close();
  });

  it('prunes with the configured limits', async () => {
    const log = await freshLog();
    const logger = new PredictionLogger({
      log: new InlineLogWriter(log),
      config: PredictionLogConfigSchema.parse({ maxRows: 2, maxAge: '1h' }),
      now: () => 3_600_000 + 1_500,
      report: () => undefined,
    });
    for (let i = 0; i < 5; i++) logger.offer(event(`p${i}`, { receivedAt: 1_000 * i }));
    await logger.flush();
    // p0 and p1 are older than an hour; of the rest, the newest two stay.
    expect(await logger.prune()).toBe(3);
    expect((await log.list('m', { limit: 10 })).map((r) => r.requestId)).toEqual(['p4', 'p3']);
    await logger.close();
    await log.close();
  });
});
