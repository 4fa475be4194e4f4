/**
 * `modelauto worker` and `modelauto worker status` through the real CLI entry (main), in process.
 * The worker loop itself runs as child processes in test/pipeline/executor/bullmq-distributed.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../run-cli.js';
import { BullmqExecutor } from '../../../src/pipeline/executor/bullmq-executor.js';
import { runWorker } from '../../../src/pipeline/executor/bullmq-worker.js';
import { registerTaskHandler } from '../../../src/pipeline/executor/registry.js';
import {
  deletePrefix,
  describeRedis,
  freshPrefix,
  REDIS_TEST_URL,
} from '../../pipeline/executor/redis-env.js';

const store = mkdtempSync(join(tmpdir(), 'modelauto-cli-worker-'));
afterAll(() => rmSync(store, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(['--store', store, ...args]);

registerTaskHandler('test.cli-double', async (input, ctx) => {
  ctx.progress(1, 'doubled');
  return { doubled: (input as { n: number }).n * 2 };
});

describe('modelauto worker', () => {
  it('documents its flags', async () => {
    const r = await cli('worker', '--help');
    expect(r.code).toBe(0);
    for (const flag of [
      '--redis',
      '--concurrency',
      '--queue',
      '--prefix',
      '--lock-duration',
      '--stalled-interval',
      '--handlers',
    ]) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toContain('MODELAUTO_REDIS');
    const s = await cli('worker', 'status', '--help');
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('--limit');
  });

  it('refuses to start without a usable Redis URL, saying what is expected (exit 2)', async () => {
    const saved = process.env['MODELAUTO_REDIS'];
    delete process.env['MODELAUTO_REDIS'];
    try {
      const none = await cli('worker');
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(
        /no Redis server given: pass --redis redis:\/\/host:6379\[\/db\] or set MODELAUTO_REDIS/,
      );
      const bad = await cli('worker', 'status', '--redis', 'http://127.0.0.1:6379');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--redis: expected a redis:\/\/ or rediss:\/\/ URL, got "http:"/);
      const handlers = await cli(
        'worker',
        '--redis',
        REDIS_TEST_URL,
        '--handlers',
        join(store, 'missing.js'),
      );
      expect(handlers.code).toBe(2);
      expect(handlers.stderr).toMatch(/missing\.js: cannot load the task handlers module/);
    } finally {
      if (saved !== undefined) process.env['MODELAUTO_REDIS'] = saved;
    }
  });
});

describeRedis('modelauto worker status', () => {
  const prefix = freshPrefix();
  afterAll(() => deletePrefix(prefix));

  it('lists the jobs with state, progress and worker, and the connected workers', async () => {
    const worker = await runWorker({
      redis: REDIS_TEST_URL,
      prefix,
      name: 'cli-w',
      modules: [],
      log: () => undefined,
    });
    const executor = await BullmqExecutor.open({ redis: REDIS_TEST_URL, prefix });
    try {
      expect(
        await executor.run({ id: 'double-21', kind: 'test.cli-double', input: { n: 21 }, store }),
      ).toEqual({
        doubled: 42,
      });
      const human = await cli('worker', 'status', '--redis', REDIS_TEST_URL, '--prefix', prefix);
      expect(human.code).toBe(0);
      expect(human.stdout).toContain(`queue modelauto at redis://127.0.0.1:6379/0 (prefix ${prefix})`);
      expect(human.stdout).toContain('workers: cli-w');
      expect(human.stdout).toMatch(/completed 1/);
      expect(human.stdout).toMatch(/double-21\s+test\.cli-double\s+completed\s+100% doubled\s+1\/3\s+cli-w/);

      const json = await cli('--json', 'worker', 'status', '--redis', REDIS_TEST_URL, '--prefix', prefix);
      const status = JSON.parse(json.stdout) as {
        counts: Record<string, number>;
        jobs: { taskId: string }[];
      };
      expect(status.counts['completed']).toBe(1);
      expect(status.jobs.map((j) => j.taskId)).toEqual(['double-21']);
    } finally {
      await executor.close();
      await worker.stop();
    }
  });
});
