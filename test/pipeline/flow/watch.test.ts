import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../../src/pipeline/executor/local.js';
import { loadPipeline } from '../../../src/pipeline/flow/load.js';
import { fileChangeTrigger, watchedFiles, watchPipeline } from '../../../src/pipeline/flow/watch.js';

const dir = mkdtempSync(join(tmpdir(), 'modelauto-watch-'));
const executor = new LocalExecutor({ concurrency: 1 });
afterAll(async () => {
  await executor.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('watching a pipeline', () => {
  it('watches the pipeline file, the experiment files it names and their data files', () => {
    const file = join(dir, 'w.yaml');
    writeFileSync(join(dir, 'data.csv'), 'a,b\n1,x\n');
    writeFileSync(
      file,
      `name: w\nsteps:\n  a:\n    uses: data\n    with: { experiment: ${resolve('examples/churn.yaml')} }\n` +
        `  b:\n    uses: data\n    with: { data: { csv: data.csv, label: b } }\n`,
    );
    expect(watchedFiles(loadPipeline(file))).toEqual(
      [
        file,
        join(dir, 'data.csv'),
        resolve('examples/churn.yaml'),
        resolve('examples/data/churn.csv'),
      ].sort(),
    );
  });

  it('fires when a watched file changes, and ends quietly when aborted', async () => {
    const f = join(dir, 'watched.txt');
    writeFileSync(f, 'one');
    const controller = new AbortController();
    const fired = fileChangeTrigger([f], 20)(controller.signal);
    setTimeout(() => writeFileSync(f, 'two, longer'), 100);
    expect(await fired).toBe(`changed: ${f}`);
    const quiet = fileChangeTrigger([f], 20)(controller.signal);
    controller.abort();
    expect(await quiet).toBeUndefined();
  });

  it('runs again on every trigger, reusing unchanged steps', async () => {
    const file = join(dir, 'tiny.yaml');
    writeFileSync(
      file,
      `name: tiny\nsteps:\n  d:\n    uses: data\n    with: { experiment: ${resolve('examples/iris.yaml')} }\n`,
    );
    const reasons: string[] = [];
    const results = await watchPipeline(file, {
      store: join(dir, 'store'),
      executor,
      maxRuns: 2,
      triggers: [async () => 'alert: drift on petal_length'],
      onRun: (_r, reason) => reasons.push(reason),
    });
    expect(reasons).toEqual(['started', 'alert: drift on petal_length']);
    expect(results.map((r) => r.run.steps[0]!.status)).toEqual(['finished', 'cached']);
  });
});
