/**
 * The dynamic batcher with a simple deterministic runtime (each output row = input row * 2, then the
 * row's position in its batch), so every answer can be traced to its request and its batch.
 */
import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import { BatchTicket, DynamicBatcher, QueueFullError, type BatcherOptions } from '../../src/serve/batcher.js';
import type { RuntimeOutputs, RuntimeTensor } from '../../src/serve/runtime.js';

const WIDTH = 2;

function rows(values: number[]): Record<string, RuntimeTensor> {
  return {
    x: {
      type: 'float32',
      data: Float32Array.from(values.flatMap((v) => [v, v + 0.5])),
      dims: [values.length, WIDTH],
    },
    s: { type: 'string', data: values.map((v) => `r${v}`), dims: [values.length, 1] },
  };
}

function setup(options: Partial<BatcherOptions> = {}, fail?: (batch: number) => boolean) {
  const batches: { size: number; labels: string[] }[] = [];
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  const run = async (feeds: Record<string, RuntimeTensor>): Promise<RuntimeOutputs> => {
    const x = feeds['x'] as Extract<RuntimeTensor, { type: 'float32' }>;
    const s = feeds['s'] as Extract<RuntimeTensor, { type: 'string' }>;
    const n = x.dims[0] as number;
    batches.push({ size: n, labels: [...s.data] });
    if (gate) await gate;
    if (fail?.(batches.length)) throw new Error(`batch ${batches.length} exploded`);
    const y = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      y[i * 3] = (x.data[i * WIDTH] as number) * 2;
      y[i * 3 + 1] = (x.data[i * WIDTH + 1] as number) * 2;
      y[i * 3 + 2] = i;
    }
    return { y: { data: y, dims: [n, 3] } };
  };
  const batcher = new DynamicBatcher(
    run,
    { maxBatch: 4, maxDelayMs: 5, queueRows: 16, ...options },
    'test:1',
  );
  return {
    batcher,
    batches,
    hold: () => {
      gate = new Promise((r) => (release = r));
    },
    open: () => {
      gate = undefined;
      release?.();
    },
  };
}

function firstColumn(out: RuntimeOutputs): number[] {
  const y = out['y']!;
  return Array.from({ length: y.dims[0]! }, (_, i) => y.data[i * 3] as number);
}

