/**
 * Resuming: after the CLI process running a pipeline is killed with SIGKILL mid-step (its children
 * notice and stop), and after Ctrl-C (the abort signal): finished steps are kept, the rest run again.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resumePipeline, runPipeline } from '../../../src/pipeline/flow/api.js';
import { LocalExecutor } from '../../../src/pipeline/executor/local.js';
import { openStores } from '../../../src/store/open.js';
import { openPipelineStore } from '../../../src/store/pipeline-open.js';

const dir = mkdtempSync(join(tmpdir(), 'modelauto-resume-'));
const executor = new LocalExecutor({ concurrency: 1 });
afterAll(async () => {
  await executor.close();
  rmSync(dir, { recursive: true, force: true });
});

const file = join(dir, 'slow.yaml');
writeFileSync(
  file,
  `name: slow
params:
  epochs: 30
steps:
  data:
    uses: data
    with: { experiment: ${resolve('examples/iris.yaml')} }
  train:
    uses: train
    needs: data
    with:
      experiment: ${resolve('examples/iris.yaml')}
      set: { train.epochs: "\${{ params.epochs }}", train.earlyStopping: null, train.batchSize: 8 }
  evaluate:
    uses: evaluate
    with: { run: "\${{ steps.train.outputs.run_id }}" }
`,
);

/** Waits until no training run of the store is still running (the killed attempt's child stops it). */
async function trainRunsSettle(store: string): Promise<string[]> {
  for (let i = 0; i < 150; i++) {
    const s = await openStores(store);
    try {
      const runs = await s.tracking.listRuns({ kind: 'train' });
      if (runs.every((r) => r.status !== 'running')) return runs.map((r) => r.status).sort();
    } finally {
      await s.close();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('a training run stayed running');
}

describe('pipeline resume', () => {
  it('continues a run whose process was killed with SIGKILL mid-step, without redoing finished steps', async () => {
    const store = join(dir, 'killed');
    const cli = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', '--store', store, 'pipeline', 'run', file],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`no training progress; stderr:\n${stderr}`)), 120_000);
      cli.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/\[train\] epoch 3\/30/.test(stderr)) {
          clearTimeout(timer);
          done();
        }
      });
    });
    cli.kill('SIGKILL');
    await new Promise((r) => cli.once('exit', r));

    const pipelines = await openPipelineStore(store);
    let runId: string;
    try {
      const [killed] = await pipelines.listRuns();
      runId = killed!.id;
      expect(killed!.status).toBe('running');
      expect(killed!.steps.map((s) => [s.stepId, s.status])).toEqual([
        ['data', 'finished'],
        ['train', 'running'],
        ['evaluate', 'pending'],
      ]);
    } finally {
      await pipelines.close();
    }
    // The orphaned child saw its parent go and recorded its training run as interrupted.
    expect(await trainRunsSettle(store)).toEqual(['interrupted']);

    const { run } = await resumePipeline(runId.slice(0, 8), { store, executor });
    expect(run.status, run.error ?? '').toBe('finished');
    expect(run.attempts).toBe(2);
    expect(run.steps.map((s) => [s.stepId, s.status, s.attempt])).toEqual([
      ['data', 'finished', 1],
      ['train', 'finished', 2],
      ['evaluate', 'finished', 1],
    ]);
    expect(await trainRunsSettle(store)).toEqual(['finished', 'interrupted']);
  });

  it('records Ctrl-C as interrupted (training stopped after its batch) and resumes it', async () => {
    const store = join(dir, 'ctrl-c');
    const controller = new AbortController();
    const { run } = await runPipeline(file, {
      store,
      executor,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'progress' && e.stepId === 'train' && e.fraction >= 0.1) controller.abort();
      },
    });
    expect(run.status).toBe('interrupted');
    expect(run.error).toMatch(/modelauto pipeline resume/);
    expect(run.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['data', 'finished'],
      ['train', 'interrupted'],
      ['evaluate', 'pending'],
    ]);
    expect(await trainRunsSettle(store)).toEqual(['interrupted']);

    const resumed = await resumePipeline(run.id, { store, executor });
    expect(resumed.run.status).toBe('finished');
    expect(resumed.run.steps.map((s) => s.status)).toEqual(['finished', 'finished', 'finished']);
    expect(resumed.run.steps[0]!.attempt).toBe(1);
  });
});
