/**
 * The pipeline routes of the dashboard over a real SQLite store: a real pipeline (a grid search of two
 * trials on Iris, then train, gate, register, in child processes) seen as the page sees it; a run in
 * progress with a step's progress and a long log tailed; bad ids; a dashboard without a pipeline
 * store; and the queue of the distributed executor on a real Redis.
 */
import { Queue } from 'bullmq';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type {
  InfoResponse,
  PipelineDetailResponse,
  PipelineLogsResponse,
  PipelinesResponse,
  QueueResponse,
} from '../../../src/monitor/dashboard/api-types.js';
import { openQueueMonitor } from '../../../src/pipeline/executor/bullmq-status.js';
import { LocalExecutor } from '../../../src/pipeline/executor/local.js';
import { runPipeline } from '../../../src/pipeline/flow/api.js';
import { openPipelineStore } from '../../../src/store/pipeline-open.js';
import { processOwner } from '../../../src/store/pipeline-sql.js';
import {
  deletePrefix,
  describeRedis,
  freshPrefix,
  REDIS_TEST_URL,
} from '../../pipeline/executor/redis-env.js';
import { dashboardServer, tempStores } from './helpers.js';

const { dir, stores } = await tempStores();
const pipelines = await openPipelineStore(dir);
afterAll(() => pipelines.close());
const server = await dashboardServer({ stores, pipelines });

const IRIS = resolve('examples/iris.yaml');

