/**
 * The behaviour every TrackingStore backend must have. A backend's test file calls
 * describeTrackingStoreContract with a factory that opens a fresh, empty store.
 */
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelautoError, type ErrorCode } from '../../src/core/errors.js';
import { sha256 } from '../../src/core/hash.js';
import { RunRecordSchema, type RunRecord } from '../../src/store/types.js';
import type { TrackingStore } from '../../src/store/tracking-store.js';

export interface TrackingStoreFixture {
  store: TrackingStore;
  /** Opens another handle on the same store (used after closing `store` to check persistence). */
  reopen: () => Promise<TrackingStore>;
  cleanup: () => Promise<void>;
}

/** Asserts that `promise` rejects with a ModelautoError of `code` whose message matches `message`. */
export async function expectError(
  promise: Promise<unknown>,
  code: ErrorCode,
  message?: RegExp,
): Promise<ModelautoError> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a rejection').toBeInstanceOf(ModelautoError);
  const err = caught as ModelautoError;
  expect(err.code, err.message).toBe(code);
  if (message) expect(err.message).toMatch(message);
  return err;
}

const UNKNOWN_ID = '0123456789abcdef0123456789abcdef';

export function describeTrackingStoreContract(
  name: string,
  makeStore: () => Promise<TrackingStoreFixture>,
): void {
  describe(`TrackingStore contract: ${name}`, () => {
    let fx: TrackingStoreFixture;
    let store: TrackingStore;
    beforeEach(async () => {
      fx = await makeStore();
      store = fx.store;
    });
    afterEach(async () => {
      await store.close();
      await fx.cleanup();
    });

    describe('createRun / getRun', () => {
      it('creates a running run with every field filled', async () => {
        const before = Date.now();
        const run = await store.createRun({
          name: 'baseline',
          kind: 'train',
          params: { lr: 0.01, layers: [64, 32], opts: { a: 1 } },
          tags: { owner: 'me' },
          dataFingerprint: 'abc123',
          gitCommit: 'deadbeef',
        });
        expect(RunRecordSchema.parse(run)).toEqual(run);
        expect(run.id).toMatch(/^[0-9a-f]{32}$/);
        expect(run).toMatchObject({
          name: 'baseline',
          kind: 'train',
          status: 'running',
          error: null,
          params: { lr: 0.01, layers: [64, 32], opts: { a: 1 } },
          tags: { owner: 'me' },
          metrics: {},
          artifacts: [],
          dataFingerprint: 'abc123',
          gitCommit: 'deadbeef',
          parentRunId: null,
          endTime: null,
        });
        expect(run.startTime).toBeGreaterThanOrEqual(before);
        expect(run.startTime).toBeLessThanOrEqual(Date.now());
        expect(await store.getRun(run.id)).toEqual(run);
      });

      it('defaults the name from the kind and the id', async () => {
        const run = await store.createRun({ kind: 'evaluate' });
        expect(run.name).toBe(`evaluate-${run.id.slice(0, 8)}`);
        expect(run.dataFingerprint).toBeNull();
        expect(run.gitCommit).toBeNull();
      });

      it('links a child run to an existing parent and refuses an unknown parent', async () => {
        const parent = await store.createRun({ kind: 'optimize' });
        const child = await store.createRun({ kind: 'train', parentRunId: parent.id });
        expect(child.parentRunId).toBe(parent.id);
        await expectError(
          store.createRun({ kind: 'train', parentRunId: UNKNOWN_ID }),
          'NOT_FOUND',
          new RegExp(UNKNOWN_ID),
        );
        expect(await store.listRuns()).toHaveLength(2);
      });

      it('validates input and names the field', async () => {
        const err = await expectError(store.createRun({ kind: '' }), 'INVALID_ARGUMENT', /createRun\.kind/);
        expect(err.location?.path).toBe('createRun.kind');
        await expectError(
          store.createRun({ kind: 'train', params: { bad: Number.NaN } }),
          'INVALID_ARGUMENT',
          /createRun\.params\.bad/,
        );
        await expectError(
          store.createRun({ kind: 'train', parentRunId: 'xyz' }),
          'INVALID_ARGUMENT',
          /32 lowercase hex/,
        );
      });

      it('reports an unknown run as NOT_FOUND and a malformed id as INVALID_ARGUMENT', async () => {
        await expectError(store.getRun(UNKNOWN_ID), 'NOT_FOUND', new RegExp(UNKNOWN_ID));
        await expectError(store.getRun('not-an-id'), 'INVALID_ARGUMENT', /getRun\.runId/);
      });

      it('gives distinct ids to many runs', async () => {
        const runs = await Promise.all(Array.from({ length: 20 }, () => store.createRun({ kind: 'train' })));
        expect(new Set(runs.map((r) => r.id)).size).toBe(20);
      });
    });

    describe('params', () => {
      it('adds params and treats an equal value as a no-op, whatever the key order', async () => {
        const run = await store.createRun({ kind: 'train', params: { lr: 0.1, cfg: { a: 1, b: [1, 2] } } });
        await store.logParams(run.id, { epochs: 3, cfg: { b: [1, 2], a: 1 }, lr: 0.1 });
        expect((await store.getRun(run.id)).params).toEqual({ lr: 0.1, cfg: { a: 1, b: [1, 2] }, epochs: 3 });
      });

      it('refuses a different value for a logged key (CONFLICT) and applies nothing of that call', async () => {
        const run = await store.createRun({ kind: 'train', params: { lr: 0.1 } });
        const err = await expectError(
          store.logParams(run.id, { seed: 7, lr: 0.2 }),
          'CONFLICT',
          /lr.*0\.1.*0\.2/,
        );
        expect(err.location?.path).toBe('logParams.params.lr');
        expect((await store.getRun(run.id)).params).toEqual({ lr: 0.1 });
        await expectError(store.logParams(run.id, { lr: '0.1' }), 'CONFLICT');
        await expectError(store.logParams(run.id, { lr: null }), 'CONFLICT');
      });

      it('round-trips every JSON value kind', async () => {
        const params = {
          s: 'x',
          n: -1.5e-7,
          b: false,
          z: null,
          arr: [1, 'a', [true]],
          obj: { nested: { deep: [] } },
        };
        const run = await store.createRun({ kind: 'train' });
        await store.logParams(run.id, params);
        expect((await store.getRun(run.id)).params).toEqual(params);
      });

      it('refuses params on an unknown run', async () => {
        await expectError(store.logParams(UNKNOWN_ID, { a: 1 }), 'NOT_FOUND');
      });
    });

    describe('tags', () => {
      it('sets and overwrites tags', async () => {
        const run = await store.createRun({ kind: 'train', tags: { a: '1', b: '2' } });
        await store.setTags(run.id, { b: 'two', c: '3' });
        expect((await store.getRun(run.id)).tags).toEqual({ a: '1', b: 'two', c: '3' });
        await expectError(
          store.setTags(run.id, { a: 1 as unknown as string }),
          'INVALID_ARGUMENT',
          /setTags\.tags\.a/,
        );
        await expectError(store.setTags(UNKNOWN_ID, { a: '1' }), 'NOT_FOUND');
      });
    });

    describe('metrics', () => {
      it('keeps the full history ordered by step then timestamp, and the latest point per key', async () => {
        const run = await store.createRun({ kind: 'train' });
        await store.logMetric(run.id, 'loss', 0.5, 2, 1000);
        await store.logMetric(run.id, 'loss', 0.9, 0, 3000);
        await store.logMetric(run.id, 'loss', 0.7, 1, 2000);
        await store.logMetric(run.id, 'loss', 0.6, 1, 1500);
        await store.logMetric(run.id, 'acc', 0.8, 0, 1000);
        expect(await store.getMetricHistory(run.id, 'loss')).toEqual([
          { key: 'loss', value: 0.9, step: 0, timestamp: 3000 },
          { key: 'loss', value: 0.6, step: 1, timestamp: 1500 },
          { key: 'loss', value: 0.7, step: 1, timestamp: 2000 },
          { key: 'loss', value: 0.5, step: 2, timestamp: 1000 },
        ]);
        expect((await store.getRun(run.id)).metrics).toEqual({
          loss: { key: 'loss', value: 0.5, step: 2, timestamp: 1000 },
          acc: { key: 'acc', value: 0.8, step: 0, timestamp: 1000 },
        });
      });

      it('appends a repeated point instead of replacing it', async () => {
        const run = await store.createRun({ kind: 'train' });
        await store.logMetric(run.id, 'loss', 1, 0, 10);
        await store.logMetric(run.id, 'loss', 2, 0, 10);
        expect((await store.getMetricHistory(run.id, 'loss')).map((p) => p.value)).toEqual([1, 2]);
        expect((await store.getRun(run.id)).metrics['loss']?.value).toBe(2);
      });

      it('defaults the timestamp to now', async () => {
        const run = await store.createRun({ kind: 'train' });
        const before = Date.now();
        await store.logMetric(run.id, 'loss', 1, 0);
        const [point] = await store.getMetricHistory(run.id, 'loss');
        expect(point?.timestamp).toBeGreaterThanOrEqual(before);
        expect(point?.timestamp).toBeLessThanOrEqual(Date.now());
      });

      it('round-trips NaN and ±Infinity', async () => {
        const run = await store.createRun({ kind: 'train' });
        await store.logMetrics(run.id, [
          { key: 'loss', value: Number.NaN, step: 0, timestamp: 1 },
          { key: 'loss', value: Number.POSITIVE_INFINITY, step: 1, timestamp: 2 },
          { key: 'loss', value: Number.NEGATIVE_INFINITY, step: 2, timestamp: 3 },
          { key: 'gap', value: Number.NaN, step: 5, timestamp: 4 },
        ]);
        const values = (await store.getMetricHistory(run.id, 'loss')).map((p) => p.value);
        expect(Number.isNaN(values[0])).toBe(true);
        expect(values.slice(1)).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
        const latest = (await store.getRun(run.id)).metrics;
        expect(latest['loss']?.value).toBe(Number.NEGATIVE_INFINITY);
        expect(Number.isNaN(latest['gap']?.value)).toBe(true);
      });

      it('logs a batch all or nothing', async () => {
        const run = await store.createRun({ kind: 'train' });
        await expectError(
          store.logMetrics(run.id, [
            { key: 'loss', value: 1, step: 0 },
            { key: 'loss', value: 1, step: 0.5 },
          ]),
          'INVALID_ARGUMENT',
          /logMetrics\.points\.1\.step/,
        );
        expect(await store.getMetricHistory(run.id, 'loss')).toEqual([]);
        await expectError(store.logMetrics(UNKNOWN_ID, [{ key: 'loss', value: 1, step: 0 }]), 'NOT_FOUND');
        expect(await store.getMetricHistory(run.id, 'loss')).toEqual([]);
      });

      it('rejects a non-number value, an empty key and an unknown run', async () => {
        const run = await store.createRun({ kind: 'train' });
        await expectError(
          store.logMetric(run.id, 'loss', '1' as unknown as number, 0),
          'INVALID_ARGUMENT',
          /number/,
        );
        await expectError(store.logMetric(run.id, '', 1, 0), 'INVALID_ARGUMENT', /logMetric\.key/);
        await expectError(store.logMetric(UNKNOWN_ID, 'loss', 1, 0), 'NOT_FOUND');
        await expectError(store.getMetricHistory(UNKNOWN_ID, 'loss'), 'NOT_FOUND');
      });
    });

    describe('artifacts', () => {
      it('stores content given as a string, bytes or a file, and reads it back', async () => {
        const run = await store.createRun({ kind: 'train' });
        const text = await store.logArtifact(run.id, { name: 'notes', data: 'héllo' });
        expect(text).toMatchObject({
          name: 'notes',
          sha256: sha256('héllo'),
          size: Buffer.byteLength('héllo'),
          contentType: 'text/plain; charset=utf-8',
        });
        const bytes = new Uint8Array([0, 1, 2, 255]);
        const bin = await store.logArtifact(
          run.id,
          { name: 'weights.bin', data: bytes },
          { contentType: 'application/x-weights' },
        );
        expect(bin).toMatchObject({ sha256: sha256(bytes), size: 4, contentType: 'application/x-weights' });

        const dir = await mkdtemp(join(tmpdir(), 'modelauto-contract-'));
        try {
          const file = join(dir, 'model.json');
          await writeFile(file, '{"a":1}');
          const fromFile = await store.logArtifact(run.id, { name: 'model/model.json', path: file });
          expect(fromFile).toMatchObject({
            sha256: sha256('{"a":1}'),
            size: 7,
            contentType: 'application/json',
          });
          await writeFile(file, 'changed later');
          expect((await store.readArtifact(run.id, 'model/model.json')).toString()).toBe('{"a":1}');
        } finally {
          await rm(dir, { recursive: true, force: true });
        }

        expect((await store.readArtifact(run.id, 'notes')).toString('utf8')).toBe('héllo');
        expect([...(await store.readArtifact(run.id, 'weights.bin'))]).toEqual([0, 1, 2, 255]);
        const listed = (await store.getRun(run.id)).artifacts;
        expect(listed.map((a) => a.name)).toEqual(['model/model.json', 'notes', 'weights.bin']);
        expect(listed.find((a) => a.name === 'notes')).toEqual(text);
      });

      it('gives each run its own working folder', async () => {
        const a = await store.createRun({ kind: 'train' });
        const b = await store.createRun({ kind: 'train' });
        const da = await store.runDir(a.id);
        expect(existsSync(da)).toBe(true);
        expect(await store.runDir(a.id)).toBe(da);
        expect(await store.runDir(b.id)).not.toBe(da);
        await expectError(store.runDir('f'.repeat(32)), 'NOT_FOUND');
      });

      it('stores identical content once (same blob for every run and name)', async () => {
        const a = await store.createRun({ kind: 'train' });
        const b = await store.createRun({ kind: 'train' });
        const ra = await store.logArtifact(a.id, { name: 'x', data: 'same bytes' });
        const rb = await store.logArtifact(b.id, { name: 'y', data: Buffer.from('same bytes') });
        expect(rb.sha256).toBe(ra.sha256);
        const path = await store.artifactPath(ra.sha256);
        expect(path).toMatch(new RegExp(`${ra.sha256}$`));
        expect(await store.artifactPath(rb.sha256)).toBe(path);
        expect(path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path)).toBe(true);
      });

      it('treats a name as immutable: same content is a no-op, different content is CONFLICT', async () => {
        const run = await store.createRun({ kind: 'train' });
        const first = await store.logArtifact(run.id, { name: 'report.json', data: '{"ok":true}' });
        expect(await store.logArtifact(run.id, { name: 'report.json', data: '{"ok":true}' })).toEqual(first);
        await expectError(
          store.logArtifact(run.id, { name: 'report.json', data: '{"ok":false}' }),
          'CONFLICT',
          /report\.json/,
        );
        expect((await store.readArtifact(run.id, 'report.json')).toString()).toBe('{"ok":true}');
        expect((await store.getRun(run.id)).artifacts).toHaveLength(1);
      });

      it('detects a corrupted blob on read, and re-logging the content repairs it', async () => {
        const run = await store.createRun({ kind: 'train' });
        const rec = await store.logArtifact(run.id, { name: 'model.bin', data: 'original content' });
        const path = await store.artifactPath(rec.sha256);
        await writeFile(path, 'tampered content');
        await expectError(store.readArtifact(run.id, 'model.bin'), 'STORE', /corrupted.*expected sha256/);
        await store.logArtifact(run.id, { name: 'model.bin', data: 'original content' });
        expect((await store.readArtifact(run.id, 'model.bin')).toString()).toBe('original content');
      });

      it('reports unknown runs, names, digests and source files', async () => {
        const run = await store.createRun({ kind: 'train' });
        await store.logArtifact(run.id, { name: 'a.txt', data: 'a' });
        await expectError(store.readArtifact(run.id, 'b.txt'), 'NOT_FOUND', /"b\.txt".*"a\.txt"/);
        await expectError(store.readArtifact(UNKNOWN_ID, 'a.txt'), 'NOT_FOUND');
        await expectError(store.logArtifact(UNKNOWN_ID, { name: 'a', data: 'a' }), 'NOT_FOUND');
        await expectError(store.artifactPath(sha256('never stored')), 'NOT_FOUND');
        await expectError(store.artifactPath('abc'), 'INVALID_ARGUMENT', /64/);
        await expectError(
          store.logArtifact(run.id, { name: 'f', path: join(tmpdir(), 'modelauto-does-not-exist-42') }),
          'NOT_FOUND',
          /modelauto-does-not-exist-42/,
        );
        await expectError(store.logArtifact(run.id, { name: '', data: 'x' }), 'INVALID_ARGUMENT');
      });
    });

    describe('finishRun', () => {
      it('finishes a running run once', async () => {
        const run = await store.createRun({ kind: 'train' });
        const done = await store.finishRun(run.id, 'finished');
        expect(done.status).toBe('finished');
        expect(done.error).toBeNull();
        expect(done.endTime).toBeGreaterThanOrEqual(run.startTime);
        await expectError(store.finishRun(run.id, 'failed', 'late'), 'CONFLICT', /already finished/);
        expect((await store.getRun(run.id)).status).toBe('finished');
      });

      it('records the error of a failed or interrupted run', async () => {
        const a = await store.createRun({ kind: 'train' });
        const b = await store.createRun({ kind: 'train' });
        expect(await store.finishRun(a.id, 'failed', 'out of memory')).toMatchObject({
          status: 'failed',
          error: 'out of memory',
        });
        expect(await store.finishRun(b.id, 'interrupted')).toMatchObject({
          status: 'interrupted',
          error: null,
        });
      });

      it('rejects bad statuses, an error with "finished" and unknown runs', async () => {
        const run = await store.createRun({ kind: 'train' });
        await expectError(
          store.finishRun(run.id, 'running' as 'finished'),
          'INVALID_ARGUMENT',
          /finishRun\.status/,
        );
        await expectError(store.finishRun(run.id, 'finished', 'oops'), 'INVALID_ARGUMENT', /failed/);
        expect((await store.getRun(run.id)).status).toBe('running');
        await expectError(store.finishRun(UNKNOWN_ID, 'finished'), 'NOT_FOUND');
      });
    });

    describe('resolveRunId', () => {
      it('resolves a full id and a unique prefix, case-insensitively', async () => {
        const run = await store.createRun({ kind: 'train' });
        expect(await store.resolveRunId(run.id)).toBe(run.id);
        expect(await store.resolveRunId(run.id.slice(0, 6))).toBe(run.id);
        expect(await store.resolveRunId(run.id.slice(0, 8).toUpperCase())).toBe(run.id);
      });

      it('rejects short or non-hex prefixes and reports unknown ones', async () => {
        await expectError(store.resolveRunId('abc'), 'INVALID_ARGUMENT', /at least 4/);
        await expectError(store.resolveRunId('zzzz'), 'INVALID_ARGUMENT');
        await expectError(store.resolveRunId(UNKNOWN_ID), 'NOT_FOUND');
      });

      it('lists the candidates of an ambiguous prefix', async () => {
        // Ids are random: create runs until two share a 4-character prefix (expected after ~320 runs).
        const byPrefix = new Map<string, RunRecord>();
        let pair: [RunRecord, RunRecord] | undefined;
        for (let i = 0; i < 3000 && !pair; i++) {
          const run = await store.createRun({ kind: 'train', name: `r${i}` });
          const other = byPrefix.get(run.id.slice(0, 4));
          if (other) pair = [other, run];
          byPrefix.set(run.id.slice(0, 4), run);
        }
        expect(pair).toBeDefined();
        const [a, b] = pair as [RunRecord, RunRecord];
        const err = await expectError(store.resolveRunId(a.id.slice(0, 4)), 'INVALID_ARGUMENT', /ambiguous/);
        expect(err.message).toContain(a.id);
        expect(err.message).toContain(b.id);
        expect(await store.resolveRunId(a.id)).toBe(a.id);
      });
    });

    describe('listRuns', () => {
      it('lists newest first, filters and pages', async () => {
        const t1 = await store.createRun({ kind: 'train', name: 'one' });
        const e1 = await store.createRun({ kind: 'evaluate', name: 'two' });
        const t2 = await store.createRun({ kind: 'train', name: 'one' });
        await store.finishRun(t1.id, 'finished');
        const ids = async (f?: Parameters<TrackingStore['listRuns']>[0]) =>
          (await store.listRuns(f)).map((r) => r.id);
        expect(await ids()).toEqual([t2.id, e1.id, t1.id]);
        expect(await ids({ kind: 'train' })).toEqual([t2.id, t1.id]);
        expect(await ids({ status: 'running' })).toEqual([t2.id, e1.id]);
        expect(await ids({ name: 'one', status: 'finished' })).toEqual([t1.id]);
        expect(await ids({ limit: 2 })).toEqual([t2.id, e1.id]);
        expect(await ids({ limit: 2, offset: 2 })).toEqual([t1.id]);
        expect(await ids({ offset: 1 })).toEqual([e1.id, t1.id]);
        expect(await ids({ kind: 'optimize' })).toEqual([]);
        const [full] = await store.listRuns({ kind: 'evaluate' });
        expect(full).toEqual(await store.getRun(e1.id));
      });

      it('validates the filter', async () => {
        await expectError(store.listRuns({ limit: 0 }), 'INVALID_ARGUMENT', /listRuns\.limit/);
        await expectError(
          store.listRuns({ status: 'done' as 'finished' }),
          'INVALID_ARGUMENT',
          /listRuns\.status/,
        );
      });
    });

    describe('lifecycle', () => {
      it('keeps everything across close and reopen', async () => {
        const parent = await store.createRun({ kind: 'optimize' });
        const run = await store.createRun({
          kind: 'train',
          name: 'persisted',
          params: { lr: 0.5 },
          tags: { t: 'v' },
          parentRunId: parent.id,
          dataFingerprint: 'fp',
          gitCommit: 'c0ffee',
        });
        await store.logMetric(run.id, 'loss', Number.NaN, 0, 5);
        await store.logMetric(run.id, 'loss', 0.25, 1, 6);
        await store.logArtifact(run.id, { name: 'a.txt', data: 'persisted bytes' });
        await store.finishRun(run.id, 'failed', 'boom');
        const before = await store.getRun(run.id);
        await store.close();

        store = await fx.reopen();
        expect(await store.getRun(run.id)).toEqual(before);
        const history = await store.getMetricHistory(run.id, 'loss');
        expect(Number.isNaN(history[0]?.value)).toBe(true);
        expect(history[1]).toEqual({ key: 'loss', value: 0.25, step: 1, timestamp: 6 });
        expect((await store.readArtifact(run.id, 'a.txt')).toString()).toBe('persisted bytes');
        expect((await store.listRuns()).map((r) => r.id)).toEqual([run.id, parent.id]);
        await expectError(store.logParams(run.id, { lr: 0.6 }), 'CONFLICT');
      });

      it('fails clearly after close, and close is idempotent', async () => {
        const run = await store.createRun({ kind: 'train' });
        await store.close();
        await store.close();
        await expectError(store.getRun(run.id), 'STORE', /closed/);
        await expectError(store.createRun({ kind: 'train' }), 'STORE', /closed/);
        store = await fx.reopen();
        expect((await store.getRun(run.id)).id).toBe(run.id);
      });
    });
  });
}
