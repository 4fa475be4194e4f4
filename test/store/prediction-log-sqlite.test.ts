import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openPredictionLog } from '../../src/store/prediction-log-open.js';
import { SqlitePredictionLog } from '../../src/store/prediction-log-sqlite.js';
import { openStores } from '../../src/store/open.js';
import { describePredictionLogContract } from './prediction-log-contract.js';

describePredictionLogContract('sqlite', async () => {
  const root = await mkdtemp(join(tmpdir(), 'modelauto-predlog-'));
  return { uri: `sqlite:${root}`, cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe('SqlitePredictionLog', () => {
  it('lives in the store folder’s modelauto.db next to the registry, on its own migration track', async () => {
    const root = await mkdtemp(join(tmpdir(), 'modelauto-predlog-'));
    try {
      const stores = await openStores(root);
      const log = await openPredictionLog(root);
      expect(log).toBeInstanceOf(SqlitePredictionLog);
      expect(log.location).toBe(stores.registry.location);
      await log.close();
      await stores.close();
      // Opening again applies nothing twice.
      await (await openPredictionLog(`sqlite:${root}`)).close();
      const db = new Database(join(root, 'modelauto.db'), { readonly: true });
      try {
        const tables = db
          .prepare(
            `SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'prediction%' ORDER BY name`,
          )
          .all();
        expect(tables).toEqual([
          { name: 'prediction_feedback' },
          { name: 'prediction_log' },
          { name: 'prediction_log_schema_migrations' },
        ]);
        expect(db.prepare('SELECT version FROM prediction_log_schema_migrations').all()).toEqual([
          { version: 1 },
        ]);
      } finally {
        db.close();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
