/**
 * PostgreSQL backend of the tracking store: the records in a PostgreSQL database (one schema,
 * versioned migrations), the content-addressed blobs in a folder every process using the store
 * can reach (`?artifacts=/shared/folder`), the runs' working folders next to them (`?runs=`).
 *
 * Transactions run at READ COMMITTED; where a check and a write must not interleave with another
 * writer (finishing a run), the run's row is locked first. Immutable params are written with an
 * upsert that returns the stored value, so two writers of one key never both succeed with different
 * values. Reads run in one REPEATABLE READ snapshot. The scripts are SqlTrackingStore's; this file
 * holds what is PostgreSQL's own.
 */
import { mkdir } from 'node:fs/promises';
import { ArtifactBlobs } from './artifact-blobs.js';
import { PostgresDriver } from './postgres-driver.js';
import { migratePostgres } from './postgres-schema.js';
import { parsePostgresUri, type PostgresStoreConfig } from './postgres-uri.js';
import { SqlTrackingStore, type TrackingDialect } from './sql-tracking-store.js';

/**
 * Over a network a query per run and table, or per metric point, would dominate, so runs are read
 * in batches (IN lists well under PostgreSQL's limit on bind parameters) and points inserted many
 * rows per INSERT.
 */
const POSTGRES_TRACKING: TrackingDialect = {
  // LIMIT NULL is PostgreSQL's "no limit".
  noLimit: null,
  metricRowsPerInsert: 1000,
  runsPerQuery: 500,
  latestMetricsSql: (inList) =>
    `SELECT DISTINCT ON (run_id, key) run_id, key, value, step, timestamp FROM metrics
     WHERE run_id IN ${inList} ORDER BY run_id, key, step DESC, timestamp DESC, seq DESC`,
};

export class PostgresTrackingStore extends SqlTrackingStore {
  private constructor(driver: PostgresDriver) {
    const { artifactsDir, runsDir } = driver.config;
    super(
      driver,
      new ArtifactBlobs(artifactsDir),
      { artifactsDir, runsDir, blobsWhere: artifactsDir },
      POSTGRES_TRACKING,
    );
  }

  /** Opens the store at a `postgres://` URI (see postgres-uri.ts) and applies pending schema migrations. */
  static async open(uriOrConfig: string | PostgresStoreConfig): Promise<PostgresTrackingStore> {
    const config = typeof uriOrConfig === 'string' ? parsePostgresUri(uriOrConfig) : uriOrConfig;
    return new PostgresTrackingStore(await openPostgresDriver(config));
  }
}

/** Creates the driver and brings the schema up to date; closes the pool again when that fails. */
export async function openPostgresDriver(config: PostgresStoreConfig): Promise<PostgresDriver> {
  const db = PostgresDriver.create(config);
  try {
    await mkdir(config.artifactsDir, { recursive: true });
    await migratePostgres(db);
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}
