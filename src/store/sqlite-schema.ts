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
  {
    version: 2,
    name: 'model registry: models, immutable versions, aliases with their history',
    sql: `
      CREATE TABLE registered_models (
        name TEXT PRIMARY KEY,
        description TEXT,
        -- Version numbers come from this counter, bumped in the registering transaction.
        last_version INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE registered_model_tags (
        model TEXT NOT NULL REFERENCES registered_models(name),
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (model, key)
      ) WITHOUT ROWID;

      CREATE TABLE model_versions (
        model TEXT NOT NULL REFERENCES registered_models(name),
        version INTEGER NOT NULL CHECK (version >= 1),
        status TEXT NOT NULL CHECK (status IN ('ready', 'deprecated', 'archived')),
        description TEXT,
        source_run_id TEXT REFERENCES runs(id),
        data_fingerprint TEXT,
        params_json TEXT NOT NULL,
        parent_model TEXT,
        parent_version INTEGER,
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        PRIMARY KEY (model, version),
        FOREIGN KEY (parent_model, parent_version) REFERENCES model_versions(model, version),
        CHECK ((parent_model IS NULL) = (parent_version IS NULL))
      ) WITHOUT ROWID;
      CREATE INDEX model_versions_by_run ON model_versions(source_run_id);

      CREATE TABLE model_version_artifacts (
        model TEXT NOT NULL,
        version INTEGER NOT NULL,
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
        size INTEGER NOT NULL CHECK (size >= 0),
        PRIMARY KEY (model, version, name),
        FOREIGN KEY (model, version) REFERENCES model_versions(model, version)
      ) WITHOUT ROWID;

      -- value is NULL for NaN, as in metrics.
      CREATE TABLE model_version_metrics (
        model TEXT NOT NULL,
        version INTEGER NOT NULL,
        key TEXT NOT NULL,
        value REAL,
        PRIMARY KEY (model, version, key),
        FOREIGN KEY (model, version) REFERENCES model_versions(model, version)
      ) WITHOUT ROWID;

      CREATE TABLE model_version_tags (
        model TEXT NOT NULL,
        version INTEGER NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (model, version, key),
        FOREIGN KEY (model, version) REFERENCES model_versions(model, version)
      ) WITHOUT ROWID;

      CREATE TABLE model_aliases (
        model TEXT NOT NULL,
        alias TEXT NOT NULL,
        version INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (model, alias),
        FOREIGN KEY (model, version) REFERENCES model_versions(model, version)
      ) WITHOUT ROWID;

      CREATE TABLE model_alias_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        model TEXT NOT NULL REFERENCES registered_models(name),
        alias TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('set', 'delete', 'rollback')),
        from_version INTEGER,
        to_version INTEGER,
        actor TEXT NOT NULL,
        time INTEGER NOT NULL,
        reason TEXT,
        undoes INTEGER REFERENCES model_alias_history(id)
      );
      CREATE INDEX model_alias_history_by_alias ON model_alias_history(model, alias, id);

      -- Immutability, enforced by the database too: only a version's status and tags change.
      CREATE TRIGGER model_versions_immutable
        BEFORE UPDATE OF model, version, description, source_run_id, data_fingerprint, params_json,
          parent_model, parent_version, created_at, created_by ON model_versions
        BEGIN SELECT RAISE(ABORT, 'model versions are immutable: only the status and tags change'); END;
      CREATE TRIGGER model_versions_kept BEFORE DELETE ON model_versions
        BEGIN SELECT RAISE(ABORT, 'model versions are immutable: archive a version instead of deleting it'); END;
      CREATE TRIGGER model_version_artifacts_immutable BEFORE UPDATE ON model_version_artifacts
        BEGIN SELECT RAISE(ABORT, 'model version artifacts are immutable'); END;
      CREATE TRIGGER model_version_artifacts_kept BEFORE DELETE ON model_version_artifacts
        BEGIN SELECT RAISE(ABORT, 'model version artifacts are immutable'); END;
      CREATE TRIGGER model_version_metrics_immutable BEFORE UPDATE ON model_version_metrics
        BEGIN SELECT RAISE(ABORT, 'model version metrics are immutable'); END;
      CREATE TRIGGER model_version_metrics_kept BEFORE DELETE ON model_version_metrics
        BEGIN SELECT RAISE(ABORT, 'model version metrics are immutable'); END;
      CREATE TRIGGER model_alias_history_append_only BEFORE UPDATE ON model_alias_history
        BEGIN SELECT RAISE(ABORT, 'the alias history is append-only'); END;
      CREATE TRIGGER model_alias_history_kept BEFORE DELETE ON model_alias_history
        BEGIN SELECT RAISE(ABORT, 'the alias history is append-only'); END;
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
