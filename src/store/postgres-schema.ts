/**
 * Versioned schema of the PostgreSQL store, the counterpart of sqlite-schema.ts (same tables, same
 * version numbers). Migrations are append-only. Each runs in its own transaction holding a
 * transaction-level advisory lock keyed by the schema, and re-reads the applied versions under that
 * lock, so processes opening a fresh store at the same time apply each migration exactly once.
 *
 * Text keys use the "C" collation so that ordering (artifact names, metric keys) is by code point as
 * in SQLite, and so that run-id prefix lookups (LIKE 'abcd%') can use the index.
 */
import { ModelautoError } from '../core/errors.js';
import type { PostgresDriver } from './postgres-driver.js';
import { all, get, run, type SqlScript } from './sql-script.js';
import type { Migration } from './sqlite-schema.js';

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, params, tags, metrics, artifacts',
    sql: `
      CREATE TABLE runs (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id TEXT COLLATE "C" NOT NULL UNIQUE CHECK (length(id) = 32),
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
        error TEXT,
        data_fingerprint TEXT,
        git_commit TEXT,
        parent_run_id TEXT COLLATE "C" REFERENCES runs(id),
        start_time BIGINT NOT NULL,
        end_time BIGINT
      );
      CREATE INDEX runs_by_kind ON runs(kind, start_time);
      CREATE INDEX runs_by_status ON runs(status, start_time);
      CREATE INDEX runs_by_name ON runs(name, start_time);
      CREATE INDEX runs_by_start ON runs(start_time);

      CREATE TABLE params (
        run_id TEXT COLLATE "C" NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT COLLATE "C" NOT NULL,
        value_json TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      );

      CREATE TABLE tags (
        run_id TEXT COLLATE "C" NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT COLLATE "C" NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      );

      -- double precision stores NaN and ±Infinity as themselves.
      CREATE TABLE metrics (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        run_id TEXT COLLATE "C" NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT COLLATE "C" NOT NULL,
        value DOUBLE PRECISION,
        step BIGINT NOT NULL,
        timestamp BIGINT NOT NULL
      );
      CREATE INDEX metrics_by_run_key ON metrics(run_id, key, step, timestamp, seq);

      CREATE TABLE artifacts (
        run_id TEXT COLLATE "C" NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        name TEXT COLLATE "C" NOT NULL,
        sha256 TEXT COLLATE "C" NOT NULL CHECK (length(sha256) = 64),
        size BIGINT NOT NULL CHECK (size >= 0),
        content_type TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (run_id, name)
      );
      CREATE INDEX artifacts_by_sha256 ON artifacts(sha256);
    `,
  },
  {
    version: 2,
    name: 'model registry: models, immutable versions, aliases with their history',
    sql: `
      CREATE TABLE registered_models (
        name TEXT COLLATE "C" PRIMARY KEY,
        description TEXT,
        last_version INTEGER NOT NULL DEFAULT 0,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );

      CREATE TABLE registered_model_tags (
        model TEXT COLLATE "C" NOT NULL REFERENCES registered_models(name),
        key TEXT COLLATE "C" NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (model, key)
      );

      CREATE TABLE model_versions (
        model TEXT COLLATE "C" NOT NULL REFERENCES registered_models(name),
        version INTEGER NOT NULL CHECK (version >= 1),
        status TEXT NOT NULL CHECK (status IN ('ready', 'deprecated', 'archived')),
        description TEXT,
        source_run_id TEXT COLLATE "C" REFERENCES runs(id),
        data_fingerprint TEXT,
        params_json TEXT NOT NULL,
        parent_model TEXT COLLATE "C",
        parent_version INTEGER,
        created_at BIGINT NOT NULL,
        created_by TEXT NOT NULL,
        PRIMARY KEY (model, version),
        FOREIGN KEY (parent_model, parent_version) REFERENCES model_versions(model, version),
        CHECK ((parent_model IS NULL) = (parent_version IS NULL))
      );
      CREATE INDEX model_versions_by_run ON model_versions(source_run_id);

      CREATE TABLE model_version_artifacts (
        model TEXT COLLATE "C" NOT NULL,
        version INTEGER NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        sha256 TEXT COLLATE "C" NOT NULL CHECK (length(sha256) = 64),
        size BIGINT NOT NULL CHECK (size >= 0),
        PRIMARY KEY (model, version, name),
        FOREIGN KEY (model, version) REFERENCES model_versions(model, version)
      );

      CREATE TABLE model_version_metrics (
        model TEXT COLLATE "C" NOT NULL,
        version INTEGER NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        value DOUBLE PRECISION,
        PRIMARY KEY (model, version, key),
        FOREIGN KEY (model, version) REFERENCES model_versions(model, version)
      );

      CREATE TABLE model_version_tags (
        model TEXT COLLATE "C" NOT NULL,
        version INTEGER NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (model, version, key),
        FOREIGN KEY (model, version) REFERENCES model_versions(model, version)
      );

      CREATE TABLE model_aliases (
        model TEXT COLLATE "C" NOT NULL,
        alias TEXT COLLATE "C" NOT NULL,
        version INTEGER NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (model, alias),
        FOREIGN KEY (model, version) REFERENCES model_versions(model, version)
      );

      CREATE TABLE model_alias_history (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        model TEXT COLLATE "C" NOT NULL REFERENCES registered_models(name),
        alias TEXT COLLATE "C" NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('set', 'delete', 'rollback')),
        from_version INTEGER,
        to_version INTEGER,
        actor TEXT NOT NULL,
        time BIGINT NOT NULL,
        reason TEXT,
        undoes BIGINT REFERENCES model_alias_history(id)
      );
      CREATE INDEX model_alias_history_by_alias ON model_alias_history(model, alias, id);

      -- Immutability, enforced by the database too: only a version's status and tags change.
      CREATE FUNCTION modelauto_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
      END
      $$;
      CREATE TRIGGER model_versions_immutable
        BEFORE UPDATE OF model, version, description, source_run_id, data_fingerprint, params_json,
          parent_model, parent_version, created_at, created_by ON model_versions
        FOR EACH ROW EXECUTE FUNCTION modelauto_refuse_change('model versions are immutable: only the status and tags change');
      CREATE TRIGGER model_versions_kept BEFORE DELETE ON model_versions
        FOR EACH ROW EXECUTE FUNCTION modelauto_refuse_change('model versions are immutable: archive a version instead of deleting it');
      CREATE TRIGGER model_version_artifacts_immutable BEFORE UPDATE OR DELETE ON model_version_artifacts
        FOR EACH ROW EXECUTE FUNCTION modelauto_refuse_change('model version artifacts are immutable');
      CREATE TRIGGER model_version_metrics_immutable BEFORE UPDATE OR DELETE ON model_version_metrics
        FOR EACH ROW EXECUTE FUNCTION modelauto_refuse_change('model version metrics are immutable');
      CREATE TRIGGER model_alias_history_append_only BEFORE UPDATE OR DELETE ON model_alias_history
        FOR EACH ROW EXECUTE FUNCTION modelauto_refuse_change('the alias history is append-only');
    `,
  },
];

