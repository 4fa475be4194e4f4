/**
 * Tables of the alert event log, in the store's database but versioned on their own ledger
 * (`alert_schema_migrations`), so that they migrate independently of the tracking and registry
 * tables (sqlite-schema.ts, postgres-schema.ts). Append-only like those: never edit a released
 * migration, add the next version. Concurrent openers apply each migration exactly once: SQLite
 * under an IMMEDIATE transaction, PostgreSQL under an advisory lock keyed by the schema.
 */
import type Database from 'better-sqlite3';
import { ModelautoError } from '../core/errors.js';
import type { PostgresDriver } from './postgres-driver.js';
import { all, get, run, type SqlScript } from './sql-script.js';
import type { Migration } from './sqlite-schema.js';

export const ALERT_MIGRATIONS_TABLE = 'alert_schema_migrations';

export const ALERT_SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'alert events and webhook deliveries',
    sql: `
      CREATE TABLE alert_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        rule TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('firing', 'resolved')),
        model TEXT,
        -- model, or '' for none: the series key, comparable with = (NULL never equals NULL).
        model_key TEXT NOT NULL,
        metric TEXT NOT NULL,
        feature TEXT,
        op TEXT NOT NULL,
        value REAL NOT NULL,
        threshold REAL NOT NULL,
        severity TEXT NOT NULL,
        labels_json TEXT NOT NULL,
        message TEXT NOT NULL,
        at INTEGER NOT NULL,
        starts_at INTEGER NOT NULL
      );
      CREATE INDEX alert_events_by_time ON alert_events(at, seq);
      CREATE INDEX alert_events_by_series ON alert_events(rule, model_key, seq);

      CREATE TABLE alert_deliveries (
        event_id TEXT NOT NULL REFERENCES alert_events(id) ON DELETE CASCADE,
        webhook INTEGER NOT NULL CHECK (webhook >= 0),
        url TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'abandoned')),
        attempts INTEGER NOT NULL CHECK (attempts >= 0),
        http_status INTEGER,
        error TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (event_id, webhook)
      ) WITHOUT ROWID;

      CREATE TRIGGER alert_events_append_only BEFORE UPDATE ON alert_events
        BEGIN SELECT RAISE(ABORT, 'alert events are append-only'); END;
    `,
  },
];

export const ALERT_POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'alert events and webhook deliveries',
    sql: `
      CREATE TABLE alert_events (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id TEXT COLLATE "C" NOT NULL UNIQUE,
        rule TEXT COLLATE "C" NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('firing', 'resolved')),
        model TEXT COLLATE "C",
        model_key TEXT COLLATE "C" NOT NULL,
        metric TEXT NOT NULL,
        feature TEXT,
        op TEXT NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        threshold DOUBLE PRECISION NOT NULL,
        severity TEXT NOT NULL,
        labels_json TEXT NOT NULL,
        message TEXT NOT NULL,
        at BIGINT NOT NULL,
        starts_at BIGINT NOT NULL
      );
      CREATE INDEX alert_events_by_time ON alert_events(at, seq);
      CREATE INDEX alert_events_by_series ON alert_events(rule, model_key, seq);

      CREATE TABLE alert_deliveries (
        event_id TEXT COLLATE "C" NOT NULL REFERENCES alert_events(id) ON DELETE CASCADE,
        webhook INTEGER NOT NULL CHECK (webhook >= 0),
        url TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'abandoned')),
        attempts INTEGER NOT NULL CHECK (attempts >= 0),
        http_status INTEGER,
        error TEXT,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (event_id, webhook)
      );

      CREATE FUNCTION alert_events_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'alert events are append-only' USING ERRCODE = 'restrict_violation';
      END
      $$;
      CREATE TRIGGER alert_events_append_only BEFORE UPDATE ON alert_events
        FOR EACH ROW EXECUTE FUNCTION alert_events_refuse_update();
    `,
  },
];

export const ALERT_SCHEMA_VERSION = ALERT_SQLITE_MIGRATIONS[ALERT_SQLITE_MIGRATIONS.length - 1]?.version ?? 0;

/** Brings the alert tables of a SQLite store up to ALERT_SCHEMA_VERSION; returns the versions applied. */
export function migrateAlertsSqlite(db: Database.Database, dbPath: string): number[] {
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${ALERT_MIGRATIONS_TABLE} (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )`);
  }).immediate();
  const versionOf = (): number =>
    (db.prepare(`SELECT MAX(version) AS v FROM ${ALERT_MIGRATIONS_TABLE}`).get() as { v: number | null }).v ??
    0;
  const applied: number[] = [];
  for (const migration of ALERT_SQLITE_MIGRATIONS) {
    const ran = db
      .transaction((): boolean => {
        const current = versionOf();
        if (current > ALERT_SCHEMA_VERSION) throw newerSchemaError(dbPath, current);
        if (current >= migration.version) return false;
        db.exec(migration.sql);
        db.prepare(`INSERT INTO ${ALERT_MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)`).run(
          migration.version,
          migration.name,
          Date.now(),
        );
        return true;
      })
      .immediate();
    if (ran) applied.push(migration.version);
  }
  const final = versionOf();
  if (final > ALERT_SCHEMA_VERSION) throw newerSchemaError(dbPath, final);
  return applied;
}

/** Brings the alert tables of a PostgreSQL store up to ALERT_SCHEMA_VERSION; returns the versions applied. */
export async function migrateAlertsPostgres(driver: PostgresDriver): Promise<number[]> {
  const schema = driver.config.schema;
  const applied: number[] = [];
  for (const migration of ALERT_POSTGRES_MIGRATIONS) {
    const ran = await driver.write('migrate alert events', function* (): SqlScript<boolean> {
      const current = yield* lockedVersion(schema);
      if (current > ALERT_SCHEMA_VERSION) throw newerSchemaError(driver.location, current);
      if (current >= migration.version) return false;
      yield* run(migration.sql);
      yield* run(
        `INSERT INTO ${ALERT_MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)`,
        migration.version,
        migration.name,
        Date.now(),
      );
      return true;
    });
    if (ran) applied.push(migration.version);
  }
  const final = await driver.read('migrate alert events', function* (): SqlScript<number> {
    const row = yield* get<{ v: number | null }>(`SELECT MAX(version) AS v FROM ${ALERT_MIGRATIONS_TABLE}`);
    return row?.v ?? 0;
  });
  if (final > ALERT_SCHEMA_VERSION) throw newerSchemaError(driver.location, final);
  return applied;
}

function* lockedVersion(schema: string | undefined): SqlScript<number> {
  // Its own lock key: the registry's migrations do not wait for these, nor these for them.
  yield* all(
    `SELECT pg_advisory_xact_lock(hashtext('modelauto.migrate.alerts'), hashtext(COALESCE(?::text, current_schema(), '')))`,
    schema ?? null,
  );
  yield* run(`CREATE TABLE IF NOT EXISTS ${ALERT_MIGRATIONS_TABLE} (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL
  )`);
  const row = yield* get<{ v: number | null }>(`SELECT MAX(version) AS v FROM ${ALERT_MIGRATIONS_TABLE}`);
  return row?.v ?? 0;
}

function newerSchemaError(location: string, found: number): ModelautoError {
  return new ModelautoError(
    'STORE',
    `the alert tables have schema version ${found}, newer than the latest this modelauto knows ` +
      `(${ALERT_SCHEMA_VERSION}); they were written by a newer modelauto: upgrade modelauto to open them`,
    { location: { file: location } },
  );
}
