import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  openAlertEventStore,
  PostgresAlertEventStore,
  SqliteAlertEventStore,
} from '../../src/store/alert-events-open.js';
import { ALERT_SCHEMA_VERSION } from '../../src/store/alert-events-schema.js';
import { redactWebhookUrl } from '../../src/store/alert-events.js';
import { describeAlertEventStoreContract } from './alert-events-contract.js';
import { expectError } from './contract.js';
import { describePostgres, dropSchema, freshSchemaName, PG_TEST_URL, pgStoreUri } from './pg-env.js';

function sqliteQuery(root: string) {
  return async (sql: string): Promise<Record<string, unknown>[]> => {
    const db = new Database(join(root, 'modelauto.db'));
    try {
      const statement = db.prepare(sql);
      return statement.reader ? (statement.all() as Record<string, unknown>[]) : (statement.run(), []);
    } finally {
      db.close();
    }
  };
}

function pgQuery(schema: string) {
  return async (sql: string): Promise<Record<string, unknown>[]> => {
    const client = new pg.Client({ connectionString: PG_TEST_URL, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      return (await client.query(sql)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
}

describeAlertEventStoreContract('sqlite', async () => {
  const root = await mkdtemp(join(tmpdir(), 'modelauto-alerts-'));
  return {
    uri: `sqlite:${root}`,
    rawQuery: sqliteQuery(root),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('SqliteAlertEventStore', () => {
  it('is what openAlertEventStore opens for a folder, and refuses tables from a newer modelauto', async () => {
    const root = await mkdtemp(join(tmpdir(), 'modelauto-alerts-'));
    try {
      const store = await openAlertEventStore(root);
      expect(store).toBeInstanceOf(SqliteAlertEventStore);
      expect(store.location).toBe(`sqlite:${root}`);
      await store.close();
      await sqliteQuery(root)(
        `INSERT INTO alert_schema_migrations (version, name, applied_at) VALUES (${ALERT_SCHEMA_VERSION + 1}, 'future', 0)`,
      );
      await expectError(SqliteAlertEventStore.open(root), 'STORE', /newer than the latest/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('redactWebhookUrl', () => {
  it('keeps scheme, host and path; drops credentials, query and fragment', () => {
    expect(redactWebhookUrl('https://user:secret@hooks.example:8443/a/b?token=x#f')).toBe(
      'https://hooks.example:8443/a/b',
    );
    expect(redactWebhookUrl('not a url')).toBe('(invalid URL)');
  });
});

describePostgres('PostgreSQL alert events', () => {
  describeAlertEventStoreContract('postgres', async () => {
    const schema = freshSchemaName();
    const artifacts = await mkdtemp(join(tmpdir(), 'modelauto-pg-alerts-'));
    return {
      uri: pgStoreUri(schema, artifacts),
      rawQuery: pgQuery(schema),
      cleanup: async () => {
        await dropSchema(schema);
        await rm(artifacts, { recursive: true, force: true });
      },
    };
  });

  it('is what openAlertEventStore opens for a postgres:// URI, and refuses tables from a newer modelauto', async () => {
    const schema = freshSchemaName();
    const artifacts = await mkdtemp(join(tmpdir(), 'modelauto-pg-alerts-'));
    try {
      const uri = pgStoreUri(schema, artifacts);
      const store = await openAlertEventStore(uri);
      expect(store).toBeInstanceOf(PostgresAlertEventStore);
      expect(store.location).not.toContain('password');
      await store.close();
      await pgQuery(schema)(
        `INSERT INTO alert_schema_migrations (version, name, applied_at) VALUES (${ALERT_SCHEMA_VERSION + 1}, 'future', 0)`,
      );
      await expectError(PostgresAlertEventStore.open(uri), 'STORE', /newer than the latest/);
    } finally {
      await dropSchema(schema);
      await rm(artifacts, { recursive: true, force: true });
    }
  });
});