export const POSTGRES_LATEST_SCHEMA_VERSION =
  POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1]?.version ?? 0;
export const POSTGRES_MIGRATIONS_TABLE = 'modelauto_schema_migrations';

/** Brings the store's schema up to POSTGRES_LATEST_SCHEMA_VERSION; returns the versions this call applied. */
export async function migratePostgres(driver: PostgresDriver): Promise<number[]> {
  const schema = driver.config.schema;
  const applied: number[] = [];
  for (const migration of POSTGRES_MIGRATIONS) {
    const ran = await driver.write('migrate', function* (): SqlScript<boolean> {
      const current = yield* lockedCurrentVersion(schema);
      if (current > POSTGRES_LATEST_SCHEMA_VERSION) throw newerSchemaError(driver.location, current);
      if (current >= migration.version) return false;
      yield* run(migration.sql);
      yield* run(
        `INSERT INTO ${POSTGRES_MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)`,
        migration.version,
        migration.name,
        Date.now(),
      );
      return true;
    });
    if (ran) applied.push(migration.version);
  }
  // Checked again so that a schema already at a newer version is refused even with nothing to apply.
  const final = await driver.read('migrate', function* (): SqlScript<number> {
    const row = yield* get<{ v: number | null }>(
      `SELECT MAX(version) AS v FROM ${POSTGRES_MIGRATIONS_TABLE}`,
    );
    return row?.v ?? 0;
  });
  if (final > POSTGRES_LATEST_SCHEMA_VERSION) throw newerSchemaError(driver.location, final);
  return applied;
}

function* lockedCurrentVersion(schema: string | undefined): SqlScript<number> {
  // Keyed by schema: stores in different schemas of one database migrate independently.
  yield* all(
    `SELECT pg_advisory_xact_lock(hashtext('modelauto.migrate'), hashtext(COALESCE(?::text, current_schema(), '')))`,
    schema ?? null,
  );
  if (schema !== undefined) yield* run(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  yield* run(`CREATE TABLE IF NOT EXISTS ${POSTGRES_MIGRATIONS_TABLE} (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL
  )`);
  const row = yield* get<{ v: number | null }>(`SELECT MAX(version) AS v FROM ${POSTGRES_MIGRATIONS_TABLE}`);
  return row?.v ?? 0;
}

function newerSchemaError(location: string, found: number): ModelautoError {
  return new ModelautoError(
    'STORE',
    `the store's schema version is ${found}, newer than the latest this modelauto knows ` +
      `(${POSTGRES_LATEST_SCHEMA_VERSION}); it was written by a newer modelauto: upgrade modelauto to open it`,
    { location: { file: location } },
  );
}
