import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTrackingStore } from '../../src/store/open.js';
import { openTaskResultStore } from '../../src/store/task-results-open.js';
import { PostgresTaskResultStore } from '../../src/store/task-results-postgres.js';
import { SqliteTaskResultStore } from '../../src/store/task-results-sqlite.js';
import { describeTaskResultStoreContract } from './task-results-contract.js';
import { adminQuery, describePostgres, dropSchema, freshSchemaName, pgStoreUri } from './pg-env.js';

describeTaskResultStoreContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'modelauto-task-results-'));
  return {
    store: await SqliteTaskResultStore.open(dir),
    reopen: () => SqliteTaskResultStore.open(dir),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('openTaskResultStore (SQLite)', () => {
  it('opens the task results in the same database as the runs of a store folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'modelauto-task-results-'));
    try {
      const tracking = await openTrackingStore(`sqlite:${dir}`);
      const results = await openTaskResultStore(dir);
      try {
        expect(results).toBeInstanceOf(SqliteTaskResultStore);
        expect(results.location).toBe(tracking.location);
        const run = await tracking.createRun({ kind: 'train' });
        await results.recordTaskResult({
          taskId: 'trial-1',
          kind: 'search.trial',
          output: { runId: run.id },
          worker: 'w',
          attempt: 1,
          startedAt: 1,
          finishedAt: 2,
        });
        expect((await results.getTaskResult('trial-1'))?.output).toEqual({ runId: run.id });
      } finally {
        await results.close();
        await tracking.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describePostgres('PostgreSQL task results', () => {
  describeTaskResultStoreContract('postgres', async () => {
    const schema = freshSchemaName();
    const artifacts = await mkdtemp(join(tmpdir(), 'modelauto-pg-'));
    const uri = pgStoreUri(schema, artifacts);
    return {
      store: await PostgresTaskResultStore.open(uri),
      reopen: () => PostgresTaskResultStore.open(uri),
      cleanup: async () => {
        await dropSchema(schema);
        await rm(artifacts, { recursive: true, force: true });
      },
    };
  });

  it('creates the table once when several openers race on a fresh schema', async () => {
    const schema = freshSchemaName();
    const artifacts = await mkdtemp(join(tmpdir(), 'modelauto-pg-'));
    const uri = pgStoreUri(schema, artifacts);
    try {
      const stores = await Promise.all(Array.from({ length: 4 }, () => openTaskResultStore(uri)));
      try {
        expect(stores[0]).toBeInstanceOf(PostgresTaskResultStore);
        const tables = await adminQuery<{ n: string }>(
          `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'task_results'`,
          [schema],
        );
        expect(Number(tables[0]?.n)).toBe(1);
      } finally {
        for (const s of stores) await s.close();
      }
    } finally {
      await dropSchema(schema);
      await rm(artifacts, { recursive: true, force: true });
    }
  });
});
