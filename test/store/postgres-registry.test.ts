import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openRegistry, openStores } from '../../src/store/open.js';
import { PostgresModelRegistry } from '../../src/store/postgres-registry.js';
import { describeRegistryContract } from './registry-contract.js';
import {
  adminQuery,
  describePostgres,
  dropSchema,
  freshSchemaName,
  PG_TEST_URL,
  pgStoreUri,
} from './pg-env.js';

function rawQuery(schema: string) {
  return async (sql: string): Promise<Record<string, unknown>[]> => {
    const client = new pg.Client({ connectionString: PG_TEST_URL, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      return (await client.query(sql)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
}

describePostgres('PostgreSQL model registry', () => {
  describeRegistryContract('postgres', async () => {
    const schema = freshSchemaName();
    const artifacts = await mkdtemp(join(tmpdir(), 'modelauto-pg-registry-'));
    return {
      uri: pgStoreUri(schema, artifacts),
      rawQuery: rawQuery(schema),
      cleanup: async () => {
        await dropSchema(schema);
        await rm(artifacts, { recursive: true, force: true });
      },
    };
  });

  describe('PostgresModelRegistry', () => {
    let schema: string;
    let artifacts: string;
    beforeEach(async () => {
      schema = freshSchemaName();
      artifacts = await mkdtemp(join(tmpdir(), 'modelauto-pg-registry-'));
    });
    afterEach(async () => {
      await dropSchema(schema);
      await rm(artifacts, { recursive: true, force: true });
    });

    it('lives in the tracking schema and enforces immutability in the database itself', async () => {
      const uri = pgStoreUri(schema, artifacts);
      const stores = await openStores(uri);
      try {
        expect(stores.registry).toBeInstanceOf(PostgresModelRegistry);
        const run = await stores.tracking.createRun({ kind: 'train' });
        const a = await stores.tracking.logArtifact(run.id, { name: 'w.bin', data: 'weights' });
        await stores.registry.registerVersion('m', {
          artifacts: [{ name: a.name, sha256: a.sha256, size: a.size }],
          sourceRunId: run.id,
          metrics: { acc: Number.NaN },
          createModel: true,
          aliases: ['prod'],
        });
      } finally {
        await stores.close();
      }
      const q = (sql: string) => adminQuery(sql.replaceAll('$s', `"${schema}"`));
      expect(await q('SELECT value::text AS v FROM $s.model_version_metrics')).toEqual([{ v: 'NaN' }]);
      await expect(q(`UPDATE $s.model_versions SET description = 'x'`)).rejects.toThrow(/immutable/);
      await expect(q('DELETE FROM $s.model_versions')).rejects.toThrow(/immutable/);
      await expect(q('UPDATE $s.model_version_artifacts SET size = 1')).rejects.toThrow(/immutable/);
      await expect(q('DELETE FROM $s.model_alias_history')).rejects.toThrow(/append-only/);
      await q(`UPDATE $s.model_versions SET status = 'deprecated'`);
      const registry = await openRegistry(uri);
      try {
        expect((await registry.getVersion('m', 1)).status).toBe('deprecated');
      } finally {
        await registry.close();
      }
    });
  });
});
