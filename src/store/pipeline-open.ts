/**
 * Opens the pipeline store of a store URI: the same database as its runs and registry, with the
 * pipeline tables migrated on open. The URI is read by openTrackingStore (one place decides what a
 * URI means); the pipeline store then opens its own connection to the backend it names.
 */
import { ModelautoError } from '../core/errors.js';
import { openTrackingStore, defaultStoreLocation } from './open.js';
import { migratePipelinePostgres, migratePipelineSqlite } from './pipeline-schema.js';
import { SqlPipelineStore } from './pipeline-sql.js';
import type { PipelineStore } from './pipeline-types.js';
import { openPostgresDriver, PostgresTrackingStore } from './postgres-store.js';
import { parsePostgresUri } from './postgres-uri.js';
import { openSqliteStoreFolder, sqliteError } from './sqlite-connection.js';
import { SqliteDriver } from './sqlite-driver.js';
import { SqliteTrackingStore } from './sqlite-store.js';

export async function openPipelineStore(uri: string = defaultStoreLocation()): Promise<PipelineStore> {
  const tracking = await openTrackingStore(uri);
  try {
    if (tracking instanceof SqliteTrackingStore) {
      const folder = openSqliteStoreFolder(tracking.root);
      try {
        migratePipelineSqlite(folder.db, folder.dbPath);
      } catch (e) {
        folder.db.close();
        throw sqliteError(e, 'cannot migrate the pipeline tables', folder.dbPath);
      }
      return new SqlPipelineStore(new SqliteDriver(`sqlite:${folder.root}`, folder.dbPath, folder.db));
    }
    if (tracking instanceof PostgresTrackingStore) {
      const driver = await openPostgresDriver(parsePostgresUri(uri));
      try {
        await migratePipelinePostgres(driver);
      } catch (e) {
        await driver.close();
        throw e;
      }
      return new SqlPipelineStore(driver);
    }
    throw new ModelautoError('USAGE', `the store at ${tracking.location} has no pipeline tables backend`);
  } finally {
    await tracking.close();
  }
}
