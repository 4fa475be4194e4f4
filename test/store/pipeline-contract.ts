/**
 * The behaviour every PipelineStore backend must have. A backend's test file calls
 * describePipelineStoreContract with a factory that makes a fresh, empty store and returns its URI;
 * the suite opens it through openPipelineStore (so the URI wiring is tested too).
 */
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTrackingStore } from '../../src/store/open.js';
import { openPipelineStore } from '../../src/store/pipeline-open.js';
import { processOwner } from '../../src/store/pipeline-sql.js';
import {
  PipelineRunRecordSchema,
  type CreatePipelineRunInput,
  type PipelineStore,
} from '../../src/store/pipeline-types.js';
import type { TrackingStore } from '../../src/store/tracking-store.js';
import { expectError } from './contract.js';

export interface PipelineStoreFixture {
  uri: string;
  cleanup: () => Promise<void>;
}

const UNKNOWN_ID = '0123456789abcdef0123456789abcdef';

function input(overrides: Partial<CreatePipelineRunInput> = {}): CreatePipelineRunInput {
  return {
    name: 'demo',
    spec: { name: 'demo', steps: { a: { uses: 'train' } } },
    params: { epochs: 2 },
    file: '/tmp/demo.yaml',
    baseDir: '/tmp',
    executor: 'local',
    codeVersion: '0.1.0',
    owner: processOwner(),
    steps: [
      { stepId: 'train', uses: 'train', needs: [] },
      { stepId: 'gate', uses: 'gate', needs: ['train'] },
    ],
    ...overrides,
  };
}

