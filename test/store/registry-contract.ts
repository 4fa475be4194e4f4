/**
 * The behaviour every ModelRegistry backend must have. A backend's test file calls
 * describeRegistryContract with a factory that makes a fresh, empty store and returns its URI; the
 * suite opens it through openStores (so the URI wiring is tested too) and, for the concurrency and
 * crash tests, from other OS processes.
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStores, type Stores } from '../../src/store/open.js';
import { registerRun } from '../../src/store/register-run.js';
import {
  AliasMoveSchema,
  ModelRecordSchema,
  ModelVersionRecordSchema,
  type ModelRegistry,
  type VersionArtifact,
} from '../../src/store/registry.js';
import type { TrackingStore } from '../../src/store/tracking-store.js';
import { expectError } from './contract.js';

export interface RegistryFixture {
  /** URI of a fresh, empty store. */
  uri: string;
  /** Raw SQL on the store's database, to look under the API (e.g. for rows of a crashed registration). */
  rawQuery: (sql: string) => Promise<Record<string, unknown>[]>;
  cleanup: () => Promise<void>;
}

const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const WORKER = join(PROJECT, 'test/store/registry-worker.ts');

interface WorkerRun {
  stdout: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Starts the worker; `killWhen` sends SIGKILL as soon as the worker prints that text. */
function runWorker(config: object, killWhen?: string): Promise<WorkerRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(config)], {
      cwd: PROJECT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`registry worker timed out; stderr: ${stderr}`));
    }, 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (killWhen && stdout.includes(killWhen)) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!killWhen && code !== 0) reject(new Error(`registry worker exited with ${code}: ${stderr}`));
      else resolveRun({ stdout, code, signal });
    });
  });
}

/** A finished run with the given artifacts and metrics; returns the run id and the artifacts' records. */
async function makeRun(
  tracking: TrackingStore,
  files: Record<string, string>,
  options: { metrics?: Record<string, number>; finish?: boolean; dataFingerprint?: string } = {},
): Promise<{ id: string; artifacts: VersionArtifact[] }> {
  const run = await tracking.createRun({
    kind: 'train',
    params: { lr: 0.01, layers: [8, 4] },
    ...(options.dataFingerprint ? { dataFingerprint: options.dataFingerprint } : {}),
  });
  const artifacts: VersionArtifact[] = [];
  for (const [name, data] of Object.entries(files)) {
    const rec = await tracking.logArtifact(run.id, { name, data });
    artifacts.push({ name: rec.name, sha256: rec.sha256, size: rec.size });
  }
  for (const [key, value] of Object.entries(options.metrics ?? {}))
    await tracking.logMetric(run.id, key, value, 0);
  if (options.finish !== false) await tracking.finishRun(run.id, 'finished');
  return { id: run.id, artifacts };
}

