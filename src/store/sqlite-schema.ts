/**
 * Versioned schema of the SQLite tracking database. Migrations are append-only: never edit a
 * released one, add the next version instead. Each runs in its own IMMEDIATE transaction that
 * re-reads the applied versions first, so processes opening a fresh store at the same time apply
 * each migration exactly once.
 */
import type Database from 'better-sqlite3';
import { ModelautoError } from '../core/errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, params, tags, metrics, artifacts',
    sql: `
      CREATE TABLE runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE CHECK (length(id) = 32),
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
        error TEXT,
        data_fingerprint TEXT,
        git_commit TEXT,
        parent_run_id TEXT REFERENCES runs(id),
        start_time INTEGER NOT NULL,
        end_time INTEGER
      );
      CREATE INDEX runs_by_kind ON runs(kind, start_time);
      CREATE INDEX runs_by_status ON runs(status, start_time);
      CREATE INDEX runs_by_name ON runs(name, start_time);
      CREATE INDEX runs_by_start ON runs(start_time);

      CREATE TABLE params (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value_json TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;

      CREATE TABLE tags (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;

      -- value is NULL for NaN: SQLite stores a bound NaN as NULL, so NULL is the faithful encoding.
      CREATE TABLE metrics (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value REAL,
        step INTEGER NOT NULL,
        timestamp INTEGER NOT NULL
      );
      CREATE INDEX metrics_by_run_key ON metrics(run_id, key, step, timestamp, seq);

      CREATE TABLE artifacts (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
        size INTEGER NOT NULL CHECK (size >= 0),
        content_type TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (run_id, name)
      ) WITHOUT ROWID;
      CREATE INDEX artifacts_by_sha256 ON artifacts(sha256);
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** Brings the database up to LATEST_SCHEMA_VERSION; returns the versions this call applied. */
export function migrate(db: Database.Database, dbPath: string): number[] {
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )`);
  }).immediate();

  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    const ran = db
      .transaction((): boolean => {
        const current = currentVersion(db);
        if (current > LATEST_SCHEMA_VERSION) throw newerSchemaError(dbPath, current);
        if (current >= migration.version) return false;
        db.exec(migration.sql);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          migration.version,
          migration.name,
          Date.now(),
        );
        return true;
      })
      .immediate();
    if (ran) applied.push(migration.version);
  }
  // Checked again so that a database already at a newer version is refused even with nothing to apply.
  const final = currentVersion(db);
  if (final > LATEST_SCHEMA_VERSION) throw newerSchemaError(dbPath, final);
  return applied;
}

export function currentVersion(db: Database.Database): number {
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

function newerSchemaError(dbPath: string, found: number): ModelautoError {
  return new ModelautoError(
    'STORE',
    `tracking database has schema version ${found}, newer than the latest this modelauto knows ` +
      `(${LATEST_SCHEMA_VERSION}); it was written by a newer modelauto: upgrade modelauto to open it`,
    { location: { file: dbPath } },
  );
}
