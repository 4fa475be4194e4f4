/**
 * Tables of the pipeline store, for SQLite and PostgreSQL (same tables, same version numbers). They
 * have their own migration track (`pipeline_schema_migrations`) next to the store's, so that pipeline
 * tables evolve without renumbering the store's migrations. Append-only: never edit a released
 * migration, add the next one. Each migration runs in one transaction that re-reads the applied
 * versions under a lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock keyed by schema), so
 * processes opening a fresh store together apply it exactly once.
 */
import type Database from 'better-sqlite3';
import { ModelautoError } from '../core/errors.js';
import type { PostgresDriver } from './postgres-driver.js';
import { all, get, run, type SqlScript } from './sql-script.js';
import type { Migration } from './sqlite-schema.js';

export const PIPELINE_MIGRATIONS_TABLE = 'pipeline_schema_migrations';

const STEP_STATUS_CHECK = `status IN ('pending', 'running', 'finished', 'cached', 'failed', 'gated', 'skipped', 'interrupted')`;
const RUN_STATUS_CHECK = `status IN ('running', 'finished', 'failed', 'gated', 'interrupted')`;

/** One text for both dialects: `{{int}}` and `{{real}}` and `{{text}}` are replaced per dialect. */
function tables(): string {
  return `
    CREATE TABLE pipeline_runs (
      seq {{serial}},
      id {{text}} NOT NULL UNIQUE CHECK (length(id) = 32),
      name TEXT NOT NULL,
      status TEXT NOT NULL CHECK (${RUN_STATUS_CHECK}),
      error TEXT,
      spec_json TEXT NOT NULL,
      params_json TEXT NOT NULL,
      file TEXT,
      base_dir TEXT NOT NULL,
      executor TEXT NOT NULL,
      code_version TEXT NOT NULL,
      owner TEXT,
      heartbeat_at {{int}},
      attempts INTEGER NOT NULL DEFAULT 1,
      start_time {{int}} NOT NULL,
      end_time {{int}}
    );
    CREATE INDEX pipeline_runs_by_start ON pipeline_runs(start_time);
    CREATE INDEX pipeline_runs_by_name ON pipeline_runs(name, start_time);

    CREATE TABLE pipeline_steps (
      run_id {{text}} NOT NULL REFERENCES pipeline_runs(id),
      step_id {{text}} NOT NULL,
      position INTEGER NOT NULL,
      uses TEXT NOT NULL,
      needs_json TEXT NOT NULL,
      status TEXT NOT NULL CHECK (${STEP_STATUS_CHECK}),
      cached INTEGER NOT NULL DEFAULT 0,
      cache_key TEXT,
      inputs_json TEXT,
      outputs_json TEXT,
      error TEXT,
      attempt INTEGER NOT NULL DEFAULT 0,
      task_id TEXT,
      progress {{real}},
      message TEXT,
      start_time {{int}},
      end_time {{int}},
      PRIMARY KEY (run_id, step_id)
    );

    CREATE TABLE pipeline_step_logs (
      seq {{serial}},
      run_id {{text}} NOT NULL REFERENCES pipeline_runs(id),
      step_id {{text}} NOT NULL,
      time {{int}} NOT NULL,
      line TEXT NOT NULL
    );
    CREATE INDEX pipeline_step_logs_by_run ON pipeline_step_logs(run_id, seq);

    CREATE TABLE pipeline_cache (
      cache_key {{text}} PRIMARY KEY,
      uses TEXT NOT NULL,
      outputs_json TEXT NOT NULL,
      run_id {{text}} NOT NULL REFERENCES pipeline_runs(id),
      step_id {{text}} NOT NULL,
      created_at {{int}} NOT NULL
    );

    CREATE TABLE pipeline_lineage (
      run_id {{text}} NOT NULL REFERENCES pipeline_runs(id),
      step_id {{text}} NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('run', 'model_version', 'file')),
      ref {{text}} NOT NULL,
      PRIMARY KEY (run_id, step_id, kind, ref)
    );
    CREATE INDEX pipeline_lineage_by_ref ON pipeline_lineage(kind, ref);

    -- One row per trial id, written once: a retried job finds the row and does not count twice.
    CREATE TABLE search_trials (
      trial_id {{text}} PRIMARY KEY,
      search_run_id {{text}} NOT NULL REFERENCES runs(id),
      params_json TEXT NOT NULL,
      rung INTEGER NOT NULL CHECK (rung >= 0),
      status TEXT NOT NULL CHECK (status IN ('finished', 'failed')),
      run_id {{text}} REFERENCES runs(id),
      metric {{real}},
      result_json TEXT NOT NULL,
      recorded_at {{int}} NOT NULL
    );
    CREATE INDEX search_trials_by_search ON search_trials(search_run_id, trial_id);

    CREATE TABLE search_trial_attempts (
      trial_id {{text}} NOT NULL,
      run_id {{text}} NOT NULL REFERENCES runs(id),
      started_at {{int}} NOT NULL,
      PRIMARY KEY (trial_id, run_id)
    );
  `;
}

