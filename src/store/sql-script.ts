/**
 * Transaction bodies written once for SQLite and PostgreSQL. A body is a generator that yields the
 * queries it wants run and receives their results, so each backend drives it its own way:
 * better-sqlite3 synchronously inside `db.transaction()` (no await inside a SQLite write lock, where
 * other code of the process could run and block on that lock), pg asynchronously on one pooled client.
 *
 * SQL uses `?` placeholders (the PostgreSQL driver renumbers them to `$1, $2, ...`); never put a `?`
 * inside a string literal.
 */

export type SqlArg = string | number | null;

export interface SqlQuery {
  sql: string;
  args: readonly SqlArg[];
  /** `all` returns the rows, `run` the number of rows changed. */
  kind: 'all' | 'run';
}

/** A transaction body: yields queries, returns the transaction's result. */
export type SqlScript<T> = Generator<SqlQuery, T, unknown>;

/** Rows of a query. The row type is the caller's promise about the SELECT list, as with any SQL driver. */
export function* all<R>(sql: string, ...args: SqlArg[]): Generator<SqlQuery, R[], unknown> {
  return (yield { sql, args, kind: 'all' }) as R[];
}

export function* get<R>(sql: string, ...args: SqlArg[]): Generator<SqlQuery, R | undefined, unknown> {
  const rows = yield* all<R>(sql, ...args);
  return rows[0];
}

/** Runs a statement; returns the number of rows it changed. */
export function* run(sql: string, ...args: SqlArg[]): Generator<SqlQuery, number, unknown> {
  return (yield { sql, args, kind: 'run' }) as number;
}

/**
 * A database the store's scripts run against. `write` takes the write lock the backend needs
 * (SQLite: BEGIN IMMEDIATE; PostgreSQL: row locks taken by the script with `forUpdate`), `read`
 * gives one consistent snapshot.
 */
export interface SqlDriver {
  readonly location: string;
  /** `' FOR UPDATE'` where row locks exist (PostgreSQL), `''` where a write holds the database lock (SQLite). */
  readonly forUpdate: string;
  write<T>(what: string, script: () => SqlScript<T>): Promise<T>;
  read<T>(what: string, script: () => SqlScript<T>): Promise<T>;
  close(): Promise<void>;
}

/** Drives a script to completion with a synchronous executor. */
export function driveSync<T>(script: SqlScript<T>, exec: (q: SqlQuery) => unknown): T {
  try {
    let step = script.next();
    while (!step.done) step = script.next(exec(step.value));
    return step.value;
  } finally {
    script.return(undefined as T);
  }
}

/** Drives a script to completion with an asynchronous executor. */
export async function driveAsync<T>(
  script: SqlScript<T>,
  exec: (q: SqlQuery) => Promise<unknown>,
): Promise<T> {
  try {
    let step = script.next();
    while (!step.done) step = script.next(await exec(step.value));
    return step.value;
  } finally {
    script.return(undefined as T);
  }
}