describe('DynamicBatcher', () => {
  it('merges requests that arrive together into one batch; each gets exactly its rows', async () => {
    const { batcher, batches } = setup();
    const [a, b, c] = await Promise.all([
      batcher.submit(rows([1]), 1),
      batcher.submit(rows([2, 3]), 2),
      batcher.submit(rows([4]), 1),
    ]);
    expect(batches).toEqual([{ size: 4, labels: ['r1', 'r2', 'r3', 'r4'] }]);
    expect(firstColumn(a)).toEqual([2]);
    expect(firstColumn(b)).toEqual([4, 6]);
    expect(firstColumn(c)).toEqual([8]);
    expect(b['y']!.dims).toEqual([2, 3]);
    expect(Array.from(b['y']!.data)).toEqual([4, 5, 1, 6, 7, 2]);
    expect(batcher.stats).toMatchObject({ batches: 1, rows: 4, requests: 3, largestBatch: 4 });
  });

  it('splits a request larger than the batch and joins its rows back in order', async () => {
    const { batcher, batches } = setup();
    const results = await Promise.all([
      batcher.submit(rows([1, 2, 3]), 3),
      batcher.submit(rows([10, 11, 12, 13, 14, 15]), 6),
      batcher.submit(rows([20, 21]), 2),
    ]);
    expect(batches.map((b) => b.labels)).toEqual([
      ['r1', 'r2', 'r3', 'r10'],
      ['r11', 'r12', 'r13', 'r14'],
      ['r15', 'r20', 'r21'],
    ]);
    expect(results.map(firstColumn)).toEqual([
      [2, 4, 6],
      [20, 22, 24, 26, 28, 30],
      [40, 42],
    ]);
    // Batch positions show the split: row 10 ran in batch 1, rows 11-14 in batch 2, row 15 in batch 3.
    const y = results[1]!['y']!;
    expect(Array.from({ length: 6 }, (_, i) => y.data[i * 3 + 2])).toEqual([3, 0, 1, 2, 3, 0]);
  });

  it('waits up to maxDelayMs for a batch to fill, and not at all once it is full', async () => {
    const { batcher } = setup({ maxDelayMs: 40 });
    let t = performance.now();
    await batcher.submit(rows([1]), 1);
    expect(performance.now() - t).toBeGreaterThanOrEqual(35);
    t = performance.now();
    await batcher.submit(rows([1, 2, 3, 4]), 4);
    expect(performance.now() - t).toBeLessThan(30);
  });

  it('does not idle when the server knows no other request is on its way', async () => {
    let arriving = 0;
    const { batcher, batches } = setup({ maxDelayMs: 200, arriving: () => arriving });
    let t = performance.now();
    await batcher.submit(rows([1]), 1);
    expect(performance.now() - t).toBeLessThan(100);
    // One request still coming in: the batch waits for it (up to the delay) and takes it along.
    arriving = 1;
    t = performance.now();
    const first = batcher.submit(rows([2]), 1);
    await new Promise((r) => setTimeout(r, 30));
    arriving = 0;
    const second = batcher.submit(rows([3]), 1);
    await Promise.all([first, second]);
    expect(performance.now() - t).toBeLessThan(150);
    expect(batches.map((b) => b.labels)).toEqual([['r1'], ['r2', 'r3']]);
  });

  it('refuses a request when the queue is full (503 + Retry-After) and one larger than the queue (400)', async () => {
    const { batcher, hold, open } = setup({ queueRows: 6, maxBatch: 2 });
    hold();
    const first = batcher.submit(rows([1, 2]), 2);
    await new Promise((r) => setTimeout(r, 20));
    const second = batcher.submit(rows([3, 4, 5]), 3);
    const full = await batcher.submit(rows([6, 7, 8, 9]), 4).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(QueueFullError);
    expect((full as QueueFullError).retryAfterSeconds).toBe(1);
    expect((full as QueueFullError).httpStatus).toBe(503);
    expect((full as Error).message).toContain('the queue is full (3 of 6 rows waiting)');
    const huge = await batcher.submit(rows([1, 2, 3, 4, 5, 6, 7]), 7).catch((e: unknown) => e);
    expect((huge as ModelautoError).code).toBe('INVALID_ARGUMENT');
    open();
    expect(firstColumn(await first)).toEqual([2, 4]);
    expect(firstColumn(await second)).toEqual([6, 8, 10]);
    expect(batcher.stats.rejected).toBe(1);
  });

  it('withdraws a cancelled request from the queue; the others still run', async () => {
    const { batcher, batches } = setup({ maxDelayMs: 30 });
    const ticket = new BatchTicket();
    const cancelled = batcher.submit(rows([1]), 1, ticket);
    const kept = batcher.submit(rows([2]), 1);
    batcher.cancel(ticket, new ModelautoError('UNAVAILABLE', 'deadline passed'));
    await expect(cancelled).rejects.toThrow('deadline passed');
    expect(firstColumn(await kept)).toEqual([4]);
    expect(batches.map((b) => b.labels)).toEqual([['r2']]);
    expect(batcher.queuedRows).toBe(0);
  });

  it('cancels a request whose batch is running: it fails at once, the rest of the batch answers', async () => {
    const { batcher, hold, open } = setup({ maxDelayMs: 0 });
    hold();
    const ticket = new BatchTicket();
    const late = batcher.submit(rows([1]), 1, ticket);
    const other = batcher.submit(rows([2]), 1);
    await new Promise((r) => setTimeout(r, 10));
    expect(batcher.queuedRows).toBe(0); // both rows are in the running batch
    batcher.cancel(ticket, new ModelautoError('UNAVAILABLE', 'deadline passed'));
    await expect(late).rejects.toThrow('deadline passed');
    // Cancelling again, or after the end, changes nothing.
    batcher.cancel(ticket, new Error('twice'));
    open();
    expect(firstColumn(await other)).toEqual([4]);
    const done = new BatchTicket();
    expect(firstColumn(await batcher.submit(rows([3]), 1, done))).toEqual([6]);
    batcher.cancel(done, new Error('too late'));
  });

  it('a failing run fails the requests of that batch only', async () => {
    const { batcher } = setup({ maxBatch: 2 }, (n) => n === 1);
    const [a, b, c] = await Promise.allSettled([
      batcher.submit(rows([1]), 1),
      batcher.submit(rows([2, 3]), 2),
      batcher.submit(rows([4]), 1),
    ]);
    expect(a.status).toBe('rejected');
    expect((a as PromiseRejectedResult).reason.message).toContain(
      'test:1: inference failed: batch 1 exploded',
    );
    expect((a as PromiseRejectedResult).reason.code).toBe('INTERNAL');
    // The 2-row request had its first row in the failed batch: it fails as a whole.
    expect(b.status).toBe('rejected');
    expect(c.status).toBe('fulfilled');
    expect(firstColumn((c as PromiseFulfilledResult<RuntimeOutputs>).value)).toEqual([8]);
  });

  it('drain waits for the running batch and then refuses new work', async () => {
    const { batcher, hold, open } = setup({ maxDelayMs: 0 });
    hold();
    const running = batcher.submit(rows([1]), 1);
    await new Promise((r) => setTimeout(r, 10));
    let drained = false;
    const drain = batcher.drain().then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(drained).toBe(false);
    open();
    await drain;
    expect(firstColumn(await running)).toEqual([2]);
    await expect(batcher.submit(rows([1]), 1)).rejects.toThrow('being unloaded');
  });
});
