/**
 * The BullMQ executor and worker in one process, on the real local Redis and a real SQLite store:
 * dedupe by task id, progress, retries and failures, exactly-once recording (including a late
 * duplicate completion by a worker that lost its lock), returning tasks on shutdown, status.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelautoError } from '../../../src/core/errors.js';
import {
  parseRedisUrl,
  redisOptions,
  resolveQueueLocation,
} from '../../../src/pipeline/executor/bullmq-connection.js';
import { BullmqExecutor } from '../../../src/pipeline/executor/bullmq-executor.js';
import { queueStatus } from '../../../src/pipeline/executor/bullmq-status.js';
import { jobIdFor } from '../../../src/pipeline/executor/bullmq-task.js';
import {
  runWorker,
  type RunningWorker,
  type WorkerOptions,
} from '../../../src/pipeline/executor/bullmq-worker.js';
import { storeIdentity } from '../../../src/pipeline/executor/bullmq-worker-stores.js';
import { registerTaskHandler } from '../../../src/pipeline/executor/registry.js';
import type { TaskProgress, TaskSpec } from '../../../src/pipeline/executor/types.js';
import { openTaskResultStore } from '../../../src/store/task-results-open.js';
import { expectError } from '../../store/contract.js';
import { deletePrefix, describeRedis, freshPrefix, REDIS_TEST_URL } from './redis-env.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const storeDir = mkdtempSync(join(tmpdir(), 'modelauto-bullmq-'));
afterAll(() => rmSync(storeDir, { recursive: true, force: true }));

/** Calls per task id, so a test can tell how often a handler really ran. */
const calls = new Map<string, number>();
const called = (id: string): number => calls.get(id) ?? 0;
const count = (id: string): number => {
  const n = called(id) + 1;
  calls.set(id, n);
  return n;
};
/** Lets a test hold a handler until it says so. */
const gates = new Map<string, { opened: Promise<void>; open: () => void }>();
function gate(id: string): { opened: Promise<void>; open: () => void } {
  let g = gates.get(id);
  if (!g) {
    let open: () => void = () => undefined;
    const opened = new Promise<void>((r) => (open = r));
    g = { opened, open };
    gates.set(id, g);
  }
  return g;
}
const started = new Map<string, () => void>();
function whenStarted(id: string): Promise<void> {
  return new Promise((r) => started.set(id, r));
}

registerTaskHandler('test.square', async (input, ctx) => {
  count(ctx.taskId);
  const { n } = input as { n: number };
  for (let i = 1; i <= 4; i++) {
    ctx.progress(i / 4, `step ${i}/4`);
    await new Promise((r) => setTimeout(r, 30));
  }
  return { square: n * n, store: ctx.store };
});
registerTaskHandler('test.flaky', async (input, ctx) => {
  const n = count(ctx.taskId);
  const { failures } = input as { failures: number };
  if (n <= failures) throw new ModelautoError('IO', `transient failure ${n}`);
  return { succeededOnCall: n };
});
registerTaskHandler('test.bad-data', async (_input, ctx) => {
  count(ctx.taskId);
  throw new ModelautoError('INVALID_DATA', 'data.csv:3, column "x": expected a number');
});
registerTaskHandler('test.held', async (_input, ctx) => {
  const n = count(ctx.taskId);
  started.get(ctx.taskId)?.();
  ctx.progress(0.5, 'held');
  if (n === 1) {
    await Promise.race([
      gate(ctx.taskId).opened,
      new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    ]);
  }
  return { call: n };
});

