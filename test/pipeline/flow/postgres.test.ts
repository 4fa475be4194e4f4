/**
 * A pipeline on the PostgreSQL store: the coordinator and the step processes all open it by URI
 * (metadata in PostgreSQL, artifacts in the shared folder), and a second run is served from its cache.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runPipeline } from '../../../src/pipeline/flow/api.js';
import { LocalExecutor } from '../../../src/pipeline/executor/local.js';
import { openStores } from '../../../src/store/open.js';
import { describePostgres, dropSchema, freshSchemaName, pgStoreUri } from '../../store/pg-env.js';

describePostgres('pipelines on PostgreSQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelauto-pg-pipeline-'));
  const schema = freshSchemaName();
  const store = pgStoreUri(schema, join(dir, 'artifacts'));
  const executor = new LocalExecutor({ concurrency: 2 });
  afterAll(async () => {
    await executor.close();
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs, registers and caches with metadata in PostgreSQL', async () => {
    const file = join(dir, 'pg.yaml');
    writeFileSync(
      file,
      `name: pg
steps:
  train:
    uses: train
    with: { experiment: ${resolve('examples/iris.yaml')}, set: { train.epochs: 2, train.earlyStopping: null } }
  register:
    uses: register
    with: { run: "\${{ steps.train.outputs.run_id }}", model: iris-pg, aliases: [champion] }
`,
    );
    const first = await runPipeline(file, { store, executor });
    expect(first.run.status, first.run.error ?? '').toBe('finished');
    expect(first.store).toMatch(/^postgres/);
    const second = await runPipeline(file, { store, executor });
    expect(second.run.steps.map((s) => s.status)).toEqual(['cached', 'cached']);
    const s = await openStores(store);
    try {
      const champion = await s.registry.resolve('iris-pg@champion');
      expect(champion.sourceRunId).toBe(first.run.steps[0]!.outputs?.['run_id']);
      expect((await s.tracking.getRun(champion.sourceRunId!)).tags['pipeline_run']).toBe(first.run.id);
    } finally {
      await s.close();
    }
  });
});
