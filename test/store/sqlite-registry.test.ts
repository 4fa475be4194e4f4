import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openRegistry } from '../../src/store/open.js';
import { SqliteModelRegistry } from '../../src/store/sqlite-registry.js';
import { SqliteTrackingStore } from '../../src/store/sqlite-store.js';
import { describeRegistryContract } from './registry-contract.js';

function rawQuery(root: string) {
  return async (sql: string): Promise<Record<string, unknown>[]> => {
    const db = new Database(join(root, 'modelauto.db'), { readonly: true });
    try {
      return db.prepare(sql).all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  };
}

describeRegistryContract('sqlite', async () => {
  const root = await mkdtemp(join(tmpdir(), 'modelauto-registry-'));
  return {
    uri: `sqlite:${root}`,
    rawQuery: rawQuery(root),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('SqliteModelRegistry', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'modelauto-registry-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('shares modelauto.db and the blob folder with the tracking store of the same folder', async () => {
    const tracking = await SqliteTrackingStore.open(root);
    const registry = await openRegistry(root);
    try {
      expect(registry).toBeInstanceOf(SqliteModelRegistry);
      expect(registry.location).toBe(tracking.location);
      const run = await tracking.createRun({ kind: 'train' });
      const a = await tracking.logArtifact(run.id, { name: 'w.bin', data: 'weights' });
      const v = await registry.registerVersion('m', {
        artifacts: [{ name: a.name, sha256: a.sha256, size: a.size }],
        sourceRunId: run.id,
        createModel: true,
      });
      expect(v.sourceRunId).toBe(run.id);
      const rows = await rawQuery(root)('SELECT model, version, source_run_id FROM model_versions');
      expect(rows).toEqual([{ model: 'm', version: 1, source_run_id: run.id }]);
    } finally {
      await registry.close();
      await tracking.close();
    }
  });

  it('enforces immutability in the database itself', async () => {
    const tracking = await SqliteTrackingStore.open(root);
    const registry = await SqliteModelRegistry.open(root);
    const run = await tracking.createRun({ kind: 'train' });
    const a = await tracking.logArtifact(run.id, { name: 'w.bin', data: 'weights' });
    await registry.registerVersion('m', {
      artifacts: [{ name: a.name, sha256: a.sha256, size: a.size }],
      metrics: { acc: 1 },
      createModel: true,
      aliases: ['prod'],
    });
    await registry.close();
    await tracking.close();
    const db = new Database(join(root, 'modelauto.db'));
    try {
      expect(() => db.prepare(`UPDATE model_versions SET description = 'x'`).run()).toThrow(/immutable/);
      expect(() => db.prepare('DELETE FROM model_versions').run()).toThrow(/immutable/);
      expect(() => db.prepare(`UPDATE model_version_artifacts SET size = 1`).run()).toThrow(/immutable/);
      expect(() => db.prepare('DELETE FROM model_version_metrics').run()).toThrow(/immutable/);
      expect(() => db.prepare('DELETE FROM model_alias_history').run()).toThrow(/append-only/);
      expect(db.prepare(`UPDATE model_versions SET status = 'deprecated'`).run().changes).toBe(1);
    } finally {
      db.close();
    }
  });
});