function dialect(sql: string, types: Record<'serial' | 'int' | 'real' | 'text', string>): string {
  return sql.replace(/\{\{(serial|int|real|text)\}\}/g, (_, t: keyof typeof types) => types[t]);
}

export const PIPELINE_SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'pipeline runs, steps, logs, cache, lineage, search trials',
    sql: dialect(tables(), {
      serial: 'INTEGER PRIMARY KEY AUTOINCREMENT',
      int: 'INTEGER',
      real: 'REAL',
      text: 'TEXT',
    }),
  },
];

export const PIPELINE_POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'pipeline runs, steps, logs, cache, lineage, search trials',
    // "C" collation: ordering and prefix lookups by code point, as in SQLite.
    sql: dialect(tables(), {
      serial: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
      int: 'BIGINT',
      real: 'DOUBLE PRECISION',
      text: 'TEXT COLLATE "C"',
    }),
  },
];

export const PIPELINE_SCHEMA_VERSION = PIPELINE_SQLITE_MIGRATIONS.length;

export function migratePipelineSqlite(db: Database.Database, dbPath: string): number[] {
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${PIPELINE_MIGRATIONS_TABLE} (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  }).immediate();
  const current = (): number =>
    (db.prepare(`SELECT MAX(version) AS v FROM ${PIPELINE_MIGRATIONS_TABLE}`).get() as { v: number | null })
      .v ?? 0;
  const applied: number[] = [];
  for (const m of PIPELINE_SQLITE_MIGRATIONS) {
    const ran = db
      .transaction((): boolean => {
        const v = current();
        if (v > PIPELINE_SCHEMA_VERSION) throw newerError(dbPath, v);
        if (v >= m.version) return false;
        db.exec(m.sql);
        db.prepare(
          `INSERT INTO ${PIPELINE_MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)`,
        ).run(m.version, m.name, Date.now());
        return true;
      })
      .immediate();
    if (ran) applied.push(m.version);
  }
  const final = current();
  if (final > PIPELINE_SCHEMA_VERSION) throw newerError(dbPath, final);
  return applied;
}

export async function migratePipelinePostgres(driver: PostgresDriver): Promise<number[]> {
  const schema = driver.config.schema;
  const applied: number[] = [];
  for (const m of PIPELINE_POSTGRES_MIGRATIONS) {
    const ran = await driver.write('migrate pipeline tables', function* (): SqlScript<boolean> {
      yield* all(
        `SELECT pg_advisory_xact_lock(hashtext('modelauto.pipeline.migrate'), hashtext(COALESCE(?::text, current_schema(), '')))`,
        schema ?? null,
      );
      yield* run(`CREATE TABLE IF NOT EXISTS ${PIPELINE_MIGRATIONS_TABLE} (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
      const row = yield* get<{ v: number | null }>(
        `SELECT MAX(version) AS v FROM ${PIPELINE_MIGRATIONS_TABLE}`,
      );
      const v = row?.v ?? 0;
      if (v > PIPELINE_SCHEMA_VERSION) throw newerError(driver.location, v);
      if (v >= m.version) return false;
      yield* run(m.sql);
      yield* run(
        `INSERT INTO ${PIPELINE_MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)`,
        m.version,
        m.name,
        Date.now(),
      );
      return true;
    });
    if (ran) applied.push(m.version);
  }
  return applied;
}

function newerError(where: string, found: number): ModelautoError {
  return new ModelautoError(
    'STORE',
    `the pipeline tables have schema version ${found}, newer than the latest this modelauto knows ` +
      `(${PIPELINE_SCHEMA_VERSION}); upgrade modelauto to open this store`,
    { location: { file: where } },
  );
}
