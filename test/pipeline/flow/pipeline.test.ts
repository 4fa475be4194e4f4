/**
 * Whole pipelines on Iris and a small CSV, steps in real child processes (one local executor for the
 * file, so its children are reused): recording, caching, gates against the champion, failures,
 * skipping, and resuming a failed run.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resumePipeline, runPipeline, getPipelineStatus } from '../../../src/pipeline/flow/api.js';
import { LocalExecutor } from '../../../src/pipeline/executor/local.js';
import { openStores } from '../../../src/store/open.js';

const dir = mkdtempSync(join(tmpdir(), 'modelauto-pipeline-'));
const store = join(dir, 'store');
const executor = new LocalExecutor({ concurrency: 2 });
afterAll(async () => {
  await executor.close();
  rmSync(dir, { recursive: true, force: true });
});

const IRIS = resolve('examples/iris.yaml');

function pipelineFile(name: string, text: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

const irisPipeline = pipelineFile(
  'iris',
  `name: iris-flow
params:
  epochs: 4
steps:
  data:
    uses: data
    with: { experiment: ${IRIS} }
  train:
    uses: train
    needs: [data]
    with:
      experiment: ${IRIS}
      set:
        train.epochs: \${{ params.epochs }}
        train.earlyStopping: null
  evaluate:
    uses: evaluate
    with:
      run: \${{ steps.train.outputs.run_id }}
  gate:
    uses: gate
    with:
      run: \${{ steps.train.outputs.run_id }}
      model: iris
      conditions:
        - test_accuracy >= 0.3
        - size_bytes <= 1000000
        - f1_macro >= champion.f1_macro - 1
  register:
    uses: register
    needs: [gate, evaluate]
    with:
      run: \${{ steps.train.outputs.run_id }}
      model: iris
      aliases: [champion]
`,
);

async function countRuns(): Promise<number> {
  const s = await openStores(store);
  try {
    return (await s.tracking.listRuns()).length;
  } finally {
    await s.close();
  }
}

describe('pipelines', () => {
  let firstTrainRun = '';

  it('runs every step, records outputs, lineage and logs, and promotes the model', async () => {
    const { run } = await runPipeline(irisPipeline, { store, executor });
    expect(run.status, run.error ?? '').toBe('finished');
    expect(run.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['data', 'finished'],
      ['train', 'finished'],
      ['evaluate', 'finished'],
      ['gate', 'finished'],
      ['register', 'finished'],
    ]);
    const train = run.steps.find((s) => s.stepId === 'train')!;
    firstTrainRun = train.outputs?.['run_id'] as string;
    expect(firstTrainRun).toMatch(/^[0-9a-f]{32}$/);
    expect(train.cacheKey).toMatch(/^[0-9a-f]{64}$/);
    expect(train.inputs).toMatchObject({ set: { 'train.epochs': 4 } });
    expect(run.steps.find((s) => s.stepId === 'gate')!.outputs).toMatchObject({
      passed: true,
      champion: null,
    });
    expect(run.steps.find((s) => s.stepId === 'register')!.outputs).toMatchObject({
      model: 'iris',
      version: 1,
      ref: 'iris:1',
      aliases: ['champion'],
    });

    const status = await getPipelineStatus(run.id.slice(0, 6), { store, logLines: 1000 });
    expect(status.lineage).toContainEqual({ stepId: 'train', kind: 'run', ref: firstTrainRun });
    expect(status.lineage).toContainEqual({ stepId: 'register', kind: 'model_version', ref: 'iris:1' });
    expect(status.logs.some((l) => l.stepId === 'train' && /^epoch 4\/4: loss/.test(l.line))).toBe(true);
    expect(status.logs.some((l) => l.stepId === 'gate' && /^pass: size_bytes <= 1000000/.test(l.line))).toBe(
      true,
    );

    const s = await openStores(store);
    try {
      const trained = await s.tracking.getRun(firstTrainRun);
      expect(trained.tags).toMatchObject({ pipeline_run: run.id, pipeline_step: 'train' });
      expect(trained.params['train']).toMatchObject({ epochs: 4 });
      expect((await s.registry.resolve('iris@champion')).sourceRunId).toBe(firstTrainRun);
    } finally {
      await s.close();
    }
  });

  it('skips every step on an unchanged second run, and reruns only what a parameter changes', async () => {
    const before = await countRuns();
    const again = await runPipeline(irisPipeline, { store, executor });
    expect(again.run.status).toBe('finished');
    expect(again.run.steps.map((s) => s.status)).toEqual(['cached', 'cached', 'cached', 'cached', 'cached']);
    expect(again.run.steps.every((s) => s.cached)).toBe(true);
    expect(again.run.steps.find((s) => s.stepId === 'train')!.outputs?.['run_id']).toBe(firstTrainRun);
    expect(await countRuns()).toBe(before);

    const changed = await runPipeline(irisPipeline, { store, executor, set: ['epochs=5'] });
    expect(changed.run.status, changed.run.error ?? '').toBe('finished');
    expect(changed.run.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['data', 'cached'],
      ['train', 'finished'],
      ['evaluate', 'finished'],
      ['gate', 'finished'],
      ['register', 'finished'],
    ]);
    // The gate compared with the champion (version 1), scored on the candidate's own test split.
    const gate = changed.run.steps.find((s) => s.stepId === 'gate')!.outputs!;
    expect(gate['champion']).toBe('iris:1');
    expect(changed.run.steps.find((s) => s.stepId === 'register')!.outputs?.['version']).toBe(2);
  });

  it('stops promotion when a gate fails against the champion, and says why', async () => {
    const file = pipelineFile(
      'gated',
      `name: iris-gated
steps:
  train:
    uses: train
    with: { experiment: ${IRIS}, set: { train.epochs: 1, train.earlyStopping: null, train.optimizer.learningRate: 0.0001 } }
  gate:
    uses: gate
    with:
      run: \${{ steps.train.outputs.run_id }}
      model: iris
      conditions: [test_accuracy >= champion.test_accuracy, test_accuracy >= 0]
  register:
    uses: register
    needs: gate
    with: { run: "\${{ steps.train.outputs.run_id }}", model: iris, aliases: [champion] }
  unrelated:
    uses: evaluate
    with: { run: "\${{ steps.train.outputs.run_id }}", split: validation }
`,
    );
    const { run } = await runPipeline(file, { store, executor });
    expect(run.status).toBe('gated');
    expect(run.error).toMatch(
      /^gate "gate" failed: test_accuracy >= champion\.test_accuracy \(test_accuracy=0\.\d{4} < champion\.test_accuracy=0\.\d{4}\)$/,
    );
    const steps = Object.fromEntries(run.steps.map((s) => [s.stepId, s]));
    expect(steps['gate']!.status).toBe('gated');
    expect(steps['register']!).toMatchObject({
      status: 'skipped',
      error: 'not run: it needs "gate", which was gated',
    });
    expect(steps['unrelated']!.status).toBe('finished');
    const gate = steps['gate']!.outputs!;
    expect(gate['passed']).toBe(false);
    expect(gate['champion']).toBe('iris:2');
    const s = await openStores(store);
    try {
      // Same holdout: the champion scored on the candidate's test split matches its own recorded test
      // score (both runs split Iris with the same seed), and the champion did not move.
      const champion = await s.registry.resolve('iris@champion');
      expect(champion.version).toBe(2);
      expect((gate['champion_values'] as Record<string, number>)['test_accuracy']).toBeCloseTo(
        champion.metrics['test_accuracy']!,
        10,
      );
    } finally {
      await s.close();
    }
  });

  it("checks a step's inputs again once the referenced outputs are known", async () => {
    const file = pipelineFile(
      'wrong-type',
      `name: wrong-type
steps:
  data:
    uses: data
    with: { experiment: ${IRIS} }
  score:
    uses: evaluate
    with: { run: "\${{ steps.data.outputs.samples }}" }
`,
    );
    const { run } = await runPipeline(file, { store, executor });
    expect(run.status).toBe('failed');
    expect(run.steps[1]).toMatchObject({
      stepId: 'score',
      status: 'failed',
      error: expect.stringMatching(
        /^INVALID_SPEC: steps\.score\.with\.run: expected string, received object/,
      ),
    });
  });

  it('records a failing step, skips what needs it, finishes the rest, and resumes once fixed', async () => {
    const file = pipelineFile(
      'failing',
      `name: churn-flow
steps:
  iris:
    uses: data
    with: { experiment: ${IRIS} }
  churn:
    uses: train
    with:
      experiment:
        name: churn-mini
        data: { csv: churn-copy.csv, label: churned, ignore: [customer_id], missing: { policy: impute } }
        model: { layers: [{ type: dense, units: 8, activation: relu }, { type: dense, units: 2, activation: softmax }] }
        train: { epochs: 2 }
  check:
    uses: evaluate
    with: { run: "\${{ steps.churn.outputs.run_id }}" }
`,
    );
    const failed = await runPipeline(file, { store, executor });
    expect(failed.run.status).toBe('failed');
    expect(failed.run.error).toMatch(/^step "churn" failed: NOT_FOUND: .*churn-copy\.csv/);
    const byId = Object.fromEntries(failed.run.steps.map((s) => [s.stepId, s]));
    // Same data step as the Iris pipeline's: its outputs come from the store's shared cache.
    expect(byId['iris']!.status).toBe('cached');
    expect(byId['check']).toMatchObject({
      status: 'skipped',
      error: 'not run: it needs "churn", which failed',
    });

    copyFileSync(resolve('examples/data/churn.csv'), join(dir, 'churn-copy.csv'));
    const resumed = await resumePipeline(failed.run.id, { store, executor });
    expect(resumed.run.id).toBe(failed.run.id);
    expect(resumed.run.status, resumed.run.error ?? '').toBe('finished');
    expect(resumed.run.attempts).toBe(2);
    const after = Object.fromEntries(resumed.run.steps.map((s) => [s.stepId, s]));
    // The finished step was kept, not run again.
    expect(after['iris']).toMatchObject({ status: 'cached', attempt: 1 });
    expect(after['churn']).toMatchObject({ status: 'finished', attempt: 2 });
    expect(after['check']!.status).toBe('finished');
    await expect(resumePipeline(failed.run.id, { store, executor })).rejects.toThrow(
      /is finished: there is nothing to resume/,
    );
  });
});