describe('Redis URLs and queue names', () => {
  it('reads redis:// URLs with database, user and TLS, and hides the password', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6380/2')).toMatchObject({
      host: '127.0.0.1',
      port: 6380,
      db: 2,
      tls: false,
    });
    const t = parseRedisUrl('rediss://me:s3cret@cache.example:6379');
    expect(t).toMatchObject({ username: 'me', password: 's3cret', db: 0, tls: true });
    expect(t.location).toBe('rediss://me@cache.example:6379/0');
  });

  it('refuses bad URLs and names, saying what was expected', () => {
    const bad = (f: () => unknown, re: RegExp) => {
      let caught: unknown;
      try {
        f();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(ModelautoError);
      expect((caught as ModelautoError).message).toMatch(re);
    };
    bad(
      () => parseRedisUrl('http://x:6379'),
      /--redis: expected a redis:\/\/ or rediss:\/\/ URL, got "http:"/,
    );
    bad(() => parseRedisUrl('redis://x:6379/zero'), /database must be a number.*"zero"/);
    bad(() => parseRedisUrl('not a url'), /malformed Redis URL/);
    bad(() => resolveQueueLocation({ redis: REDIS_TEST_URL, queue: 'a:b' }), /--queue: expected .*no ":"/);
    const saved = process.env['MODELAUTO_REDIS'];
    delete process.env['MODELAUTO_REDIS'];
    try {
      bad(() => resolveQueueLocation({}), /no Redis server given: pass --redis .* or set MODELAUTO_REDIS/);
      process.env['MODELAUTO_REDIS'] = 'redis://h/x';
      bad(() => resolveQueueLocation({}), /MODELAUTO_REDIS: the Redis database must be a number/);
    } finally {
      if (saved === undefined) delete process.env['MODELAUTO_REDIS'];
      else process.env['MODELAUTO_REDIS'] = saved;
    }
  });

  it('gives every task id a valid, distinct BullMQ job id', () => {
    expect(jobIdFor('trial-3')).toBe('trial-3');
    const ids = ['42', '%42', 'a:b', 'a%3Ab', 'step:data:abc'];
    const jobIds = ids.map(jobIdFor);
    expect(new Set(jobIds).size).toBe(ids.length);
    for (const j of jobIds) expect(j.includes(':') || `${parseInt(j, 10)}` === j).toBe(false);
  });

  it('tells stores apart by database, not by password or artifacts folder', () => {
    expect(storeIdentity('postgres://u:pw@db:5432/m?artifacts=/a&schema=s')).toBe(
      storeIdentity('postgresql://u@db:5432/m?schema=s&artifacts=/mnt/b'),
    );
    expect(storeIdentity('postgres://u@db:5432/m?schema=s')).not.toBe(
      storeIdentity('postgres://u@db:5432/m'),
    );
    expect(storeIdentity('sqlite:/tmp/x')).toBe(storeIdentity('/tmp/x'));
    expect(storeIdentity('file:///tmp/x')).toBe(storeIdentity('/tmp/x/'));
  });
});

