import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/core/hash.js';
import { LATEST_SCHEMA_VERSION, migrate } from '../../src/store/sqlite-schema.js';
import { SqliteTrackingStore } from '../../src/store/sqlite-store.js';
import { defaultStoreLocation, openTrackingStore } from '../../src/store/open.js';
import { describeTrackingStoreContract, expectError } from './contract.js';
import { runNodeScript, transpileClosure } from './child-process.js';

describeTrackingStoreContract('sqlite', async () => {
  const root = await mkdtemp(join(tmpdir(), 'modelauto-store-'));
  return {
    store: await SqliteTrackingStore.open(root),
    reopen: () => SqliteTrackingStore.open(root),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('SqliteTrackingStore', () => {
  let root: string;
  const opened: { close: () => unknown }[] = [];
  const track = <T extends { close: () => unknown }>(x: T): T => {
    opened.push(x);
    return x;
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'modelauto-sqlite-'));
  });
  afterEach(async () => {
    for (const x of opened.splice(0)) await x.close();
    await rm(root, { recursive: true, force: true });
  });

  it('lays out <root>/modelauto.db in WAL mode and blobs under artifacts/sha256/<2 hex>/<64 hex>, leaving no temp files', async () => {
    const store = track(await SqliteTrackingStore.open(root));
    const run = await store.createRun({ kind: 'train' });
    const rec = await store.logArtifact(run.id, { name: 'x', data: 'blob' });
    const shard = join(root, 'artifacts', 'sha256', rec.sha256.slice(0, 2));
    expect(await store.artifactPath(rec.sha256)).toBe(join(shard, rec.sha256));
    expect(await readdir(shard)).toEqual([rec.sha256]);
    const raw = track(new Database(join(root, 'modelauto.db'), { readonly: true }));
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.prepare('SELECT count(*) AS n FROM runs').get()).toEqual({ n: 1 });
  });

  it('applies migrations once and records them', async () => {
    const first = await SqliteTrackingStore.open(root);
    await first.close();
    const raw = new Database(join(root, 'modelauto.db'));
    const rows = raw.prepare('SELECT version, applied_at FROM schema_migrations ORDER BY version').all();
    expect(rows.map((r) => (r as { version: number }).version)).toEqual(
      Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1),
    );
    raw.close();

    const second = track(await SqliteTrackingStore.open(root));
    await second.createRun({ kind: 'train' });
    const again = track(new Database(join(root, 'modelauto.db')));
    expect(again.prepare('SELECT version, applied_at FROM schema_migrations ORDER BY version').all()).toEqual(
      rows,
    );
    expect(migrate(again, 'db')).toEqual([]);
  });

  it('refuses a database written by a newer schema', async () => {
    await (await SqliteTrackingStore.open(root)).close();
    const raw = new Database(join(root, 'modelauto.db'));
    raw
      .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
      .run(LATEST_SCHEMA_VERSION + 1, 'from the future', Date.now());
    raw.close();
    const err = await expectError(
      SqliteTrackingStore.open(root),
      'STORE',
      new RegExp(`schema version ${LATEST_SCHEMA_VERSION + 1}, newer.*upgrade modelauto`),
    );
    expect(err.location?.file).toBe(join(root, 'modelauto.db'));
  });

  it('refuses a file that is not a SQLite database, and a location that is a file', async () => {
    await writeFile(join(root, 'modelauto.db'), 'this is not sqlite '.repeat(100));
    await expectError(SqliteTrackingStore.open(root), 'STORE', /modelauto\.db.*not a database/);
    await expectError(SqliteTrackingStore.open(join(root, 'modelauto.db')), 'USAGE', /expected a folder/);
  });

  it('lets a second connection see committed data immediately', async () => {
    const writer = track(await SqliteTrackingStore.open(root));
    const reader = track(await SqliteTrackingStore.open(root));
    const run = await writer.createRun({ kind: 'train', params: { lr: 1 } });
    await writer.logMetric(run.id, 'loss', 0.5, 0);
    expect((await reader.getRun(run.id)).metrics['loss']?.value).toBe(0.5);
    await writer.finishRun(run.id, 'finished');
    expect((await reader.getRun(run.id)).status).toBe('finished');
    await expectError(reader.finishRun(run.id, 'failed'), 'CONFLICT');
  });

  it('gives distinct ids to runs created concurrently through two connections', async () => {
    const a = track(await SqliteTrackingStore.open(root));
    const b = track(await SqliteTrackingStore.open(root));
    const runs = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).createRun({ kind: 'train', name: `r${i}` })),
    );
    expect(new Set(runs.map((r) => r.id)).size).toBe(40);
    expect(await a.listRuns()).toHaveLength(40);
  });

  it('works across OS processes writing at the same time', async () => {
    const parent = track(await SqliteTrackingStore.open(root));
    const seed = await parent.createRun({ kind: 'optimize' });
    const lib = join(root, 'lib');
    const storeModule = await transpileClosure('src/store/sqlite-store.ts', lib);
    const worker = join(lib, 'worker.mjs');
    await writeFile(
      worker,
      `import { SqliteTrackingStore } from ${JSON.stringify(storeModule)};
       const [root, parentId, label] = process.argv.slice(2);
       const store = await SqliteTrackingStore.open(root);
       const seen = await store.getRun(parentId);
       const ids = [];
       for (let i = 0; i < 15; i++) {
         const run = await store.createRun({ kind: 'train', name: label + i, parentRunId: parentId });
         await store.logMetrics(run.id, [{ key: 'loss', value: i, step: 0 }, { key: 'loss', value: NaN, step: 1 }]);
         await store.logArtifact(run.id, { name: 'shared.txt', data: 'same content from every process' });
         ids.push(run.id);
       }
       await store.close();
       console.log(JSON.stringify({ parentKind: seen.kind, ids }));`,
    );
    const outputs = await Promise.all(
      ['a', 'b'].map((label) => runNodeScript(worker, [root, seed.id, label])),
    );
    const results = outputs.map((o) => JSON.parse(o) as { parentKind: string; ids: string[] });
    expect(results.map((r) => r.parentKind)).toEqual(['optimize', 'optimize']);
    const ids = results.flatMap((r) => r.ids);
    expect(new Set(ids).size).toBe(30);
    const children = await parent.listRuns({ kind: 'train' });
    expect(children.map((r) => r.id).sort()).toEqual([...ids].sort());
    for (const run of children) {
      expect(run.parentRunId).toBe(seed.id);
      expect(Number.isNaN(run.metrics['loss']?.value)).toBe(true);
    }
    const digest = sha256('same content from every process');
    expect(await readdir(join(root, 'artifacts', 'sha256', digest.slice(0, 2)))).toEqual([digest]);
  });
});

