/**
 * node-postgres under the store's SQL scripts: a small pool whose connections all use the store's
 * schema, transactions on one pooled client, and pg errors turned into ModelautoErrors that never
 * carry the password (node-postgres messages do not contain it, and the location is redacted).
 */
import pg from 'pg';
import type { PoolClient, PoolConfig } from 'pg';
import { ModelautoError } from '../core/errors.js';
import { driveAsync, type SqlDriver, type SqlQuery, type SqlScript } from './sql-script.js';
import type { PostgresStoreConfig } from './postgres-uri.js';

const POOL_SIZE = 4;
const CONNECT_TIMEOUT_MS = 10_000;
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
]);

/** BIGINT columns (epoch milliseconds, steps, sizes) hold safe integers: read them as numbers, not strings. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export class PostgresDriver implements SqlDriver {
  readonly forUpdate = ' FOR UPDATE';
  private pool: pg.Pool | undefined;

  private constructor(
    readonly config: PostgresStoreConfig,
    pool: pg.Pool,
  ) {
    this.pool = pool;
  }

  get location(): string {
    return this.config.location;
  }

  get closed(): boolean {
    return this.pool === undefined;
  }

  /** Creates the pool; the first query (the caller's migration) is what actually connects. */
  static create(config: PostgresStoreConfig): PostgresDriver {
    const options: PoolConfig = {
      connectionString: config.connectionString,
      max: POOL_SIZE,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      application_name: 'modelauto',
      types: TYPES,
    };
    // Set at connection start so every statement of every pooled connection sees the store's tables.
    // Given here, `options` replaces $PGOPTIONS in node-postgres, so the user's settings are merged in.
    const settings = [
      config.serverOptions ?? process.env['PGOPTIONS'],
      config.schema === undefined ? undefined : `-c search_path=${config.schema}`,
    ].filter((s): s is string => Boolean(s?.trim()));
    if (settings.length > 0) options.options = settings.join(' ');
    const pool = new pg.Pool(options);
    // An idle connection dropped by the server is discarded by the pool and replaced on the next
    // query, whose own error (if the server is still gone) reaches the caller; without a listener
    // node would treat this event as an uncaught exception.
    pool.on('error', () => undefined);
    return new PostgresDriver(config, pool);
  }

  write<T>(what: string, script: () => SqlScript<T>): Promise<T> {
    return this.transaction(what, 'BEGIN', script);
  }

  /** One snapshot for every query of the script, and no writes. */
  read<T>(what: string, script: () => SqlScript<T>): Promise<T> {
    return this.transaction(what, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', script);
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  private async transaction<T>(what: string, begin: string, script: () => SqlScript<T>): Promise<T> {
    const pool = this.pool;
    if (!pool) throw new ModelautoError('STORE', `the store ${this.location} is closed`);
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      throw postgresError(e, `${what}: cannot connect`, this.location);
    }
    let broken: Error | undefined;
    try {
      await client.query(begin);
      const result = await driveAsync(script(), (q) => exec(client, q));
      await client.query('COMMIT');
      return result;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is unusable: release it as broken so the pool closes it.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw postgresError(e, `${what} failed`, this.location);
    } finally {
      client.release(broken);
    }
  }
}

const renumbered = new Map<string, string>();

/** `?` placeholders → `$1, $2, ...` (cached per statement text). */
function toPostgresPlaceholders(sql: string): string {
  let text = renumbered.get(sql);
  if (text === undefined) {
    let n = 0;
    text = sql.replace(/\?/g, () => `$${++n}`);
    renumbered.set(sql, text);
  }
  return text;
}

async function exec(client: PoolClient, q: SqlQuery): Promise<unknown> {
  // Without values node-postgres uses the simple protocol, which accepts several statements (migrations).
  const result =
    q.args.length === 0
      ? await client.query(q.sql)
      : await client.query(toPostgresPlaceholders(q.sql), [...q.args]);
  return q.kind === 'all' ? result.rows : (result.rowCount ?? 0);
}

export function postgresError(e: unknown, what: string, location: string): ModelautoError {
  if (e instanceof ModelautoError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown }).code;
  const unreachable =
    (typeof code === 'string' && UNREACHABLE_CODES.has(code)) ||
    /connection terminated|timeout exceeded when trying to connect/i.test(message);
  return new ModelautoError(
    unreachable ? 'UNAVAILABLE' : 'STORE',
    unreachable ? `${what}: PostgreSQL is unreachable: ${message}` : `${what}: ${message}`,
    { location: { file: location }, cause: e },
  );
}
