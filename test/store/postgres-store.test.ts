import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTrackingStore } from '../../src/store/open.js';
import { POSTGRES_LATEST_SCHEMA_VERSION } from '../../src/store/postgres-schema.js';
import { PostgresTrackingStore } from '../../src/store/postgres-store.js';
import { DEFAULT_PG_ARTIFACTS_FOLDER, parsePostgresUri } from '../../src/store/postgres-uri.js';
import { describeTrackingStoreContract, expectError } from './contract.js';
import { adminQuery, describePostgres, dropSchema, freshSchemaName, pgStoreUri } from './pg-env.js';

describePostgres('PostgreSQL tracking store', () => {
  describeTrackingStoreContract('postgres', async () => {
    const schema = freshSchemaName();
    const artifacts = await mkdtemp(join(tmpdir(), 'modelauto-pg-'));
    const uri = pgStoreUri(schema, artifacts);
    return {
      store: await PostgresTrackingStore.open(uri),
      reopen: () => PostgresTrackingStore.open(uri),
      cleanup: async () => {
        await dropSchema(schema);
        await rm(artifacts, { recursive: true, force: true });
      },
    };
  });

  describe('PostgresTrackingStore', () => {
    let schema: string;
    let artifacts: string;
    let uri: string;
    const opened: PostgresTrackingStore[] = [];
    const open = async (u = uri): Promise<PostgresTrackingStore> => {
      const store = await PostgresTrackingStore.open(u);
      opened.push(store);
      return store;
    };

    beforeEach(async () => {
      schema = freshSchemaName();
      artifacts = await mkdtemp(join(tmpdir(), 'modelauto-pg-'));
      uri = pgStoreUri(schema, artifacts);
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await dropSchema(schema);
      await rm(artifacts, { recursive: true, force: true });
    });

    it('is what openTrackingStore gives for postgres:// and postgresql:// URIs', async () => {
      const a = await openTrackingStore(uri);
      const b = await openTrackingStore(uri.replace(/^postgres:/, 'postgresql:'));
      try {
        expect(a).toBeInstanceOf(PostgresTrackingStore);
        expect(b).toBeInstanceOf(PostgresTrackingStore);
        const run = await a.createRun({ kind: 'train' });
        expect((await b.getRun(run.id)).kind).toBe('train');
        expect(a.location).toMatch(new RegExp(`^postgres://[^?]*/test\\?schema=${schema}$`));
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('applies the migrations once, under a lock, even with many openers at once', async () => {
      const stores = await Promise.all(Array.from({ length: 5 }, () => open()));
      const rows = await adminQuery<{ version: number; name: string }>(
        `SELECT version, name FROM "${schema}".modelauto_schema_migrations ORDER BY version`,
      );
      expect(rows.map((r) => r.version)).toEqual(
        Array.from({ length: POSTGRES_LATEST_SCHEMA_VERSION }, (_, i) => i + 1),
      );
      const runs = await Promise.all(stores.map((s) => s.createRun({ kind: 'train' })));
      expect(await stores[0]?.listRuns()).toHaveLength(runs.length);
    });

    it('refuses a schema written by a newer modelauto', async () => {
      await (await open()).close();
      await adminQuery(
        `INSERT INTO "${schema}".modelauto_schema_migrations (version, name, applied_at) VALUES ($1, 'future', 0)`,
        [POSTGRES_LATEST_SCHEMA_VERSION + 1],
      );
      await expectError(
        PostgresTrackingStore.open(uri),
        'STORE',
        new RegExp(`schema version is ${POSTGRES_LATEST_SCHEMA_VERSION + 1}, newer.*upgrade modelauto`),
      );
    });

    it('stores NaN and ±Infinity as PostgreSQL double precision values', async () => {
      const store = await open();
      const run = await store.createRun({ kind: 'train' });
      await store.logMetrics(run.id, [
        { key: 'loss', value: Number.NaN, step: 0 },
        { key: 'loss', value: Number.POSITIVE_INFINITY, step: 1 },
        { key: 'loss', value: Number.NEGATIVE_INFINITY, step: 2 },
      ]);
      const rows = await adminQuery<{ v: string }>(
        `SELECT value::text AS v FROM "${schema}".metrics WHERE run_id = $1 ORDER BY step`,
        [run.id],
      );
      expect(rows.map((r) => r.v)).toEqual(['NaN', 'Infinity', '-Infinity']);
    });

    it('keeps blobs in the artifacts folder and run folders under <artifacts>/runs', async () => {
      const store = await open();
      const run = await store.createRun({ kind: 'train' });
      const rec = await store.logArtifact(run.id, { name: 'w.bin', data: new Uint8Array([1, 2, 3]) });
      expect(await store.artifactPath(rec.sha256)).toBe(
        join(artifacts, 'sha256', rec.sha256.slice(0, 2), rec.sha256),
      );
      expect(await store.runDir(run.id)).toBe(join(artifacts, 'runs', run.id));
      const elsewhere = join(artifacts, 'elsewhere');
      const other = await open(`${uri}&runs=${encodeURIComponent(elsewhere)}`);
      expect(await other.runDir(run.id)).toBe(join(elsewhere, run.id));
      expect(existsSync(join(elsewhere, run.id))).toBe(true);
    });

    it('lets two stores write concurrently: distinct runs, one value per param', async () => {
      const a = await open();
      const b = await open();
      const runs = await Promise.all(
        Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).createRun({ kind: 'train', name: `r${i}` })),
      );
      expect(new Set(runs.map((r) => r.id)).size).toBe(30);
      const run = runs[0]!;
      const results = await Promise.allSettled([
        a.logParams(run.id, { lr: 0.1 }),
        b.logParams(run.id, { lr: 0.2 }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const finishes = await Promise.allSettled([
        a.finishRun(run.id, 'finished'),
        b.finishRun(run.id, 'failed'),
      ]);
      expect(finishes.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    });

    it('reports an unreachable server as UNAVAILABLE without echoing the password', async () => {
      const err = await expectError(
        PostgresTrackingStore.open(`postgres://someone:s3cret@127.0.0.1:1/test?artifacts=${artifacts}`),
        'UNAVAILABLE',
        /unreachable/,
      );
      expect(err.message).not.toContain('s3cret');
      expect(err.message).toContain('postgres://someone@127.0.0.1:1/test');
    });
  });
});

describe('parsePostgresUri', () => {
  it('splits modelauto parameters from the connection string and redacts the password', () => {
    const c = parsePostgresUri(
      'postgresql://me:pa%20ss@db.example:6543/runs?schema=team_a&artifacts=/shared/blobs&sslmode=require',
    );
    expect(c).toEqual({
      connectionString: 'postgresql://me:pa%20ss@db.example:6543/runs?sslmode=require',
      schema: 'team_a',
      serverOptions: undefined,
      artifactsDir: '/shared/blobs',
      runsDir: '/shared/blobs/runs',
      location: 'postgresql://me@db.example:6543/runs?schema=team_a',
    });
  });

  it('takes server settings from options, leaving them out of the connection string', () => {
    const c = parsePostgresUri('postgres://h/d?options=-c%20statement_timeout%3D5000&schema=s');
    expect(c.serverOptions).toBe('-c statement_timeout=5000');
    expect(c.connectionString).toBe('postgres://h/d');
  });

  it('defaults the artifacts folder to ./.modelauto-artifacts resolved against the current directory', () => {
    const c = parsePostgresUri('postgres://127.0.0.1/test');
    expect(c.artifactsDir).toBe(join(process.cwd(), DEFAULT_PG_ARTIFACTS_FOLDER));
    expect(c.schema).toBeUndefined();
    expect(parsePostgresUri('postgres://h/d?artifacts=rel/dir').artifactsDir).toBe(
      join(process.cwd(), 'rel/dir'),
    );
  });

  it('refuses bad schema names, repeated or empty parameters, naming the parameter', () => {
    expect(() => parsePostgresUri('postgres://h/d?schema=Robert%22;drop')).toThrow(
      /store\.schema.*invalid schema/,
    );
    expect(() => parsePostgresUri('postgres://h/d?schema=a&schema=b')).toThrow(/"schema" more than once/);
    expect(() => parsePostgresUri('postgres://h/d?artifacts=')).toThrow(/store\.artifacts.*empty/);
    expect(() => parsePostgresUri('postgres://u:pw@[bad')).toThrow(/malformed/);
    try {
      parsePostgresUri('postgres://u:topsecret@[bad');
    } catch (e) {
      expect((e as Error).message).not.toContain('topsecret');
    }
  });
});