describe('openTrackingStore', () => {
  let root: string;
  const savedEnv = process.env['MODELAUTO_STORE'];
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'modelauto-open-'));
  });
  afterEach(async () => {
    if (savedEnv === undefined) delete process.env['MODELAUTO_STORE'];
    else process.env['MODELAUTO_STORE'] = savedEnv;
    await rm(root, { recursive: true, force: true });
  });

  it.each([
    ['a plain path', (dir: string) => dir],
    ['sqlite:<path>', (dir: string) => `sqlite:${dir}`],
    ['file:<path>', (dir: string) => `file:${dir}`],
    ['sqlite:///<abs path>', (dir: string) => `sqlite://${dir}`],
    ['file:///<abs path>', (dir: string) => `file://${dir}`],
  ])('opens SQLite in the folder given by %s', async (_label, uri) => {
    const dir = join(root, 'store dir');
    const store = await openTrackingStore(uri(dir));
    expect(store.location).toBe(`sqlite:${dir}`);
    const run = await store.createRun({ kind: 'train' });
    await store.close();
    expect(existsSync(join(dir, 'modelauto.db'))).toBe(true);
    const again = await SqliteTrackingStore.open(dir);
    expect((await again.getRun(run.id)).kind).toBe('train');
    await again.close();
  });

  it('defaults to $MODELAUTO_STORE, else ./.modelauto', async () => {
    process.env['MODELAUTO_STORE'] = `sqlite:${root}`;
    expect(defaultStoreLocation()).toBe(`sqlite:${root}`);
    const store = await openTrackingStore();
    expect(store.location).toBe(`sqlite:${root}`);
    await store.close();
    delete process.env['MODELAUTO_STORE'];
    expect(defaultStoreLocation()).toBe(join(process.cwd(), '.modelauto'));
  });

  it('refuses other schemes, naming the supported ones without echoing credentials', async () => {
    const err = await expectError(openTrackingStore('mysql://user:s3cret@db:3306/runs'), 'USAGE', /"mysql:"/);
    expect(err.message).toMatch(/sqlite:<folder>/);
    expect(err.message).toMatch(/file:<folder>/);
    expect(err.message).toMatch(/postgres:\/\//);
    expect(err.message).not.toContain('s3cret');
    await expectError(openTrackingStore('sqlite://host/path'), 'USAGE', /host/);
    await expectError(openTrackingStore('sqlite:'), 'USAGE', /needs a folder/);
    await expectError(openTrackingStore('  '), 'USAGE', /empty/);
  });
});
