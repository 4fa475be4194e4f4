/**
 * Opening the SQLite database of a store folder, shared by the tracking store and the registry so
 * that both connections use the same settings and apply the same migrations.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ModelautoError } from '../core/errors.js';
import { migrate } from './sqlite-schema.js';

export const SQLITE_DB_FILE = 'modelauto.db';
export const ARTIFACTS_DIR = 'artifacts';
export const BUSY_TIMEOUT_MS = 10_000;

export interface SqliteStoreFolder {
  /** Absolute folder of the store. */
  root: string;
  dbPath: string;
  artifactsDir: string;
  db: Database.Database;
}

/** Opens (creating if needed) `<root>/modelauto.db` and applies pending schema migrations. */
export function openSqliteStoreFolder(root: string): SqliteStoreFolder {
  const abs = resolve(root);
  ensureFolder(abs);
  const artifactsDir = join(abs, ARTIFACTS_DIR);
  mkdirSync(artifactsDir, { recursive: true });
  const dbPath = join(abs, SQLITE_DB_FILE);
  let db: Database.Database | undefined;
  try {
    db = new Database(dbPath, { timeout: BUSY_TIMEOUT_MS });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    // NORMAL is durable against process crashes in WAL mode; only an OS crash can lose the last commits.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, dbPath);
  } catch (e) {
    db?.close();
    throw sqliteError(e, `cannot open the tracking database`, dbPath);
  }
  return { root: abs, dbPath, artifactsDir, db };
}

export function sqliteError(e: unknown, what: string, dbPath: string): ModelautoError {
  if (e instanceof ModelautoError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new ModelautoError('STORE', `${what}: ${message}`, { location: { file: dbPath }, cause: e });
}

function ensureFolder(path: string): void {
  const existing = statSync(path, { throwIfNoEntry: false });
  if (existing && !existing.isDirectory()) {
    throw new ModelautoError(
      'USAGE',
      `tracking store location is a file, expected a folder (the database goes inside it)`,
      {
        location: { file: path },
      },
    );
  }
  mkdirSync(path, { recursive: true });
}
