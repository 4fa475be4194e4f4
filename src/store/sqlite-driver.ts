/**
 * better-sqlite3 under the store's SQL scripts. Scripts run synchronously inside one transaction,
 * so nothing else in the process runs while the write lock is held.
 */
import type Database from 'better-sqlite3';
import { ModelautoError } from '../core/errors.js';
import { sqliteError } from './sqlite-connection.js';
import { driveSync, type SqlDriver, type SqlQuery, type SqlScript } from './sql-script.js';

export class SqliteDriver implements SqlDriver {
  readonly forUpdate = '';
  private connection: Database.Database | undefined;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    readonly location: string,
    readonly dbPath: string,
    db: Database.Database,
  ) {
    this.connection = db;
  }

  /** IMMEDIATE: the write lock is taken up front, so a concurrent writer waits on busy_timeout instead of failing. */
  async write<T>(what: string, script: () => SqlScript<T>): Promise<T> {
    return this.transaction(what, script, 'immediate');
  }

  async read<T>(what: string, script: () => SqlScript<T>): Promise<T> {
    return this.transaction(what, script, 'deferred');
  }

  async close(): Promise<void> {
    this.statements.clear();
    this.connection?.close();
    this.connection = undefined;
  }

  private transaction<T>(what: string, script: () => SqlScript<T>, mode: 'immediate' | 'deferred'): T {
    const db = this.connection;
    if (!db) throw new ModelautoError('STORE', `the store ${this.location} is closed`);
    try {
      return db.transaction(() => driveSync(script(), (q) => this.exec(db, q)))[mode]();
    } catch (e) {
      throw sqliteError(e, `${what} failed`, this.dbPath);
    }
  }

  private exec(db: Database.Database, q: SqlQuery): unknown {
    let statement = this.statements.get(q.sql);
    if (!statement) {
      statement = db.prepare(q.sql);
      this.statements.set(q.sql, statement);
    }
    // SQLite has no NaN: a bound NaN is stored as NULL, which readers turn back into NaN. Said explicitly.
    const args = q.args.map((a) => (typeof a === 'number' && Number.isNaN(a) ? null : a));
    return q.kind === 'all' ? statement.all(...args) : statement.run(...args).changes;
  }
}
