/**
 * The acceptance scenario of the distributed executor: a pipeline's search step over 8 trials (real
 * iris training runs, `search.trial` tasks) on 2 `modelauto worker` processes, with Redis for the
 * queue and PostgreSQL for the metadata; one worker is SIGKILLed in the middle of a trial,
 * stalled-job recovery hands that trial to the other worker, and the search still ends with all 8
 * results, each recorded exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BullmqExecutor } from '../../../src/pipeline/executor/bullmq-executor.js';
import { queueStatus } from '../../../src/pipeline/executor/bullmq-status.js';
import type { Executor, TaskProgress } from '../../../src/pipeline/executor/types.js';
import { runPipeline, type PipelineRunResult } from '../../../src/pipeline/flow/api.js';
import { openTrackingStore } from '../../../src/store/open.js';
import { openTaskResultStore } from '../../../src/store/task-results-open.js';
import { describePostgres, dropSchema, freshSchemaName, pgStoreUri } from '../../store/pg-env.js';
import { deletePrefix, describeRedis, freshPrefix, REDIS_TEST_URL } from './redis-env.js';

const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = join(PROJECT, 'src/cli/main.ts');
/** A small iris MLP; 100 epochs take about a second and a half on one core of an idle machine. */
const IRIS_EXPERIMENT = {
  name: 'iris-trial',
  data: { source: 'iris', split: { validation: 0.2, test: 0.2, seed: 1 } },
  model: {
    seed: 3,
    layers: [
      { type: 'dense', units: 16, activation: 'relu' },
      { type: 'dense', units: 3, activation: 'softmax' },
    ],
  },
  train: {
    epochs: 100,
    batchSize: 8,
    optimizer: { type: 'adam', learningRate: 0.01 },
    metrics: ['accuracy'],
  },
};

interface WorkerProcess {
  name: string;
  child: ChildProcess;
  lines: string[];
  /** The task it is running now, from its "running"/"done" lines. */
  current: string | undefined;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `modelauto worker` from the TypeScript sources, as `node --import tsx src/cli/main.ts worker ...`. */
function spawnWorker(name: string, store: string, prefix: string): WorkerProcess {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      '--store',
      store,
      'worker',
      '--redis',
      REDIS_TEST_URL,
      '--prefix',
      prefix,
      '--name',
      name,
      // Short lock and check: a lost worker's job is back on the queue within ~6 s, not a minute.
      '--lock-duration',
      '5000',
      '--stalled-interval',
      '1000',
    ],
    // One kernel thread each: two workers share the machine's cores.
    { cwd: PROJECT, env: { ...process.env, MODELAUTO_THREADS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const w: WorkerProcess = {
    name,
    child,
    lines: [],
    current: undefined,
    waitFor(pattern, timeoutMs = 30_000) {
      const seen = w.lines.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolveLine, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`${name}: no line matching ${pattern} in ${timeoutMs} ms:\n${w.lines.join('\n')}`),
            ),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolveLine(line);
          },
        });
      });
    },
    exited: new Promise((r) => child.on('exit', (code, signal) => r({ code, signal }))),
  };
  let buffered = '';
  const onData = (chunk: Buffer): void => {
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const line of parts) {
      w.lines.push(line);
      const running = new RegExp(`^${name}: running \\S+ (\\S+) \\(attempt`).exec(line);
      if (running) w.current = running[1];
      if (new RegExp(`^${name}: (done|failed) `).test(line)) w.current = undefined;
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return w;
}

