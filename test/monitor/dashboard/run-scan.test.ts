/** Children of a run are found past the first page of the run list, and the scan stops at older runs. */
import { describe, expect, it } from 'vitest';
import { childRuns } from '../../../src/monitor/dashboard/run-scan.js';
import type { TrackingStore } from '../../../src/store/tracking-store.js';
import type { ListRunsFilter } from '../../../src/store/types.js';
import { tempStores } from './helpers.js';

const { stores } = await tempStores();
const { tracking } = stores;
let newestChild = '';

describe('childRuns', () => {
  it('finds children on later pages, of the asked kind, newest first', async () => {
    const parent = await tracking.createRun({ kind: 'train' });
    const first = await tracking.createRun({ kind: 'optimize', parentRunId: parent.id });
    const evaluation = await tracking.createRun({ kind: 'evaluate', parentRunId: parent.id });
    for (let i = 0; i < 450; i++) await tracking.createRun({ kind: 'optimize' });
    const last = await tracking.createRun({ kind: 'optimize', parentRunId: parent.id });
    newestChild = last.id;

    const all = await childRuns(tracking, parent);
    expect(all.map((r) => r.id)).toEqual([last.id, evaluation.id, first.id]);
    const optimize = await childRuns(tracking, parent, { kind: 'optimize' });
    expect(optimize.map((r) => r.id)).toEqual([last.id, first.id]);
  });

  it('reads one page for a parent newer than the rest, and at most `cap` runs', async () => {
    const pages: ListRunsFilter[] = [];
    const counting: TrackingStore = Object.create(tracking, {
      listRuns: {
        value: (filter: ListRunsFilter) => {
          pages.push(filter);
          return tracking.listRuns(filter);
        },
      },
    });
    await new Promise((r) => setTimeout(r, 5));
    const parent = await tracking.createRun({ kind: 'train' });
    const child = await tracking.createRun({ kind: 'evaluate', parentRunId: parent.id });
    expect((await childRuns(counting, parent)).map((r) => r.id)).toEqual([child.id]);
    expect(pages).toHaveLength(1);

    // The first test's parent is the oldest run: with a cap of 400 the scan stops before its
    // older children and only finds the one among the newest 400 runs.
    pages.length = 0;
    const oldest = (await tracking.listRuns()).at(-1)!;
    const found = await childRuns(counting, oldest, { cap: 400 });
    expect(found.map((r) => r.id)).toEqual([newestChild]);
    expect(pages.map((p) => p.offset)).toEqual([0, 200]);
  });
});
