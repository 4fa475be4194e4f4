/**
 * SQLite backend of the tracking store: `<root>/modelauto.db` (WAL, so a server can read while a
 * training process writes) plus the content-addressed blobs in `<root>/artifacts`. Every write that
 * touches more than one row runs in an IMMEDIATE transaction: taking the write lock up front means a
 * concurrent writer waits on busy_timeout instead of failing on a lock upgrade. The scripts are
 * SqlTrackingStore's; this file holds what is SQLite's own.
 */
import { join } from 'node:path';
import { ArtifactBlobs } from './artifact-blobs.js';
import { openSqliteStoreFolder, type SqliteStoreFolder } from './sqlite-connection.js';
import { SqliteDriver } from './sqlite-driver.js';
import { SqlTrackingStore, type TrackingDialect } from './sql-tracking-store.js';

export { ARTIFACTS_DIR, SQLITE_DB_FILE } from './sqlite-connection.js';

/**
 * One run and one metric point per statement: in-process queries cost no round trip, and a fixed
 * statement text stays one prepared statement in the driver's cache.
 */
const SQLITE_TRACKING: TrackingDialect = {
  // LIMIT -1 is SQLite's "no limit"; OFFSET needs a LIMIT clause.
  noLimit: -1,
  metricRowsPerInsert: 1,
  runsPerQuery: 1,
  latestMetricsSql: (inList) =>
    `SELECT run_id, key, value, step, timestamp FROM (
       SELECT run_id, key, value, step, timestamp,
              ROW_NUMBER() OVER (PARTITION BY run_id, key ORDER BY step DESC, timestamp DESC, seq DESC) AS rank
       FROM metrics WHERE run_id IN ${inList}
     ) WHERE rank = 1 ORDER BY run_id, key`,
};

export class SqliteTrackingStore extends SqlTrackingStore {
  /** Absolute folder of the store. */
  readonly root: string;
  readonly dbPath: string;

  private constructor(folder: SqliteStoreFolder) {
    const driver = new SqliteDriver(`sqlite:${folder.root}`, folder.dbPath, folder.db);
    super(
      driver,
      new ArtifactBlobs(folder.artifactsDir),
      { artifactsDir: folder.artifactsDir, runsDir: join(folder.root, 'runs'), blobsWhere: driver.location },
      SQLITE_TRACKING,
    );
    this.root = folder.root;
    this.dbPath = folder.dbPath;
  }

  /** Opens (creating if needed) the store in folder `root` and applies pending schema migrations. */
  static async open(root: string): Promise<SqliteTrackingStore> {
    return new SqliteTrackingStore(openSqliteStoreFolder(root));
  }
}
