/**
 * Search steps on Iris: grid, random and successive halving in one pipeline, trials as `search.trial`
 * tasks in the local executor's children, every trial a tracked run under its search run, recorded
 * once per trial id (a second run of the step trains nothing again).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../../src/pipeline/flow/api.js';
import { randomConfigurations, SpaceSchema } from '../../../src/pipeline/flow/search/space.js';
import { LocalExecutor } from '../../../src/pipeline/executor/local.js';
import { openPipelineStore } from '../../../src/store/pipeline-open.js';
import { openStores } from '../../../src/store/open.js';
import type { RunRecord } from '../../../src/store/types.js';
import type { JsonValue } from '../../../src/store/types.js';

const dir = mkdtempSync(join(tmpdir(), 'modelauto-search-'));
const store = join(dir, 'store');
const executor = new LocalExecutor({ concurrency: 2 });
afterAll(async () => {
  await executor.close();
  rmSync(dir, { recursive: true, force: true });
});

const file = join(dir, 'search.yaml');
writeFileSync(
  file,
  `name: iris-search
steps:
  grid:
    uses: search
    with:
      experiment: ${resolve('examples/iris.yaml')}
      set: { train.epochs: 3, train.earlyStopping: null }
      strategy: grid
      metric: val_accuracy
      mode: max
      space:
        train.optimizer.learningRate: [0.05, 0.001]
        model.layers[0].units: [4, 16]
  random:
    uses: search
    with:
      experiment: ${resolve('examples/iris.yaml')}
      set: { train.epochs: 2, train.earlyStopping: null }
      strategy: random
      trials: 3
      seed: 5
      space:
        train.optimizer.learningRate: { min: 0.001, max: 0.1, scale: log }
        model.layers[0].units: { min: 4, max: 12, int: true }
  halving:
    uses: search
    with:
      experiment: ${resolve('examples/iris.yaml')}
      set: { train.earlyStopping: null }
      strategy: halving
      trials: 4
      seed: 1
      halving: { minEpochs: 1, maxEpochs: 4, eta: 2 }
      space:
        train.optimizer.learningRate: [0.1, 0.03, 0.01, 0.0003]
`,
);

interface Row {
  trial_id: string;
  params: Record<string, JsonValue>;
  rung: number;
  epochs: number;
  status: string;
  run_id: string;
  metric: number;
}

async function trainRuns(): Promise<RunRecord[]> {
  const s = await openStores(store);
  try {
    return await s.tracking.listRuns({ kind: 'train' });
  } finally {
    await s.close();
  }
}

describe('search steps', () => {
  it('runs grid, random and halving searches, every trial a tracked child run, recorded once', async () => {
    const { run } = await runPipeline(file, { store, executor });
    expect(run.status, run.error ?? '').toBe('finished');
    const out = Object.fromEntries(run.steps.map((s) => [s.stepId, s.outputs!]));
    const runs = await trainRuns();
    const byId = new Map(runs.map((r) => [r.id, r]));

    // Grid: all four combinations, each trained with its own values, children of the search run.
    const grid = out['grid']!['results'] as unknown as Row[];
    expect(grid.map((r) => r.params)).toEqual(
      [
        { 'train.optimizer.learningRate': 0.05, 'model.layers[0].units': 4 },
        { 'train.optimizer.learningRate': 0.05, 'model.layers[0].units': 16 },
        { 'train.optimizer.learningRate': 0.001, 'model.layers[0].units': 4 },
        { 'train.optimizer.learningRate': 0.001, 'model.layers[0].units': 16 },
      ].map((p) => expect.objectContaining(p)),
    );
    for (const r of grid) {
      const trained = byId.get(r.run_id)!;
      expect(trained.parentRunId).toBe(out['grid']!['run_id']);
      expect(trained.tags['trial_id']).toBe(r.trial_id);
      expect(trained.params['train']).toMatchObject({
        epochs: 3,
        optimizer: { learningRate: r.params['train.optimizer.learningRate'] },
      });
      expect((trained.params['model'] as { layers: { units: number }[] }).layers[0]!.units).toBe(
        r.params['model.layers[0].units'],
      );
      expect(r.metric).toBe(trained.metrics['val_accuracy']!.value);
    }
    const best = Math.max(...grid.map((r) => r.metric));
    expect(out['grid']!['best_metric']).toBe(best);
    expect(grid.find((r) => r.run_id === out['grid']!['best_run_id'])!.metric).toBe(best);

    // Random: the configurations the seed draws, within their ranges.
    const random = out['random']!['results'] as unknown as Row[];
    const space = SpaceSchema.parse({
      'train.optimizer.learningRate': { min: 0.001, max: 0.1, scale: 'log' },
      'model.layers[0].units': { min: 4, max: 12, int: true },
    });
    expect(random.map((r) => r.params)).toEqual(randomConfigurations(space, 3, 5));

    // Halving: rungs of 1, 2 and 4 epochs; only trials promoted from a rung run on the next one.
    const halving = out['halving']!['results'] as unknown as Row[];
    const atRung = (k: number) => halving.filter((r) => r.rung === k);
    expect(atRung(0)).toHaveLength(4);
    expect(atRung(1).length).toBeGreaterThanOrEqual(2);
    expect(atRung(1).length).toBeLessThanOrEqual(3);
    expect(atRung(2).length).toBeGreaterThanOrEqual(1);
    for (const r of halving) {
      expect(r.epochs).toBe([1, 2, 4][r.rung]);
      expect((byId.get(r.run_id)!.params['train'] as { epochs: number }).epochs).toBe(r.epochs);
      if (r.rung > 0) {
        const config = r.trial_id.match(/-c(\d+)-r\d+$/)![1];
        expect(halving.some((p) => p.rung === r.rung - 1 && p.trial_id.includes(`-c${config}-r`))).toBe(true);
      }
    }
    expect(out['halving']!['best_run_id']).toBe(atRung(2).sort((a, b) => a.metric - b.metric)[0]!.run_id);

    // Every trial id recorded exactly once in the store.
    const pipelines = await openPipelineStore(store);
    try {
      for (const step of ['grid', 'random', 'halving']) {
        const results = out[step]!['results'] as unknown as Row[];
        for (const r of results) expect((await pipelines.getTrial(r.trial_id))?.runId).toBe(r.run_id);
        expect(new Set(results.map((r) => r.trial_id)).size).toBe(results.length);
      }
    } finally {
      await pipelines.close();
    }
    expect(runs).toHaveLength(grid.length + random.length + halving.length);

    // Run again without the cache: the searches run, but find every trial recorded and train nothing.
    const again = await runPipeline(file, { store, executor, noCache: true });
    expect(again.run.status, again.run.error ?? '').toBe('finished');
    expect(await trainRuns()).toHaveLength(runs.length);
    const gridAgain = again.run.steps.find((s) => s.stepId === 'grid')!.outputs!;
    expect(gridAgain['best_run_id']).toBe(out['grid']!['best_run_id']);
    expect(gridAgain['run_id']).not.toBe(out['grid']!['run_id']);
  });
});
