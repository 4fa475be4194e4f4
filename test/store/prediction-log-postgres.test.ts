import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPredictionLog } from '../../src/store/prediction-log-open.js';
import { PostgresPredictionLog } from '../../src/store/prediction-log-postgres.js';
import { describePredictionLogContract } from './prediction-log-contract.js';
import { adminQuery, describePostgres, dropSchema, freshSchemaName, pgStoreUri } from './pg-env.js';

describePostgres('PostgreSQL prediction log', () => {
  describePredictionLogContract('postgres', async () => {
    const schema = freshSchemaName();
    const artifacts = await mkdtemp(join(tmpdir(), 'modelauto-pg-predlog-'));
    return {
      uri: pgStoreUri(schema, artifacts),
      cleanup: async () => {
        await dropSchema(schema);
        await rm(artifacts, { recursive: true, force: true });
      },
    };
  });

  describe('PostgresPredictionLog', () => {
    it('creates its tables once when several processes open a fresh store together', async () => {
      const schema = freshSchemaName();
      const artifacts = await mkdtemp(join(tmpdir(), 'modelauto-pg-predlog-'));
      try {
        const uri = pgStoreUri(schema, artifacts);
        const logs = await Promise.all([
          openPredictionLog(uri),
          openPredictionLog(uri),
          openPredictionLog(uri),
        ]);
        expect(logs[0]).toBeInstanceOf(PostgresPredictionLog);
        await Promise.all(logs.map((l) => l.close()));
        const rows = await adminQuery<{ version: number }>(
          `SELECT version FROM "${schema}".prediction_log_schema_migrations`,
        );
        expect(rows).toEqual([{ version: 1 }]);
      } finally {
        await dropSchema(schema);
        await rm(artifacts, { recursive: true, force: true });
      }
    });
  });
});