/** The pid of a process that has exited: an owner that is certainly gone. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

export function describePipelineStoreContract(
  name: string,
  makeStore: () => Promise<PipelineStoreFixture>,
): void {
  describe(`PipelineStore contract: ${name}`, () => {
    let fx: PipelineStoreFixture;
    let store: PipelineStore;
    let tracking: TrackingStore;
    beforeEach(async () => {
      fx = await makeStore();
      store = await openPipelineStore(fx.uri);
      tracking = await openTrackingStore(fx.uri);
    });
    afterEach(async () => {
      await store.close();
      await tracking.close();
      await fx.cleanup();
    });

    it('creates a running run with its steps pending, in order, and reads it back', async () => {
      const r = await store.createRun(input());
      expect(PipelineRunRecordSchema.parse(r)).toEqual(r);
      expect(r.status).toBe('running');
      expect(r.attempts).toBe(1);
      expect(r.params).toEqual({ epochs: 2 });
      expect(r.steps.map((s) => [s.stepId, s.position, s.status, s.needs])).toEqual([
        ['train', 0, 'pending', []],
        ['gate', 1, 'pending', ['train']],
      ]);
      expect(await store.getRun(r.id)).toEqual(r);
      expect(await store.resolveRunId(r.id.slice(0, 6))).toBe(r.id);
      await expectError(store.getRun(UNKNOWN_ID), 'NOT_FOUND', /no pipeline run/);
      await expectError(store.resolveRunId('xyz'), 'INVALID_ARGUMENT', /at least 4 hex/);
      await expectError(
        store.createRun(input({ steps: [] })),
        'INVALID_ARGUMENT',
        /expected at least one step/,
      );
      await expectError(
        store.createRun(
          input({
            steps: [
              { stepId: 'a', uses: 'train', needs: [] },
              { stepId: 'a', uses: 'gate', needs: [] },
            ],
          }),
        ),
        'INVALID_ARGUMENT',
        /duplicate step id "a"/,
      );
    });

    it('lists runs newest first, filtered by status and name', async () => {
      const a = await store.createRun(input({ name: 'a' }));
      const b = await store.createRun(input({ name: 'b' }));
      await store.finishRun(a.id, 'failed', 'boom');
      expect((await store.listRuns()).map((r) => r.id)).toEqual([b.id, a.id]);
      expect((await store.listRuns({ status: 'failed' })).map((r) => r.id)).toEqual([a.id]);
      expect((await store.listRuns({ name: 'b' })).map((r) => r.id)).toEqual([b.id]);
      expect(await store.listRuns({ limit: 1 })).toHaveLength(1);
      expect((await store.listRuns())[1]?.steps).toHaveLength(2);
    });

    it('updates only the step fields given', async () => {
      const r = await store.createRun(input());
      const s = await store.updateStep(r.id, 'train', {
        status: 'running',
        cacheKey: 'k1',
        inputs: { lr: 0.1, nested: { b: 1, a: [1, 2] } },
        attempt: 1,
        taskId: 'task-1',
        startTime: 1000,
      });
      expect(s).toMatchObject({
        status: 'running',
        cacheKey: 'k1',
        attempt: 1,
        taskId: 'task-1',
        startTime: 1000,
      });
      expect(s.inputs).toEqual({ lr: 0.1, nested: { a: [1, 2], b: 1 } });
      const done = await store.updateStep(r.id, 'train', {
        status: 'cached',
        cached: true,
        outputs: { run_id: 'x' },
        progress: 1,
        endTime: 2000,
      });
      expect(done).toMatchObject({
        status: 'cached',
        cached: true,
        cacheKey: 'k1',
        outputs: { run_id: 'x' },
      });
      expect(done.startTime).toBe(1000);
      await expectError(store.updateStep(r.id, 'nope', { status: 'failed' }), 'NOT_FOUND', /no step "nope"/);
      await expectError(store.updateStep(r.id, 'train', { progress: 2 }), 'INVALID_ARGUMENT');
    });

    it('finishes a run once; a finished run has no error', async () => {
      const r = await store.createRun(input());
      await expectError(store.finishRun(r.id, 'finished', 'x'), 'INVALID_ARGUMENT', /no error/);
      const g = await store.finishRun(r.id, 'gated', 'gate: test_accuracy 0.9 < 0.95');
      expect(g).toMatchObject({ status: 'gated', error: 'gate: test_accuracy 0.9 < 0.95', owner: null });
      expect(g.endTime).not.toBeNull();
      await expectError(store.finishRun(r.id, 'failed'), 'CONFLICT', /is gated, not running/);
    });

    it('lets a resume claim interrupted, failed and abandoned runs, never finished or live ones', async () => {
      const me = processOwner();
      const live = await store.createRun(input());
      await expectError(store.claimRun(live.id, 'other:1'), 'CONFLICT', /this process/);
      const forced = await store.claimRun(live.id, 'host-b:7', { force: true });
      expect(forced).toMatchObject({ owner: 'host-b:7', attempts: 2, status: 'running' });
      await expectError(store.heartbeat(live.id, me), 'CONFLICT', /no longer run by/);
      await store.heartbeat(live.id, 'host-b:7');
      // Another machine: only the heartbeat tells; fresh blocks, stale does not.
      await expectError(store.claimRun(live.id, me), 'CONFLICT', /heartbeat/);
      expect((await store.claimRun(live.id, me, { staleAfterMs: 0 })).owner).toBe(me);

      const crashed = await store.createRun(input({ owner: me.replace(/:\d+$/, `:${deadPid()}`) }));
      const claimed = await store.claimRun(crashed.id, me);
      expect(claimed).toMatchObject({ status: 'running', owner: me, attempts: 2 });

      const stopped = await store.createRun(input());
      await store.finishRun(stopped.id, 'interrupted', 'Ctrl-C');
      const resumed = await store.claimRun(stopped.id, me);
      expect(resumed).toMatchObject({ status: 'running', error: null, endTime: null, attempts: 2 });

      const done = await store.createRun(input());
      await store.finishRun(done.id, 'finished');
      await expectError(store.claimRun(done.id, me), 'CONFLICT', /nothing to resume/);
    });

    it('keeps step logs in order and tails them', async () => {
      const r = await store.createRun(input());
      await store.appendLogs(r.id, 'train', ['epoch 1', 'epoch 2']);
      await store.appendLogs(r.id, 'gate', ['ok\0']);
      const logs = await store.getLogs(r.id);
      expect(logs.map((l) => [l.stepId, l.line])).toEqual([
        ['train', 'epoch 1'],
        ['train', 'epoch 2'],
        ['gate', 'ok'],
      ]);
      expect((await store.getLogs(r.id, { afterSeq: logs[0]!.seq })).map((l) => l.line)).toEqual([
        'epoch 2',
        'ok',
      ]);
      expect((await store.getLogs(r.id, { stepId: 'gate' })).map((l) => l.line)).toEqual(['ok']);
      expect(await store.getLogs(r.id, { limit: 1 })).toHaveLength(1);
      const newest = await store.getLogs(r.id, { limit: 2, newest: true });
      expect(newest.map((l) => l.seq)).toEqual(logs.slice(-2).map((l) => l.seq));
      await expectError(store.getLogs(r.id, { newest: true }), 'INVALID_ARGUMENT', /newest.*limit/);
    });

    it('caches outputs by key, first write wins', async () => {
      const r = await store.createRun(input());
      expect(await store.getCached('k')).toBeUndefined();
      const first = await store.putCached({
        cacheKey: 'k',
        uses: 'train',
        outputs: { run_id: 'a' },
        runId: r.id,
        stepId: 'train',
      });
      const second = await store.putCached({
        cacheKey: 'k',
        uses: 'train',
        outputs: { run_id: 'b' },
        runId: r.id,
        stepId: 'train',
      });
      expect(second).toEqual(first);
      expect((await store.getCached('k'))?.outputs).toEqual({ run_id: 'a' });
      const replaced = await store.putCached(
        { cacheKey: 'k', uses: 'train', outputs: { run_id: 'c' }, runId: r.id, stepId: 'train' },
        { replace: true },
      );
      expect(replaced.outputs).toEqual({ run_id: 'c' });
      expect((await store.getCached('k'))?.outputs).toEqual({ run_id: 'c' });
    });

    it('records lineage idempotently', async () => {
      const r = await store.createRun(input());
      const t = await tracking.createRun({ kind: 'train' });
      await store.addLineage(r.id, 'train', [{ kind: 'run', ref: t.id }]);
      await store.addLineage(r.id, 'train', [{ kind: 'run', ref: t.id }]);
      await store.addLineage(r.id, 'gate', [{ kind: 'model_version', ref: 'iris:1' }]);
      expect(await store.getLineage(r.id)).toEqual([
        { stepId: 'gate', kind: 'model_version', ref: 'iris:1' },
        { stepId: 'train', kind: 'run', ref: t.id },
      ]);
      await expectError(store.addLineage(r.id, 'x', [{ kind: 'run', ref: '' }]), 'INVALID_ARGUMENT');
    });

    it('records a trial once per trial id, even when two writers race', async () => {
      const search = await tracking.createRun({ kind: 'search' });
      const trialRun = await tracking.createRun({ kind: 'train', parentRunId: search.id });
      const base = {
        searchRunId: search.id,
        params: { 'train.optimizer.learningRate': 0.01 },
        rung: 0,
        status: 'finished' as const,
        runId: trialRun.id,
      };
      const other = await openPipelineStore(fx.uri);
      try {
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            (i % 2 ? other : store).recordTrial({ ...base, trialId: 's1-t0', metric: i, result: { i } }),
          ),
        );
        expect(results.filter((r) => r.inserted)).toHaveLength(1);
        const stored = results.find((r) => r.inserted)!.record;
        for (const r of results) expect(r.record).toEqual(stored);
      } finally {
        await other.close();
      }
      const nan = await store.recordTrial({ ...base, trialId: 's1-t1', metric: Number.NaN, result: {} });
      expect(nan.record.metric).toBeNull();
      const failed = await store.recordTrial({
        ...base,
        trialId: 's1-t2',
        status: 'failed',
        runId: null,
        metric: null,
        result: { error: 'diverged' },
      });
      expect(failed.record).toMatchObject({ status: 'failed', runId: null, result: { error: 'diverged' } });
      expect((await store.listTrials(search.id)).map((t) => t.trialId)).toEqual(['s1-t0', 's1-t1', 's1-t2']);
      expect(await store.getTrial('missing')).toBeUndefined();

      const again = await tracking.createRun({ kind: 'train', parentRunId: search.id });
      expect(await store.addTrialAttempt('s1-t3', trialRun.id)).toEqual([]);
      expect(await store.addTrialAttempt('s1-t3', again.id)).toEqual([trialRun.id]);
      expect(await store.addTrialAttempt('s1-t3', again.id)).toEqual([trialRun.id]);
    });

    it('persists across handles and applies its migrations once when opened concurrently', async () => {
      const r = await store.createRun(input());
      await store.updateStep(r.id, 'train', { status: 'finished', outputs: { n: 1 } });
      const handles = await Promise.all([openPipelineStore(fx.uri), openPipelineStore(fx.uri)]);
      try {
        for (const h of handles) expect((await h.getRun(r.id)).steps[0]?.outputs).toEqual({ n: 1 });
      } finally {
        await Promise.all(handles.map((h) => h.close()));
      }
    });
  });
}