describe('dashboard: pipeline runs', () => {
  it('shows a finished pipeline with its steps, search trials, tracked runs, lineage and logs', async () => {
    const work = mkdtempSync(join(tmpdir(), 'modelauto-dash-pipeline-'));
    const executor = new LocalExecutor({ concurrency: 2 });
    try {
      const file = join(work, 'tuned.yaml');
      writeFileSync(
        file,
        `name: iris-tuned
steps:
  search:
    uses: search
    with:
      experiment: ${IRIS}
      set: { train.earlyStopping: null, train.epochs: 2 }
      strategy: grid
      metric: val_loss
      mode: min
      space:
        model.layers[0].units: [4, 8]
  gate:
    uses: gate
    with:
      run: \${{ steps.search.outputs.best_run_id }}
      conditions: [test_accuracy >= 0]
  register:
    uses: register
    needs: gate
    with:
      run: \${{ steps.search.outputs.best_run_id }}
      model: iris-tuned
`,
      );
      const { run } = await runPipeline(file, { store: dir, executor });
      expect(run.status).toBe('finished');

      const list = (await server.get('/api/pipelines')).json as PipelinesResponse;
      expect(list.available).toBe(true);
      const summary = list.runs.find((r) => r.id === run.id);
      expect(summary).toMatchObject({
        name: 'iris-tuned',
        status: 'finished',
        executor: 'local',
        stepTotal: 3,
        stepCounts: { finished: 3 },
        progress: 1,
        running: [],
        trigger: null,
      });
      expect(summary!.durationMs).toBeGreaterThan(0);

      const res = await server.get(`/api/pipelines/${run.id.slice(0, 8)}`);
      expect(res.status).toBe(200);
      const d = res.json as PipelineDetailResponse;
      expect(d.file).toBe('tuned.yaml');
      expect(d.steps.map((s) => [s.stepId, s.status, s.progress])).toEqual([
        ['search', 'finished', 1],
        ['gate', 'finished', 1],
        ['register', 'finished', 1],
      ]);
      expect(d.steps[1]!.needs).toEqual(['search']);
      expect(d.steps[0]!.outputs).toMatchObject({ best_params: expect.any(Object) });
      // Two grid trials, each recorded once, each a tracked run of this pipeline.
      expect(d.trials).toHaveLength(2);
      expect(d.trials.every((t) => t.stepId === 'search' && t.status === 'finished')).toBe(true);
      expect(d.trials.map((t) => t.params['model.layers[0].units']).sort()).toEqual([4, 8]);
      const trialRuns = new Set(d.trials.map((t) => t.runId));
      expect(d.runs.filter((r) => trialRuns.has(r.id))).toHaveLength(2);
      expect(d.runs.some((r) => r.kind === 'search')).toBe(true);
      expect(d.lineage).toContainEqual({ stepId: 'register', kind: 'model_version', ref: 'iris-tuned:1' });
      expect(d.logs.length).toBeGreaterThan(0);
      expect(d.logs.some((l) => l.stepId === 'search' && /search [0-9a-f]{8}: grid/.test(l.line))).toBe(true);
    } finally {
      await executor.close();
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);

  it('shows a running step’s progress and tails a long log', async () => {
    const run = await pipelines.createRun({
      name: 'in-progress',
      spec: { name: 'in-progress' },
      params: {
        epochs: 3,
        trigger: 'mnist-drift fired on mnist',
        store: 'postgres://ml:hunter2@db:5432/modelauto?artifacts=/shared',
      },
      file: '/secret/place/flow.yaml',
      baseDir: '/secret/place',
      executor: 'bullmq',
      codeVersion: '0.1.0',
      owner: processOwner(),
      steps: [
        { stepId: 'train', uses: 'train', needs: [] },
        { stepId: 'evaluate', uses: 'evaluate', needs: ['train'] },
        { stepId: 'gate', uses: 'gate', needs: ['evaluate'] },
        { stepId: 'register', uses: 'register', needs: ['gate'] },
      ],
    });
    await pipelines.updateStep(run.id, 'train', {
      status: 'running',
      progress: 0.5,
      message: 'epoch 2/4',
      taskId: `${run.id}:train`,
      attempt: 1,
      startTime: Date.now() - 1000,
    });
    const lines = Array.from({ length: 1203 }, (_, i) =>
      i === 1202 ? 'line 1202 to redis://:s3cret@queue:6379/0' : `line ${i}`,
    );
    await pipelines.appendLogs(run.id, 'train', lines);

    const list = (await server.get('/api/pipelines?status=running')).json as PipelinesResponse;
    expect(list.runs.map((r) => r.id)).toEqual([run.id]);
    expect(list.runs[0]).toMatchObject({
      status: 'running',
      running: ['train'],
      stepCounts: { running: 1, pending: 3 },
      progress: 0.125,
      trigger: 'mnist-drift fired on mnist',
    });

    const d = (await server.get(`/api/pipelines/${run.id}`)).json as PipelineDetailResponse;
    expect(d.file).toBe('flow.yaml');
    expect(JSON.stringify(d)).not.toContain('/secret/place');
    // Credentials in params and logs are masked.
    expect(JSON.stringify(d)).not.toMatch(/hunter2|s3cret/);
    expect(d.params['store']).toBe('postgres://ml:***@db:5432/modelauto?artifacts=/shared');
    expect(d.steps[0]).toMatchObject({
      status: 'running',
      progress: 0.5,
      message: 'epoch 2/4',
      taskId: `${run.id}:train`,
      endTime: null,
    });
    expect(d.steps[0]!.durationMs).toBeGreaterThanOrEqual(1000);
    expect(d.steps[1]).toMatchObject({ status: 'pending', progress: null, durationMs: null });
    // The newest 200 lines, oldest first.
    expect(d.logs).toHaveLength(200);
    expect(d.logs[0]!.line).toBe('line 1003');
    expect(d.logs.at(-1)!.line).toBe('line 1202 to redis://:***@queue:6379/0');

    const after = d.logs.at(-1)!.seq;
    await pipelines.appendLogs(run.id, 'train', ['line 1203', 'line 1204']);
    const tail = (await server.get(`/api/pipelines/${run.id}/logs?after=${after}`))
      .json as PipelineLogsResponse;
    expect(tail.lines.map((l) => l.line)).toEqual(['line 1203', 'line 1204']);
    expect(tail.lastSeq).toBe(tail.lines[1]!.seq);
    const none = (await server.get(`/api/pipelines/${run.id}/logs?after=${tail.lastSeq}`))
      .json as PipelineLogsResponse;
    expect(none).toEqual({ lines: [], lastSeq: tail.lastSeq });
    const byStep = (await server.get(`/api/pipelines/${run.id}/logs?step=gate`)).json as PipelineLogsResponse;
    expect(byStep.lines).toEqual([]);
  });

  it('answers bad ids and queries with 400 naming the field, unknown runs with 404', async () => {
    const bad = await server.get('/api/pipelines/nothex!');
    expect(bad.status).toBe(400);
    expect((bad.json as { error: string }).error).toMatch(/id.*pipeline run id/);
    const missing = await server.get('/api/pipelines/0123456789abcdef0123456789abcdef');
    expect(missing.status).toBe(404);
    const q = await server.get('/api/pipelines?status=happy');
    expect(q.status).toBe(400);
    expect((q.json as { error: string }).error).toMatch(/status/);
    const limit = await server.get('/api/pipelines/abcd/logs?limit=0');
    expect(limit.status).toBe(400);
    expect((limit.json as { error: string }).error).toMatch(/limit/);
  });

  it('says so when it has no pipeline store or queue', async () => {
    const bare = await dashboardServer({ stores });
    const info = (await bare.get('/api/info')).json as InfoResponse;
    expect(info).toMatchObject({ pipelines: false, queue: false });
    expect((await bare.get('/api/pipelines')).json).toEqual({ available: false, runs: [] });
    const detail = await bare.get('/api/pipelines/abcd');
    expect(detail.status).toBe(404);
    expect((detail.json as { error: string }).error).toMatch(/no pipeline store/);
    expect((await bare.get('/api/queue')).json).toEqual({ available: false, status: null, error: null });
    expect(((await server.get('/api/info')).json as InfoResponse).pipelines).toBe(true);
  });
});

describeRedis('dashboard: the job queue', () => {
  const prefix = freshPrefix();
  afterAll(() => deletePrefix(prefix));

  it('shows the jobs waiting on a real Redis queue, then the error once Redis is gone', async () => {
    const queue = new Queue('modelauto', { connection: { url: REDIS_TEST_URL }, prefix });
    const monitor = await openQueueMonitor({ redis: REDIS_TEST_URL, prefix });
    try {
      await queue.add(
        'pipeline.step',
        { id: 'abc123:train', kind: 'pipeline.step', input: {}, store: '/tmp/x' },
        { jobId: 'abc123-train', attempts: 3 },
      );
      const withQueue = await dashboardServer({ stores, pipelines, queue: monitor });
      expect(((await withQueue.get('/api/info')).json as InfoResponse).queue).toBe(true);
      const res = (await withQueue.get('/api/queue')).json as QueueResponse;
      expect(res.available).toBe(true);
      expect(res.error).toBeNull();
      expect(res.status).toMatchObject({ queue: 'modelauto', prefix, counts: { waiting: 1, active: 0 } });
      expect(res.status!.redis).not.toMatch(/:[^/@]*@/);
      expect(res.status!.jobs).toEqual([
        expect.objectContaining({
          taskId: 'abc123:train',
          kind: 'pipeline.step',
          state: 'waiting',
          attempts: 3,
          worker: null,
        }),
      ]);
      await monitor.close();
      const down = (await withQueue.get('/api/queue')).json as QueueResponse;
      expect(down.available).toBe(true);
      expect(down.status).toBeNull();
      expect(down.error).toMatch(/\S/);
    } finally {
      await monitor.close().catch(() => undefined);
      await queue.close();
    }
  });
});