export function describeRegistryContract(name: string, makeFixture: () => Promise<RegistryFixture>): void {
  describe(`ModelRegistry contract: ${name}`, () => {
    let fx: RegistryFixture;
    let stores: Stores;
    let registry: ModelRegistry;
    let tracking: TrackingStore;
    let files: VersionArtifact[];
    const savedUser = process.env['USER'];

    beforeEach(async () => {
      fx = await makeFixture();
      stores = await openStores(fx.uri);
      registry = stores.registry;
      tracking = stores.tracking;
      files = (
        await makeRun(tracking, { 'model/model.json': '{"format":"layers-model"}', 'model/weights.bin': 'w' })
      ).artifacts;
      process.env['USER'] = 'alice';
    });
    afterEach(async () => {
      if (savedUser === undefined) delete process.env['USER'];
      else process.env['USER'] = savedUser;
      await stores.close();
      await fx.cleanup();
    });

    describe('models', () => {
      it('creates, gets and lists models; a taken name is CONFLICT', async () => {
        const before = Date.now();
        const m = await registry.createModel('mnist', { description: 'digits', tags: { team: 'vision' } });
        expect(ModelRecordSchema.parse(m)).toEqual(m);
        expect(m).toMatchObject({
          name: 'mnist',
          description: 'digits',
          tags: { team: 'vision' },
          latestVersion: null,
          versionCount: 0,
          aliases: {},
        });
        expect(m.createdAt).toBeGreaterThanOrEqual(before);
        await registry.createModel('churn.v2');
        expect(await registry.getModel('mnist')).toEqual(m);
        expect((await registry.listModels()).map((x) => x.name)).toEqual(['churn.v2', 'mnist']);
        await expectError(registry.createModel('mnist'), 'CONFLICT', /already exists/);
        await expectError(registry.getModel('nope'), 'NOT_FOUND', /no model "nope"/);
      });

      it('validates names: lowercase, 1-64 characters, no path tricks', async () => {
        for (const bad of [
          '',
          'MNIST',
          '../etc',
          'a/b',
          'a..b',
          '.hidden',
          '-x',
          'x'.repeat(65),
          'a b',
          'a@b',
        ]) {
          const err = await expectError(registry.createModel(bad), 'INVALID_ARGUMENT');
          expect(err.location?.path).toBe('createModel.name');
        }
        await registry.createModel('a');
        await registry.createModel(`m${'x'.repeat(63)}`);
        await registry.createModel('resnet-50_v1.2');
      });

      it('sets model tags (adding and overwriting)', async () => {
        await registry.createModel('mnist', { tags: { a: '1', b: '2' } });
        const m = await registry.setModelTags('mnist', { b: 'two', c: '' });
        expect(m.tags).toEqual({ a: '1', b: 'two', c: '' });
        await expectError(registry.setModelTags('ghost', { a: '1' }), 'NOT_FOUND');
        await expectError(
          registry.setModelTags('mnist', { a: 1 as unknown as string }),
          'INVALID_ARGUMENT',
          /setModelTags\.tags\.a/,
        );
      });
    });

    describe('registerVersion', () => {
      it('numbers versions 1, 2, 3 and records everything given', async () => {
        const run = await makeRun(tracking, { 'best.bin': 'best' });
        await registry.createModel('mnist');
        const v1 = await registry.registerVersion('mnist', { artifacts: files });
        const before = Date.now();
        const v2 = await registry.registerVersion('mnist', {
          artifacts: [...run.artifacts, ...files].reverse(),
          sourceRunId: run.id,
          dataFingerprint: 'sha256:abc',
          metrics: { test_accuracy: 0.97, loss: Number.NaN, up: Number.POSITIVE_INFINITY, down: -Infinity },
          params: { lr: 0.001, nested: { b: [1, 2], a: null } },
          parentModel: { name: 'mnist', version: 1 },
          tags: { stage: 'candidate' },
          description: 'pruned',
          status: 'deprecated',
        });
        expect(ModelVersionRecordSchema.parse(v2)).toEqual(v2);
        expect(v1.version).toBe(1);
        expect(v1).toMatchObject({
          status: 'ready',
          sourceRunId: null,
          parentModel: null,
          metrics: {},
          params: {},
        });
        expect(v2).toMatchObject({
          model: 'mnist',
          version: 2,
          status: 'deprecated',
          description: 'pruned',
          sourceRunId: run.id,
          dataFingerprint: 'sha256:abc',
          params: { lr: 0.001, nested: { a: null, b: [1, 2] } },
          parentModel: { name: 'mnist', version: 1 },
          tags: { stage: 'candidate' },
          aliases: [],
          createdBy: 'alice',
        });
        expect(v2.artifacts.map((a) => a.name)).toEqual([
          'best.bin',
          'model/model.json',
          'model/weights.bin',
        ]);
        expect(v2.artifacts[0]).toEqual(run.artifacts[0]);
        expect(v2.metrics['test_accuracy']).toBe(0.97);
        expect(Number.isNaN(v2.metrics['loss'])).toBe(true);
        expect(v2.metrics['up']).toBe(Number.POSITIVE_INFINITY);
        expect(v2.metrics['down']).toBe(Number.NEGATIVE_INFINITY);
        expect(v2.createdAt).toBeGreaterThanOrEqual(before);
        expect((await registry.registerVersion('mnist', { artifacts: files })).version).toBe(3);
        expect(await registry.getVersion('mnist', 2)).toEqual(v2);
        const model = await registry.getModel('mnist');
        expect(model).toMatchObject({ latestVersion: 3, versionCount: 3 });
        expect((await registry.listVersions('mnist')).map((v) => v.version)).toEqual([3, 2, 1]);
        expect(
          (await registry.listVersions('mnist', { status: 'deprecated' })).map((v) => v.version),
        ).toEqual([2]);
      });

      it('creates the model only when asked', async () => {
        await expectError(
          registry.registerVersion('fresh', { artifacts: files }),
          'NOT_FOUND',
          /no model "fresh".*createModel/,
        );
        const v = await registry.registerVersion('fresh', { artifacts: files, createModel: true });
        expect(v.version).toBe(1);
        expect((await registry.getModel('fresh')).versionCount).toBe(1);
      });

      it('refuses references to nothing and does not use up a version number doing so', async () => {
        await registry.createModel('mnist');
        const missing = { name: 'x.bin', sha256: 'a'.repeat(64), size: 3 };
        const e1 = await expectError(
          registry.registerVersion('mnist', { artifacts: [missing] }),
          'NOT_FOUND',
          /blob/,
        );
        expect(e1.location?.path).toBe('registerVersion.artifacts.0.sha256');
        const wrongSize = { ...files[0]!, size: 999 };
        await expectError(
          registry.registerVersion('mnist', { artifacts: [wrongSize] }),
          'INVALID_ARGUMENT',
          /registerVersion\.artifacts\.0\.size/,
        );
        await expectError(
          registry.registerVersion('mnist', { artifacts: files, sourceRunId: 'f'.repeat(32) }),
          'NOT_FOUND',
          /registerVersion\.sourceRunId/,
        );
        await expectError(
          registry.registerVersion('mnist', { artifacts: files, parentModel: { name: 'mnist', version: 7 } }),
          'NOT_FOUND',
          /registerVersion\.parentModel/,
        );
        await expectError(
          registry.registerVersion('mnist', { artifacts: [] }),
          'INVALID_ARGUMENT',
          /at least one/,
        );
        await expectError(
          registry.registerVersion('mnist', { artifacts: [files[0]!, files[0]!] }),
          'INVALID_ARGUMENT',
          /distinct artifact names/,
        );
        await expectError(
          registry.registerVersion('mnist', { artifacts: files, status: 'gone' as 'ready' }),
          'INVALID_ARGUMENT',
          /registerVersion\.status/,
        );
        await expectError(
          registry.registerVersion('mnist', { artifacts: files, status: 'archived', aliases: ['prod'] }),
          'CONFLICT',
        );
        expect((await registry.registerVersion('mnist', { artifacts: files })).version).toBe(1);
        expect(await registry.aliasHistory('mnist')).toEqual([]);
      });

      it('changes only status and tags afterwards', async () => {
        await registry.registerVersion('mnist', { artifacts: files, createModel: true, tags: { a: '1' } });
        const tagged = await registry.setVersionTags('mnist', 1, { a: 'one', b: '2' });
        expect(tagged.tags).toEqual({ a: 'one', b: '2' });
        const deprecated = await registry.setVersionStatus('mnist', 1, 'deprecated');
        expect(deprecated.status).toBe('deprecated');
        expect({ ...deprecated, tags: {}, status: 'ready' }).toEqual({
          ...(await registry.getVersion('mnist', 1)),
          tags: {},
          status: 'ready',
        });
        await expectError(registry.setVersionStatus('mnist', 1, 'live' as 'ready'), 'INVALID_ARGUMENT');
        await expectError(registry.setVersionTags('mnist', 2, { a: '1' }), 'NOT_FOUND', /versions 1 to 1/);
        await expectError(registry.getVersion('mnist', 0), 'INVALID_ARGUMENT', /getVersion\.version/);
      });

      it('gives distinct consecutive numbers to concurrent registrations through two connections', async () => {
        const other = await openStores(fx.uri);
        try {
          await registry.createModel('mnist');
          const versions = await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
              (i % 2 ? registry : other.registry).registerVersion('mnist', { artifacts: files }),
            ),
          );
          expect(versions.map((v) => v.version).sort((a, b) => a - b)).toEqual(
            Array.from({ length: 20 }, (_, i) => i + 1),
          );
        } finally {
          await other.close();
        }
      });
    });

    describe('resolve', () => {
      it('resolves model:version, model@alias and model (latest ready)', async () => {
        await registry.createModel('mnist');
        for (let i = 0; i < 4; i++) await registry.registerVersion('mnist', { artifacts: files });
        await registry.setVersionStatus('mnist', 4, 'deprecated');
        await registry.setVersionStatus('mnist', 3, 'archived');
        await registry.setAlias('mnist', 'champion', 1);
        expect((await registry.resolve('mnist:3')).version).toBe(3);
        expect((await registry.resolve('mnist@champion')).version).toBe(1);
        expect((await registry.resolve('mnist')).version).toBe(2);
        expect((await registry.resolve(' mnist@champion ')).aliases).toEqual(['champion']);
      });

      it('explains what is wrong with a reference', async () => {
        await registry.createModel('mnist');
        await expectError(registry.resolve('mnist'), 'NOT_FOUND', /no version with status "ready"/);
        await registry.registerVersion('mnist', { artifacts: files });
        await registry.setAlias('mnist', 'prod', 1);
        await expectError(registry.resolve('mnist@staging'), 'NOT_FOUND', /no alias @staging; it has @prod/);
        await expectError(registry.resolve('mnist:9'), 'NOT_FOUND', /no version 9/);
        await expectError(registry.resolve('ghost:1'), 'NOT_FOUND', /no model "ghost"/);
        for (const bad of ['mnist:0', 'mnist:x', 'mnist@', 'mnist@1x', 'Mnist', 'a:1:2', 'a@b:1', '']) {
          const err = await expectError(registry.resolve(bad), 'INVALID_ARGUMENT', /invalid model reference/);
          expect(err.location?.path).toBe('resolve.ref');
        }
      });
    });

    describe('aliases', () => {
      beforeEach(async () => {
        await registry.createModel('mnist');
        for (let i = 0; i < 3; i++) await registry.registerVersion('mnist', { artifacts: files });
      });

      it('moves an alias and records every move with who, when, from and why', async () => {
        const before = Date.now();
        const m1 = await registry.setAlias('mnist', 'champion', 1);
        const m2 = await registry.setAlias('mnist', 'champion', 2, { actor: 'bob', reason: 'better F1' });
        expect(AliasMoveSchema.parse(m2)).toEqual(m2);
        expect(m1).toMatchObject({
          action: 'set',
          fromVersion: null,
          toVersion: 1,
          actor: 'alice',
          reason: null,
        });
        expect(m2).toMatchObject({
          action: 'set',
          fromVersion: 1,
          toVersion: 2,
          actor: 'bob',
          reason: 'better F1',
        });
        expect(m2!.time).toBeGreaterThanOrEqual(before);
        expect(m2!.id).toBeGreaterThan(m1!.id);
        expect(await registry.setAlias('mnist', 'champion', 2)).toBeNull();
        await registry.setAlias('mnist', 'challenger', 3);
        expect((await registry.getModel('mnist')).aliases).toEqual({ champion: 2, challenger: 3 });
        expect((await registry.getVersion('mnist', 2)).aliases).toEqual(['champion']);
        expect(await registry.aliasHistory('mnist', 'champion')).toEqual([m1, m2]);
        expect((await registry.aliasHistory('mnist')).map((m) => m.alias)).toEqual([
          'champion',
          'champion',
          'challenger',
        ]);
      });

      it("uses $USER as the default actor, else 'unknown'", async () => {
        delete process.env['USER'];
        expect((await registry.setAlias('mnist', 'a', 1))?.actor).toBe('unknown');
        process.env['USER'] = 'carol';
        expect((await registry.setAlias('mnist', 'a', 2))?.actor).toBe('carol');
      });

      it('deletes an alias, recording the move', async () => {
        await registry.setAlias('mnist', 'champion', 1);
        const del = await registry.deleteAlias('mnist', 'champion', { reason: 'retired' });
        expect(del).toMatchObject({ action: 'delete', fromVersion: 1, toVersion: null, reason: 'retired' });
        await expectError(registry.resolve('mnist@champion'), 'NOT_FOUND');
        await expectError(registry.deleteAlias('mnist', 'champion'), 'NOT_FOUND', /no alias @champion/);
      });

      it('rolls back move by move, then refuses when there is nothing earlier', async () => {
        await registry.setAlias('mnist', 'champion', 1);
        const to2 = await registry.setAlias('mnist', 'champion', 2);
        const to3 = await registry.setAlias('mnist', 'champion', 3);
        const r1 = await registry.rollbackAlias('mnist', 'champion', { reason: 'v3 regressed' });
        expect(r1).toMatchObject({
          action: 'rollback',
          fromVersion: 3,
          toVersion: 2,
          undoes: to3!.id,
          reason: 'v3 regressed',
        });
        const r2 = await registry.rollbackAlias('mnist', 'champion');
        expect(r2).toMatchObject({ fromVersion: 2, toVersion: 1, undoes: to2!.id });
        expect((await registry.resolve('mnist@champion')).version).toBe(1);
        await expectError(
          registry.rollbackAlias('mnist', 'champion'),
          'CONFLICT',
          /no earlier version.*created pointing at version 1/,
        );
        await expectError(registry.rollbackAlias('mnist', 'never'), 'NOT_FOUND', /never been set/);
        expect(
          (await registry.aliasHistory('mnist', 'champion')).map((m) => `${m.action}:${m.toVersion}`),
        ).toEqual(['set:1', 'set:2', 'set:3', 'rollback:2', 'rollback:1']);
      });

      it('rolls back a deletion by re-creating the alias', async () => {
        await registry.setAlias('mnist', 'champion', 2);
        await registry.deleteAlias('mnist', 'champion');
        const back = await registry.rollbackAlias('mnist', 'champion');
        expect(back).toMatchObject({ fromVersion: null, toVersion: 2 });
        expect((await registry.resolve('mnist@champion')).version).toBe(2);
      });

      it('keeps aliases off archived versions', async () => {
        await registry.setAlias('mnist', 'champion', 1);
        await registry.setAlias('mnist', 'champion', 2);
        await expectError(registry.setVersionStatus('mnist', 2, 'archived'), 'CONFLICT', /@champion/);
        await registry.setVersionStatus('mnist', 1, 'archived');
        await expectError(registry.setAlias('mnist', 'other', 1), 'CONFLICT', /archived/);
        await expectError(registry.rollbackAlias('mnist', 'champion'), 'CONFLICT', /archived/);
        expect((await registry.resolve('mnist@champion')).version).toBe(2);
      });

      it('sets aliases given at registration in the same transaction', async () => {
        const v = await registry.registerVersion('mnist', {
          artifacts: files,
          aliases: ['champion', 'latest-good'],
          actor: 'ci',
          reason: 'nightly',
        });
        expect(v.aliases).toEqual(['champion', 'latest-good']);
        expect(await registry.aliasHistory('mnist')).toEqual([
          expect.objectContaining({ alias: 'champion', toVersion: 4, actor: 'ci', reason: 'nightly' }),
          expect.objectContaining({ alias: 'latest-good', toVersion: 4, actor: 'ci', reason: 'nightly' }),
        ]);
      });

      it('validates alias names and versions', async () => {
        await expectError(registry.setAlias('mnist', 'Champion', 1), 'INVALID_ARGUMENT', /setAlias\.alias/);
        await expectError(registry.setAlias('mnist', '1st', 1), 'INVALID_ARGUMENT', /starting with a letter/);
        await expectError(registry.setAlias('mnist', 'x', 9), 'NOT_FOUND', /no version 9/);
        await expectError(registry.setAlias('ghost', 'x', 1), 'NOT_FOUND', /no model "ghost"/);
        expect(await registry.aliasHistory('mnist')).toEqual([]);
      });
    });

    describe('registerRun', () => {
      it("points the version at the run's blobs and takes its test metrics, params and fingerprint", async () => {
        const run = await makeRun(
          tracking,
          { 'model/model.json': '{}', 'model/weights.bin': 'weights', 'evaluation.json': '{"a":1}' },
          { metrics: { test_accuracy: 0.9, test_f1_macro: 0.88, loss: 0.1 }, dataFingerprint: 'fp-1' },
        );
        const v = await registerRun(tracking, registry, run.id.slice(0, 8), 'mnist', {
          aliases: ['challenger'],
          tags: { source: 'cli' },
          description: 'first',
        });
        expect(v).toMatchObject({
          model: 'mnist',
          version: 1,
          sourceRunId: run.id,
          dataFingerprint: 'fp-1',
          metrics: { test_accuracy: 0.9, test_f1_macro: 0.88 },
          params: { lr: 0.01, layers: [8, 4] },
          tags: { source: 'cli' },
          description: 'first',
          aliases: ['challenger'],
        });
        expect(v.artifacts).toEqual([...run.artifacts].sort((a, b) => (a.name < b.name ? -1 : 1)));
        for (const a of v.artifacts)
          expect(await tracking.artifactPath(a.sha256)).toMatch(new RegExp(a.sha256));
      });

      it('refuses unfinished runs, runs without artifacts and a registry of another store', async () => {
        const running = await makeRun(tracking, { 'a.bin': 'a' }, { finish: false });
        await expectError(registerRun(tracking, registry, running.id, 'mnist'), 'CONFLICT', /is running/);
        const empty = await makeRun(tracking, {});
        await expectError(registerRun(tracking, registry, empty.id, 'mnist'), 'CONFLICT', /no artifacts/);
        const elsewhere = { ...registry, location: 'sqlite:/elsewhere' } as ModelRegistry;
        await expectError(registerRun(tracking, elsewhere, empty.id, 'mnist'), 'INVALID_ARGUMENT', /differ/);
        await expectError(registry.getModel('mnist'), 'NOT_FOUND');
      });
    });

    describe('durability and processes', () => {
      it('keeps everything across close and reopen, and fails clearly once closed', async () => {
        await registry.registerVersion('mnist', { artifacts: files, createModel: true, aliases: ['prod'] });
        const before = {
          model: await registry.getModel('mnist'),
          history: await registry.aliasHistory('mnist'),
        };
        await stores.close();
        await stores.close();
        await expectError(registry.getModel('mnist'), 'STORE', /closed/);
        stores = await openStores(fx.uri);
        registry = stores.registry;
        expect(await registry.getModel('mnist')).toEqual(before.model);
        expect(await registry.aliasHistory('mnist')).toEqual(before.history);
      });

      it('gives 40 distinct versions to two processes registering 20 each at once', async () => {
        const base = { mode: 'register', uri: fx.uri, model: 'shared', count: 20, artifacts: files };
        const [a, b] = await Promise.all([
          runWorker({ ...base, label: 'a' }),
          runWorker({ ...base, label: 'b' }),
        ]);
        const va = JSON.parse(a!.stdout) as number[];
        const vb = JSON.parse(b!.stdout) as number[];
        expect([...va, ...vb].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
        const listed = await registry.listVersions('shared');
        expect(listed).toHaveLength(40);
        for (const v of listed) {
          expect(v.artifacts).toEqual(files);
          expect(v.tags['worker']).toMatch(/^[ab]$/);
        }
      });

      it('leaves no trace of a registration killed with SIGKILL inside its transaction', async () => {
        await registry.registerVersion('mnist', {
          artifacts: files,
          createModel: true,
          aliases: ['champion'],
        });
        const before = {
          model: await registry.getModel('mnist'),
          history: await registry.aliasHistory('mnist'),
        };
        const killed = await runWorker(
          { mode: 'hang', uri: fx.uri, model: 'mnist', count: 1, label: 'victim', artifacts: files },
          'IN_TRANSACTION',
        );
        expect(killed.signal).toBe('SIGKILL');
        expect(killed.stdout).toContain('IN_TRANSACTION');

        expect(await registry.getModel('mnist')).toEqual(before.model);
        expect(await registry.aliasHistory('mnist')).toEqual(before.history);
        await expectError(registry.getVersion('mnist', 2), 'NOT_FOUND');
        for (const table of [
          'model_versions',
          'model_version_artifacts',
          'model_version_metrics',
          'model_version_tags',
        ]) {
          expect(await fx.rawQuery(`SELECT * FROM ${table} WHERE version = 2`), table).toEqual([]);
        }

        const next = await registry.registerVersion('mnist', { artifacts: files, aliases: ['champion'] });
        expect(next.version).toBe(2);
        expect(next.artifacts).toEqual(files);
        expect((await registry.resolve('mnist@champion')).version).toBe(2);
      });
    });
  });
}
