/**
 * Opening the alert event log of a store: the same database as its runs and registry, with the
 * alert tables migrated on open. What a URI means is decided by open.ts alone: the tracking store
 * is opened to learn the backend and where it is, then closed, and the log opens its own connection.
 */
import { ModelautoError } from '../core/errors.js';
import { migrateAlertsPostgres, migrateAlertsSqlite } from './alert-events-schema.js';
import { SqlAlertEventStore } from './alert-events-sql.js';
import type { AlertEventStore } from './alert-events.js';
import { defaultStoreLocation, openTrackingStore } from './open.js';
import { openPostgresDriver, PostgresTrackingStore } from './postgres-store.js';
import { parsePostgresUri, type PostgresStoreConfig } from './postgres-uri.js';
import { openSqliteStoreFolder, sqliteError } from './sqlite-connection.js';
import { SqliteDriver } from './sqlite-driver.js';
import { SqliteTrackingStore } from './sqlite-store.js';

export class SqliteAlertEventStore extends SqlAlertEventStore {
  /** Opens (creating if needed) the alert event log of the SQLite store in folder `root`. */
  static async open(root: string): Promise<SqliteAlertEventStore> {
    const folder = openSqliteStoreFolder(root);
    try {
      migrateAlertsSqlite(folder.db, folder.dbPath);
    } catch (e) {
      folder.db.close();
      throw sqliteError(e, 'cannot migrate the alert tables', folder.dbPath);
    }
    return new SqliteAlertEventStore(new SqliteDriver(`sqlite:${folder.root}`, folder.dbPath, folder.db));
  }
}

export class PostgresAlertEventStore extends SqlAlertEventStore {
  /** Opens the alert event log of the store at a `postgres://` URI, applying pending migrations. */
  static async open(uriOrConfig: string | PostgresStoreConfig): Promise<PostgresAlertEventStore> {
    const config = typeof uriOrConfig === 'string' ? parsePostgresUri(uriOrConfig) : uriOrConfig;
    const driver = await openPostgresDriver(config);
    try {
      await migrateAlertsPostgres(driver);
    } catch (e) {
      await driver.close();
      throw e;
    }
    return new PostgresAlertEventStore(driver);
  }
}

/** Opens the alert event log of the store at `uri` (default: defaultStoreLocation()). */
export async function openAlertEventStore(uri: string = defaultStoreLocation()): Promise<AlertEventStore> {
  const tracking = await openTrackingStore(uri);
  try {
    if (tracking instanceof SqliteTrackingStore) return await SqliteAlertEventStore.open(tracking.root);
    if (tracking instanceof PostgresTrackingStore) return await PostgresAlertEventStore.open(uri.trim());
    throw new ModelautoError('USAGE', `the store at ${tracking.location} has no alert event backend`);
  } finally {
    await tracking.close();
  }
}