describeRedis('distributed executor (BullMQ workers in child processes)', () => {
  describePostgres('with PostgreSQL metadata', () => {
    const prefix = freshPrefix();
    const schema = freshSchemaName();
    let artifacts: string;
    let store: string;
    const workers: WorkerProcess[] = [];

    beforeAll(async () => {
      artifacts = await mkdtemp(join(tmpdir(), 'modelauto-bullmq-pg-'));
      store = pgStoreUri(schema, artifacts);
    });
    afterAll(async () => {
      for (const w of workers)
        if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await deletePrefix(prefix);
      await dropSchema(schema);
      await rm(artifacts, { recursive: true, force: true });
    });

    it('runs a search step over 8 trials on 2 workers; one SIGKILLed mid-trial, all 8 results are recorded exactly once', async () => {
      const t0 = Date.now();
      const a = spawnWorker('worker-a', store, prefix);
      const b = spawnWorker('worker-b', store, prefix);
      workers.push(a, b);
      await Promise.all([a.waitFor(/ready on queue/), b.waitFor(/ready on queue/)]);
      expect(a.lines.find((l) => l.includes('ready on queue'))).toMatch(
        /task kinds: .*pipeline\.step.*search\.trial/,
      );
      const tReady = Date.now();

      const bullmq = await BullmqExecutor.open({ redis: REDIS_TEST_URL, prefix, pollIntervalMs: 500 });
      let killed: { taskId: string; fraction: number; at: number } | undefined;
      // Worker A first finishes a trial of its own, so both workers contribute results.
      const aFinishedOne = (): boolean => a.lines.some((l) => l.startsWith('worker-a: done search.trial'));
      // The search hands trials to this executor; the wrapper watches their progress to kill worker A
      // in the middle of its second trial (between a quarter and four fifths done).
      const executor: Executor & { cancel(taskId: string): void } = {
        name: bullmq.name,
        run: (task, onProgress) =>
          bullmq.run(task, (p: TaskProgress) => {
            onProgress?.(p);
            if (
              !killed &&
              aFinishedOne() &&
              p.taskId === a.current &&
              p.fraction >= 0.25 &&
              p.fraction <= 0.8
            ) {
              killed = { taskId: p.taskId, fraction: p.fraction, at: Date.now() };
              a.child.kill('SIGKILL');
            }
          }),
        cancel: (taskId) => bullmq.cancel(taskId),
        close: () => bullmq.close(),
      };
      let result: PipelineRunResult;
      try {
        result = await runPipeline(
          {
            name: 'iris-search-distributed',
            steps: {
              search: {
                uses: 'search',
                with: {
                  experiment: IRIS_EXPERIMENT,
                  space: {
                    'train.optimizer.learningRate': [0.003, 0.01, 0.03, 0.1],
                    'model.layers[0].units': [8, 16],
                  },
                  strategy: 'grid',
                  metric: 'val_loss',
                  mode: 'min',
                  parallel: 8,
                },
              },
            },
          },
          { store, executor, baseDir: PROJECT },
        );
      } finally {
        await bullmq.close();
      }
      const tDone = Date.now();

      // Worker A died by SIGKILL mid-trial; worker B finished that trial after stalled-job recovery.
      expect(killed, `worker A never reported mid-trial progress:\n${a.lines.join('\n')}`).toBeDefined();
      const victim = killed!.taskId;
      expect(await a.exited).toEqual({ code: null, signal: 'SIGKILL' });
      expect(b.lines.some((l) => l.includes('lost its worker (lock expired); moved back to the queue'))).toBe(
        true,
      );
      expect(
        b.lines.some((l) =>
          new RegExp(`^worker-b: running search\\.trial ${victim} \\(attempt 2/3\\)`).test(l),
        ),
      ).toBe(true);

      // The search finished with 8 finished trials and a best run.
      expect(result.run.status).toBe('finished');
      const outputs = result.run.steps.find((st) => st.stepId === 'search')?.outputs ?? {};
      const table = outputs['results'] as {
        trial_id: string;
        status: string;
        run_id: string;
        metric: number;
      }[];
      expect(outputs['trials']).toBe(8);
      expect(table.map((t) => t.status)).toEqual(Array(8).fill('finished'));
      expect(new Set(table.map((t) => t.run_id)).size).toBe(8);
      const trialIds = table.map((t) => t.trial_id).sort();
      expect(trialIds).toContain(victim);

      // Exactly once in PostgreSQL: one task result per trial, none duplicated, the victim's by worker B.
      const results = await openTaskResultStore(store);
      try {
        const rows = await results.listTaskResults({ kind: 'search.trial' });
        expect(rows.map((r) => r.taskId).sort()).toEqual(trialIds);
        for (const r of rows) expect(r.duplicates).toBe(0);
        expect(rows.find((r) => r.taskId === victim)).toMatchObject({ worker: 'worker-b', attempt: 2 });
        expect(rows.filter((r) => r.worker === 'worker-a').length).toBeGreaterThanOrEqual(1);
        for (const t of table) {
          expect(rows.find((r) => r.taskId === t.trial_id)?.output).toMatchObject({
            runId: t.run_id,
            metric: t.metric,
          });
        }
      } finally {
        await results.close();
      }

      // The tracking store: 8 finished trial runs under the search run; the killed attempt's run closed as failed.
      const tracking = await openTrackingStore(store);
      try {
        const runs = (await tracking.listRuns({ kind: 'train' })).filter(
          (r) => r.parentRunId === outputs['run_id'],
        );
        expect(
          runs
            .filter((r) => r.status === 'finished')
            .map((r) => r.id)
            .sort(),
        ).toEqual(table.map((t) => t.run_id).sort());
        // The killed attempt's run: search.trial closes an abandoned attempt's run as failed when that
        // attempt had registered it, which it does once training ends; one killed mid-training stays
        // `running` (the trial's result is unaffected: it is the retry's run).
        const abandoned = runs.filter((r) => r.status !== 'finished');
        expect(abandoned).toHaveLength(1);
        expect(abandoned[0]?.tags['trial_id']).toBe(victim);
        expect(['running', 'failed']).toContain(abandoned[0]?.status);
        const best = await tracking.getRun(outputs['best_run_id'] as string);
        expect(best.metrics['val_loss']?.value).toBe(outputs['best_metric']);
      } finally {
        await tracking.close();
      }

      // The queue agrees: 8 completed, nothing failed or pending; the victim's job lost its worker once.
      const status = await queueStatus({ redis: REDIS_TEST_URL, prefix });
      expect(status.counts).toMatchObject({ completed: 8, failed: 0, active: 0, waiting: 0, delayed: 0 });
      expect(status.workers).toEqual(['worker-b']);
      expect(status.jobs.find((j) => j.taskId === victim)).toMatchObject({ worker: 'worker-b', stalls: 1 });

      // SIGTERM: worker B stops cleanly.
      b.child.kill('SIGTERM');
      expect(await b.exited).toEqual({ code: 0, signal: null });
      expect(b.lines.at(-1)).toBe('worker-b: stopped');

      console.log(
        `distributed search: workers ready in ${((tReady - t0) / 1000).toFixed(1)} s; search of 8 trials in ` +
          `${((tDone - tReady) / 1000).toFixed(1)} s; worker A killed at ${Math.round(killed!.fraction * 100)}% of ` +
          `${victim} (${((killed!.at - tReady) / 1000).toFixed(1)} s in), recovered by worker B; ` +
          `best ${JSON.stringify(outputs['best_params'])} val_loss ${(outputs['best_metric'] as number).toFixed(4)}`,
      );
    }, 120_000);
  });
});
