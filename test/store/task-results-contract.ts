/**
 * The behaviour every TaskResultStore backend must have: a result recorded once per task id, the
 * first one kept, later ones counted as duplicates and never recorded twice, even when concurrent.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskResultSchema, type TaskResultStore } from '../../src/store/task-results.js';
import { expectError } from './contract.js';

export interface TaskResultStoreFixture {
  store: TaskResultStore;
  /** Another handle on the same database (its own connection or pool). */
  reopen: () => Promise<TaskResultStore>;
  cleanup: () => Promise<void>;
}

const base = { kind: 'search.trial', worker: 'host-a:101', attempt: 1, startedAt: 1_000, finishedAt: 2_000 };

export function describeTaskResultStoreContract(
  name: string,
  makeStore: () => Promise<TaskResultStoreFixture>,
): void {
  describe(`TaskResultStore contract: ${name}`, () => {
    let fx: TaskResultStoreFixture;
    let store: TaskResultStore;
    const others: TaskResultStore[] = [];
    const reopen = async (): Promise<TaskResultStore> => {
      const s = await fx.reopen();
      others.push(s);
      return s;
    };
    beforeEach(async () => {
      fx = await makeStore();
      store = fx.store;
    });
    afterEach(async () => {
      for (const s of others.splice(0)) await s.close();
      await store.close();
      await fx.cleanup();
    });

    it('records a result and reads it back with every field', async () => {
      const before = Date.now();
      const out = await store.recordTaskResult({
        ...base,
        taskId: 't1',
        output: { accuracy: 0.9, run: 'abc' },
      });
      expect(out.created).toBe(true);
      expect(TaskResultSchema.parse(out.result)).toEqual(out.result);
      expect(out.result).toMatchObject({
        taskId: 't1',
        kind: 'search.trial',
        output: { accuracy: 0.9, run: 'abc' },
        worker: 'host-a:101',
        attempt: 1,
        startedAt: 1_000,
        finishedAt: 2_000,
        duplicates: 0,
      });
      expect(out.result.recordedAt).toBeGreaterThanOrEqual(before);
      expect(await store.getTaskResult('t1')).toEqual(out.result);
      expect(await store.getTaskResult('never-ran')).toBeUndefined();
    });

    it('keeps the first result of a task: a late duplicate changes nothing but the duplicate count', async () => {
      const first = await store.recordTaskResult({ ...base, taskId: 't1', output: { accuracy: 0.9 } });
      const late = await store.recordTaskResult({
        ...base,
        taskId: 't1',
        output: { accuracy: 0.1 },
        worker: 'host-b:202',
        attempt: 2,
        startedAt: 3_000,
        finishedAt: 4_000,
      });
      expect(late.created).toBe(false);
      expect(late.result).toEqual({ ...first.result, duplicates: 1 });
      const all = await store.listTaskResults();
      expect(all).toHaveLength(1);
      expect(all[0]?.output).toEqual({ accuracy: 0.9 });
      expect(all[0]?.worker).toBe('host-a:101');
    });

    it('records one result per id under concurrent completions from several handles', async () => {
      const other = await reopen();
      const outcomes = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          (i % 2 ? other : store).recordTaskResult({
            ...base,
            taskId: `t${i % 4}`,
            worker: `w${i}`,
            output: { from: i },
          }),
        ),
      );
      expect(outcomes.filter((o) => o.created)).toHaveLength(4);
      const results = await store.listTaskResults();
      expect(results.map((r) => r.taskId).sort()).toEqual(['t0', 't1', 't2', 't3']);
      for (const r of results) {
        expect(r.duplicates).toBe(3);
        // Every caller got the winner's output back, whichever call won.
        for (const o of outcomes.filter((x) => x.result.taskId === r.taskId)) {
          expect(o.result.output).toEqual(r.output);
        }
      }
    });

    it('stores outputs as JSON: undefined is null, NaN is null, nested values are kept', async () => {
      await store.recordTaskResult({ ...base, taskId: 'a', output: undefined });
      await store.recordTaskResult({
        ...base,
        taskId: 'b',
        output: { loss: Number.NaN, xs: [1, 'two', null] },
      });
      expect((await store.getTaskResult('a'))?.output).toBeNull();
      expect((await store.getTaskResult('b'))?.output).toEqual({ loss: null, xs: [1, 'two', null] });
    });

    it('lists in recording order, by kind, by ids, with a limit', async () => {
      for (const [i, kind] of ['search.trial', 'pipeline.step', 'search.trial'].entries()) {
        await store.recordTaskResult({ ...base, kind, taskId: `id-${i}`, output: i });
      }
      expect((await store.listTaskResults()).map((r) => r.taskId)).toEqual(['id-0', 'id-1', 'id-2']);
      expect((await store.listTaskResults({ kind: 'search.trial' })).map((r) => r.output)).toEqual([0, 2]);
      expect(
        (await store.listTaskResults({ taskIds: ['id-2', 'id-1', 'nope'] })).map((r) => r.taskId),
      ).toEqual(['id-1', 'id-2']);
      expect(await store.listTaskResults({ taskIds: [] })).toEqual([]);
      expect(await store.listTaskResults({ limit: 1 })).toHaveLength(1);
    });

    it('keeps results across reopening', async () => {
      await store.recordTaskResult({ ...base, taskId: 'kept', output: { ok: true } });
      const again = await reopen();
      expect((await again.getTaskResult('kept'))?.output).toEqual({ ok: true });
    });

    it('refuses bad input, naming the field', async () => {
      await expectError(
        store.recordTaskResult({ ...base, taskId: '', output: 1 }),
        'INVALID_ARGUMENT',
        /recordTaskResult\.taskId.*non-empty task id/,
      );
      await expectError(
        store.recordTaskResult({ ...base, taskId: 'x', attempt: 0, output: 1 }),
        'INVALID_ARGUMENT',
        /recordTaskResult\.attempt.*>= 1/,
      );
      await expectError(
        store.recordTaskResult({ ...base, taskId: 'x', kind: 'Bad Kind', output: 1 }),
        'INVALID_ARGUMENT',
        /recordTaskResult\.kind/,
      );
      await expectError(
        store.recordTaskResult({ ...base, taskId: 'x', startedAt: 5, finishedAt: 4, output: 1 }),
        'INVALID_ARGUMENT',
        /recordTaskResult\.finishedAt/,
      );
      await expectError(
        store.recordTaskResult({ ...base, taskId: 'x', output: { n: 1n } }),
        'INVALID_ARGUMENT',
        /recordTaskResult\.output.*JSON-serializable/,
      );
      expect(await store.listTaskResults()).toEqual([]);
    });

    it('refuses a second result for the id under another kind', async () => {
      await store.recordTaskResult({ ...base, taskId: 'same', output: 1 });
      await expectError(
        store.recordTaskResult({ ...base, kind: 'pipeline.step', taskId: 'same', output: 2 }),
        'CONFLICT',
        /already has a result of kind "search.trial"/,
      );
      expect((await store.getTaskResult('same'))?.duplicates).toBe(0);
    });

    it('fails with STORE once closed', async () => {
      const other = await reopen();
      await other.close();
      await other.close();
      await expectError(other.getTaskResult('x'), 'STORE', /closed/);
    });
  });
}
