/**
 * `modelauto dashboard` in a child process: the dashboard on its own over a store (pipeline runs,
 * models, runs) and, with --redis, the job queue; stops cleanly on SIGTERM; bad flags and an
 * unreachable Redis fail before it listens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type {
  InfoResponse,
  PipelinesResponse,
  QueueResponse,
} from '../../../src/monitor/dashboard/api-types.js';
import { openPipelineStore } from '../../../src/store/pipeline-open.js';
import { processOwner } from '../../../src/store/pipeline-sql.js';
import { describeRedis, freshPrefix, REDIS_TEST_URL } from '../../pipeline/executor/redis-env.js';
import { runCli } from '../run-cli.js';
import { spawnCli } from '../spawn-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'modelauto-dashboard-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, MODELAUTO_STORE: '', MODELAUTO_REDIS: '' };

function startCli(args: string[]): ReturnType<typeof spawnCli> {
  return spawnCli(
    'src/cli/main.ts',
    ['--store', dir, 'dashboard', '--port', '0', ...args],
    /dashboard at (http:\/\/127\.0\.0\.1:\d+)/,
    env,
  );
}

describe('modelauto dashboard', () => {
  it('serves the pipeline runs of the store until SIGTERM', async () => {
    const pipelines = await openPipelineStore(dir);
    const run = await pipelines.createRun({
      name: 'nightly',
      spec: { name: 'nightly' },
      params: {},
      file: null,
      baseDir: dir,
      executor: 'local',
      codeVersion: '0.1.0',
      owner: processOwner(),
      steps: [{ stepId: 'train', uses: 'train', needs: [] }],
    });
    await pipelines.close();
    const cli = await startCli([]);
    try {
      const info = (await (await fetch(`${cli.url}/api/info`)).json()) as InfoResponse;
      expect(info).toMatchObject({ monitor: false, pipelines: true, queue: false });
      const list = (await (await fetch(`${cli.url}/api/pipelines`)).json()) as PipelinesResponse;
      expect(list.runs.map((r) => [r.id, r.name, r.status])).toEqual([[run.id, 'nightly', 'running']]);
      const page = await fetch(`${cli.url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    } finally {
      const { code, stderr } = await cli.stop();
      expect(code).toBe(0);
      expect(stderr).toContain('SIGTERM');
    }
  }, 60_000);

  it('refuses a bad port and an unreachable Redis, naming them', async () => {
    const port = await runCli(['--store', dir, 'dashboard', '--port', '70000']);
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('--port: expected a port number 0-65535, got "70000"');
    const redis = await runCli([
      '--store',
      dir,
      'dashboard',
      '--port',
      '0',
      '--redis',
      'redis://127.0.0.1:1',
    ]);
    expect(redis.code).toBe(1);
    expect(redis.stderr).toMatch(/Redis at redis:\/\/127\.0\.0\.1:1\/0 is unreachable/);
  });
});

describeRedis('modelauto dashboard --redis', () => {
  it('shows the queue of the distributed executor', async () => {
    const prefix = freshPrefix();
    const cli = await startCli(['--redis', REDIS_TEST_URL, '--prefix', prefix]);
    try {
      const info = (await (await fetch(`${cli.url}/api/info`)).json()) as InfoResponse;
      expect(info.queue).toBe(true);
      const q = (await (await fetch(`${cli.url}/api/queue`)).json()) as QueueResponse;
      expect(q).toMatchObject({ available: true, error: null, status: { queue: 'modelauto', prefix } });
      expect(q.status!.counts.waiting).toBe(0);
    } finally {
      expect((await cli.stop()).code).toBe(0);
    }
  }, 60_000);
});
