/**
 * The PostgreSQL server the tests use: $MODELAUTO_TEST_POSTGRES, else the local one
 * (postgres://postgres@127.0.0.1:5432/test). Each fixture works in a fresh schema that it drops
 * afterwards. When the server is unreachable the tests are skipped with the reason, except when
 * $CI is set: there they fail, so CI can never pass without running them.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, it } from 'vitest';

export const PG_TEST_URL =
  process.env['MODELAUTO_TEST_POSTGRES']?.trim() || 'postgres://postgres@127.0.0.1:5432/test';

async function probe(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: PG_TEST_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (e) {
    return `PostgreSQL at ${PG_TEST_URL.replace(/:[^:@/]*@/, ':***@')} is unreachable (${(e as Error).message})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const unreachable = await probe();

/** `describe` when PostgreSQL answers; otherwise a skipped suite (a failing test when $CI is set). */
export function describePostgres(name: string, body: () => void): void {
  if (unreachable === undefined) {
    describe(name, body);
  } else if (process.env['CI']) {
    describe(name, () => {
      it('needs PostgreSQL: these tests are never skipped in CI', () => {
        throw new Error(
          `${unreachable}; start it (pg_ctlcluster <version> main start) or set MODELAUTO_TEST_POSTGRES`,
        );
      });
    });
  } else {
    console.warn(`skipping "${name}": ${unreachable} (set CI=1 to make this a failure)`);
    describe.skip(`${name} (skipped: ${unreachable})`, body);
  }
}

export function freshSchemaName(): string {
  return `modelauto_test_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/**
 * A store URI on the test server in `schema`, with its blobs in `artifacts`. Test schemas are
 * throwaway, so commits skip waiting for the WAL flush (halves the time of creating a schema).
 */
export function pgStoreUri(schema: string, artifacts: string): string {
  const url = new URL(PG_TEST_URL);
  url.searchParams.set('schema', schema);
  url.searchParams.set('artifacts', artifacts);
  url.searchParams.set('options', '-c synchronous_commit=off');
  return url.href;
}

/** Runs SQL as the test user outside any store (inspection, cleanup). */
export async function adminQuery<R extends pg.QueryResultRow>(
  sql: string,
  args: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: PG_TEST_URL });
  await client.connect();
  try {
    return (await client.query<R>(sql, args)).rows;
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  if (unreachable !== undefined) return;
  await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
