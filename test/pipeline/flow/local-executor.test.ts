import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelautoError } from '../../../src/core/errors.js';
import { LocalExecutor } from '../../../src/pipeline/executor/local.js';

const MODULE = resolve('test/pipeline/flow/fixtures/test-tasks.ts');
const logs: { taskId: string | undefined; line: string }[] = [];
const executor = new LocalExecutor({
  concurrency: 2,
  modules: [MODULE],
  onLog: (taskId, line) => logs.push({ taskId, line }),
});
afterAll(() => executor.close());

const task = (id: string, kind: string, input: unknown = {}) => ({
  id,
  kind,
  input,
  store: 'sqlite:/nowhere',
});

async function rejection(p: Promise<unknown>): Promise<ModelautoError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ModelautoError);
    return e as ModelautoError;
  }
  throw new Error('expected a rejection');
}

describe('LocalExecutor', () => {
  it('runs a task in a child process, with its logs, progress and output', async () => {
    const progress: number[] = [];
    const out = (await executor.run(task('echo-1', 'test.echo', { a: [1, 2] }), (p) =>
      progress.push(p.fraction),
    )) as {
      input: unknown;
      pid: number;
      store: string;
      taskId: string;
    };
    expect(out).toMatchObject({ input: { a: [1, 2] }, store: 'sqlite:/nowhere', taskId: 'echo-1' });
    expect(out.pid).not.toBe(process.pid);
    expect(progress).toEqual([0.5]);
    expect(logs).toContainEqual({ taskId: 'echo-1', line: `hello from ${out.pid}` });
  });

  it('runs at most `concurrency` tasks at once, and that many in parallel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelauto-overlap-'));
    const results = (await Promise.all([
      executor.run(task('o-a', 'test.overlap', { dir, id: 'a', want: 2 })),
      executor.run(task('o-b', 'test.overlap', { dir, id: 'b', want: 2 })),
      executor.run(task('o-c', 'test.overlap', { dir, id: 'c', want: 1 })),
    ])) as { seen: number; pid: number }[];
    expect(results.map((r) => r.seen)).toEqual([2, 2, expect.any(Number)]);
    expect(Math.max(...results.map((r) => r.seen))).toBe(2);
    // Two children, reused: the third task ran in one of them.
    expect(new Set(results.map((r) => r.pid)).size).toBe(2);
  });

  it("passes a handler's error on with its code", async () => {
    const e = await rejection(executor.run(task('fail-1', 'test.fail')));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('bad input x');
    const unknown = await rejection(executor.run(task('nope-1', 'test.nope')));
    expect(unknown.message).toMatch(/no handler for task kind "test.nope"; known kinds: .*test\.echo/);
  });

  it('fails the task of a child that dies, saying so, and carries on with a fresh child', async () => {
    const e = await rejection(executor.run(task('crash-1', 'test.crash')));
    expect(e.code).toBe('INTERNAL');
    expect(e.message).toMatch(
      /task crash-1 \(test\.crash\) failed: its worker process \d+ was killed by SIGKILL while running it/,
    );
    const after = (await executor.run(task('echo-2', 'test.echo'))) as { pid: number };
    expect(after.pid).toBeGreaterThan(0);
  });

  it('cancels a running task through its abort signal, and a queued one before it starts', async () => {
    const running = executor.run(task('wait-1', 'test.wait-abort'));
    const blocker = executor.run(task('wait-2', 'test.wait-abort'));
    const queued = executor.run(task('echo-q', 'test.echo'));
    while (!logs.some((l) => l.taskId === 'wait-2' && l.line === 'waiting for abort'))
      await new Promise((r) => setTimeout(r, 20));
    executor.cancel('echo-q');
    expect((await rejection(queued)).code).toBe('INTERRUPTED');
    executor.cancel('wait-1');
    executor.cancel('wait-2');
    expect(await running).toBe('aborted');
    expect(await blocker).toBe('aborted');
  });

  it('reports handler modules that do not load', async () => {
    const broken = new LocalExecutor({
      concurrency: 1,
      modules: [resolve('test/pipeline/flow/fixtures/missing.ts')],
    });
    try {
      const e = await rejection(broken.run(task('x', 'test.echo')));
      expect(e.message).toMatch(/cannot load task handlers/);
    } finally {
      await broken.close();
    }
  });

  it('close() aborts running tasks, waits for them, drops queued ones and refuses new ones', async () => {
    const seen: string[] = [];
    const own = new LocalExecutor({
      concurrency: 1,
      modules: [MODULE],
      onLog: (_t, line) => seen.push(line),
    });
    const running = own.run(task('w', 'test.wait-abort'));
    const queued = own.run(task('e', 'test.echo'));
    queued.catch(() => undefined); // rejected inside close(), checked below
    while (!seen.includes('waiting for abort')) await new Promise((r) => setTimeout(r, 20));
    await own.close();
    expect(await running).toBe('aborted');
    expect((await rejection(queued)).message).toMatch(/was not started: the executor closed/);
    expect((await rejection(own.run(task('late', 'test.echo')))).code).toBe('INTERRUPTED');
  });
});