describeRedis('BullMQ executor and worker', () => {
  let prefix: string;
  let executor: BullmqExecutor | undefined;
  const workers: RunningWorker[] = [];
  const lines: string[] = [];
  const task = (id: string, kind: string, input: unknown = {}): TaskSpec => ({
    id,
    kind,
    input,
    store: storeDir,
  });
  const startWorker = async (options: Partial<WorkerOptions> = {}): Promise<RunningWorker> => {
    const w = await runWorker({
      redis: REDIS_TEST_URL,
      prefix,
      stalledIntervalMs: 200,
      modules: [],
      log: (l) => {
        lines.push(l);
        if (process.env['DEBUG_WORKER']) console.log(l);
      },
      ...options,
    });
    workers.push(w);
    return w;
  };
  const open = async (): Promise<BullmqExecutor> => {
    executor = await BullmqExecutor.open({
      redis: REDIS_TEST_URL,
      prefix,
      backoffMs: 20,
      pollIntervalMs: 200,
    });
    return executor;
  };
  let n = 0;
  const uniqueId = (name: string): string => `${name}-${prefix}-${++n}`;

  beforeEach(() => {
    prefix = freshPrefix();
    lines.length = 0;
  });
  afterEach(async () => {
    await executor?.close();
    executor = undefined;
    for (const w of workers.splice(0)) await w.stop('return');
    await deletePrefix(prefix);
  });

  it('runs a task on a worker, reports progress, records the result once and resolves with it', async () => {
    await startWorker({ name: 'w-one' });
    const ex = await open();
    const id = uniqueId('square');
    const progress: TaskProgress[] = [];
    const out = await ex.run(task(id, 'test.square', { n: 7 }), (p) => progress.push(p));
    expect(out).toEqual({ square: 49, store: storeDir });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toEqual({ taskId: id, fraction: 1, message: 'step 4/4' });

    const results = await openTaskResultStore(storeDir);
    try {
      const r = await results.getTaskResult(id);
      expect(r).toMatchObject({
        taskId: id,
        kind: 'test.square',
        output: out,
        worker: 'w-one',
        attempt: 1,
        duplicates: 0,
      });
    } finally {
      await results.close();
    }
    const status = await queueStatus({ redis: REDIS_TEST_URL, prefix });
    expect(status.counts.completed).toBe(1);
    expect(status.workers).toEqual(['w-one']);
    expect(status.jobs).toEqual([
      expect.objectContaining({
        taskId: id,
        kind: 'test.square',
        state: 'completed',
        progress: { fraction: 1, message: 'step 4/4' },
        worker: 'w-one',
        attemptsStarted: 1,
        stalls: 0,
      }),
    ]);
    expect(lines.some((l) => l.includes(`running test.square ${id} (attempt 1/3)`))).toBe(true);
  });

  it('runs a task submitted twice at once, or again later, only once', async () => {
    await startWorker();
    const ex = await open();
    const id = uniqueId('twice');
    const [a, b] = await Promise.all([
      ex.run(task(id, 'test.square', { n: 3 })),
      ex.run(task(id, 'test.square', { n: 3 })),
    ]);
    expect(a).toEqual(b);
    expect(await ex.run(task(id, 'test.square', { n: 3 }))).toEqual(a);
    expect(called(id)).toBe(1);
  });

  it('does not run a task again whose result is recorded, even after its job is gone from Redis', async () => {
    await startWorker();
    const ex = await open();
    const id = uniqueId('gone');
    const first = await ex.run(task(id, 'test.square', { n: 5 }));
    await deletePrefix(prefix); // the queue forgets everything, the store does not
    expect(await ex.run(task(id, 'test.square', { n: 5 }))).toEqual(first);
    expect(called(id)).toBe(1);
    expect(lines.some((l) => l.includes(`${id} already has a result`))).toBe(true);
  });

  it('works with task ids BullMQ cannot take as job ids (":" or integers)', async () => {
    await startWorker();
    const ex = await open();
    const colon = `step:${uniqueId('c')}:data`;
    const integer = String(Date.now() + n++);
    expect(await ex.run(task(colon, 'test.square', { n: 2 }))).toMatchObject({ square: 4 });
    expect(await ex.run(task(integer, 'test.square', { n: 3 }))).toMatchObject({ square: 9 });
    const status = await queueStatus({ redis: REDIS_TEST_URL, prefix });
    expect(status.jobs.map((j) => j.taskId).sort()).toEqual([colon, integer].sort());
  });

  it('retries a failing handler with backoff and records the attempt that succeeded', async () => {
    await startWorker();
    const ex = await open();
    const id = uniqueId('flaky');
    expect(await ex.run(task(id, 'test.flaky', { failures: 2 }))).toEqual({ succeededOnCall: 3 });
    const results = await openTaskResultStore(storeDir);
    try {
      expect((await results.getTaskResult(id))?.attempt).toBe(3);
    } finally {
      await results.close();
    }
  });

  it('reports a task failed after its attempts, records nothing, and retries it when submitted again', async () => {
    await startWorker({ name: 'w-fail' });
    const ex = await open();
    const id = uniqueId('broken');
    const err = await expectError(
      ex.run(task(id, 'test.flaky', { failures: 4 })),
      'IO',
      new RegExp(
        `task ${id} \\(test.flaky\\) failed after 3 attempt\\(s\\) on worker w-fail: transient failure 3`,
      ),
    );
    expect(err.exitCode).toBe(1);
    expect(called(id)).toBe(3);
    const results = await openTaskResultStore(storeDir);
    try {
      expect(await results.getTaskResult(id)).toBeUndefined();
    } finally {
      await results.close();
    }
    const failed = (await queueStatus({ redis: REDIS_TEST_URL, prefix })).jobs.find((j) => j.taskId === id);
    expect(failed).toMatchObject({ state: 'failed', failedReason: 'transient failure 3', attemptsMade: 3 });
    // Submitted again: a fresh set of attempts; call 4 fails, call 5 succeeds.
    expect(await ex.run(task(id, 'test.flaky', { failures: 4 }))).toEqual({ succeededOnCall: 5 });
  });

  it('fails at once, without retrying, on errors a retry cannot fix', async () => {
    await startWorker();
    const ex = await open();
    const id = uniqueId('bad');
    await expectError(
      ex.run(task(id, 'test.bad-data')),
      'INVALID_DATA',
      /failed after 1 attempt\(s\).*data\.csv:3/,
    );
    expect(called(id)).toBe(1);
    await expectError(
      ex.run(task(uniqueId('nokind'), 'test.no-such-kind')),
      'INVALID_ARGUMENT',
      /no handler for task kind "test.no-such-kind"; known kinds: .*test\.square/,
    );
    await expectError(
      ex.run({ ...task('', 'test.square') }),
      'INVALID_ARGUMENT',
      /task\.id: expected a non-empty task id/,
    );
  });

  it('refuses tasks for another database than the worker serves', async () => {
    await startWorker({ store: join(storeDir, 'other') });
    const ex = await open();
    await expectError(
      ex.run(task(uniqueId('elsewhere'), 'test.square', { n: 1 })),
      'INVALID_ARGUMENT',
      /records into sqlite:.*, but this worker serves sqlite:.*other \(--store\)/,
    );
  });

  it('keeps the first result when a worker that lost its lock completes late', async () => {
    // Worker A runs the task and is held; its lock disappears (as after a partition or a Redis
    // failover), so worker B's stalled-job check moves the job back and B runs it to the end.
    await startWorker({ name: 'w-a' });
    const ex = await open();
    const id = uniqueId('late');
    const aStarted = whenStarted(id);
    const submitted = ex.run(task(id, 'test.held'));
    await aStarted;
    const queue = new Queue(resolveQueueLocation({ redis: REDIS_TEST_URL }).queue, {
      connection: redisOptions(parseRedisUrl(REDIS_TEST_URL)),
      prefix,
    });
    try {
      await queue.waitUntilReady();
      const client = await queue.client;
      expect(await client.del(`${prefix}:modelauto:${jobIdFor(id)}:lock`)).toBe(1);
      await startWorker({ name: 'w-b' });
      expect(await submitted).toEqual({ call: 2 });

      // A finishes late: its result is not recorded, only counted as a duplicate.
      gate(id).open();
      const results = await openTaskResultStore(storeDir);
      try {
        let r = await results.getTaskResult(id);
        for (let i = 0; i < 100 && r?.duplicates === 0; i++) {
          await new Promise((res) => setTimeout(res, 50));
          r = await results.getTaskResult(id);
        }
        expect(r).toMatchObject({ output: { call: 2 }, worker: 'w-b', duplicates: 1 });
        expect((await results.listTaskResults({ taskIds: [id] })).length).toBe(1);
      } finally {
        await results.close();
      }
      const job = await queue.getJob(jobIdFor(id));
      expect(job?.returnvalue).toEqual({ call: 2 });
      expect(job?.stalledCounter).toBe(1);
      expect(await job?.getState()).toBe('completed');
      expect(
        lines.some((l) => l.includes(`w-a: done test.held ${id}`) && l.includes('w-b had recorded it first')),
      ).toBe(true);
    } finally {
      await queue.close();
    }
  });

  it('on stop("return") puts a running task back on the queue without using an attempt', async () => {
    const a = await startWorker({ name: 'w-leaving' });
    const ex = await open();
    const id = uniqueId('returned');
    const aStarted = whenStarted(id);
    const submitted = ex.run(task(id, 'test.held'));
    await aStarted;
    expect(await a.stop('return')).toBe(true);
    const waiting = (await queueStatus({ redis: REDIS_TEST_URL, prefix })).jobs.find((j) => j.taskId === id);
    expect(waiting).toMatchObject({ state: 'waiting', attemptsMade: 0 });
    await startWorker({ name: 'w-staying' });
    expect(await submitted).toEqual({ call: 2 });
    expect(lines.some((l) => l.includes(`${id} stopped and put back on the queue`))).toBe(true);
  });

  it('on stop("finish") lets the running task finish first', async () => {
    const a = await startWorker({ name: 'w-finishing' });
    const ex = await open();
    const id = uniqueId('finished');
    const aStarted = whenStarted(id);
    const submitted = ex.run(task(id, 'test.held'));
    await aStarted;
    const stopping = a.stop('finish');
    gate(id).open();
    expect(await stopping).toBe(true);
    expect(await submitted).toEqual({ call: 1 });
  });

  it('cancels a task not started yet: removed from the queue, run() rejects with INTERRUPTED', async () => {
    const ex = await open();
    const id = uniqueId('cancel-waiting');
    const submitted = ex.run(task(id, 'test.square', { n: 2 }));
    await new Promise((r) => setTimeout(r, 100));
    ex.cancel(id);
    await expectError(submitted, 'INTERRUPTED', new RegExp(`task ${id} was cancelled`));
    await ex.close();
    expect((await queueStatus({ redis: REDIS_TEST_URL, prefix })).jobs).toEqual([]);
    expect(called(id)).toBe(0);
  });

  it('cancels a running task on its worker: failed as INTERRUPTED, not retried, nothing recorded; run again afresh', async () => {
    await startWorker({ name: 'w-cancel' });
    const ex = await open();
    const id = uniqueId('cancel-running');
    const aStarted = whenStarted(id);
    const submitted = ex.run(task(id, 'test.held'));
    await aStarted;
    ex.cancel(id);
    await expectError(submitted, 'INTERRUPTED', new RegExp(`task ${id} was cancelled`));
    let job = (await queueStatus({ redis: REDIS_TEST_URL, prefix })).jobs.find((j) => j.taskId === id);
    for (let i = 0; i < 100 && job?.state !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      job = (await queueStatus({ redis: REDIS_TEST_URL, prefix })).jobs.find((j) => j.taskId === id);
    }
    expect(job).toMatchObject({ state: 'failed', failedReason: `task ${id} was cancelled by its submitter` });
    expect(called(id)).toBe(1);
    const results = await openTaskResultStore(storeDir);
    try {
      expect(await results.getTaskResult(id)).toBeUndefined();
    } finally {
      await results.close();
    }
    // Submitted again: a new start, which the earlier cancel does not touch.
    expect(await ex.run(task(id, 'test.held'))).toEqual({ call: 2 });
  });

  it('loads task handler modules given by path before it starts', async () => {
    const w = await startWorker({ modules: [join(HERE, 'fixtures', 'echo-handler.ts')] });
    expect(w.kinds).toContain('test.echo');
    const ex = await open();
    const id = uniqueId('echo');
    expect(await ex.run(task(id, 'test.echo', { a: [1, 2] }))).toEqual({ echo: { a: [1, 2] }, taskId: id });
    await expectError(
      startWorker({ modules: [join(HERE, 'fixtures', 'missing.ts')] }),
      'USAGE',
      /missing\.ts: cannot load the task handlers module/,
    );
  });

  it('fails fast with UNAVAILABLE when Redis does not answer', async () => {
    await expectError(
      BullmqExecutor.open({ redis: 'redis://127.0.0.1:1' }),
      'UNAVAILABLE',
      /Redis at redis:\/\/127\.0\.0\.1:1\/0 is unreachable/,
    );
    await expectError(
      runWorker({ redis: 'redis://127.0.0.1:1', modules: [], log: () => undefined }),
      'UNAVAILABLE',
      /unreachable/,
    );
  });
});
