/**
 * Finding runs by parent without a parent index in the store: children start after their parent, and
 * listRuns is newest first, so pages are read until they reach runs older than the parent. A recent
 * parent costs one page however large the store is; an old one at most `cap` runs.
 */
import type { TrackingStore } from '../../store/tracking-store.js';
import type { RunRecord } from '../../store/types.js';

const PAGE = 200;

export async function childRuns(
  tracking: TrackingStore,
  parent: RunRecord,
  options: { kind?: string; cap?: number } = {},
): Promise<RunRecord[]> {
  const cap = options.cap ?? 5000;
  const children: RunRecord[] = [];
  for (let offset = 0; offset < cap; offset += PAGE) {
    const page = await tracking.listRuns({
      ...(options.kind ? { kind: options.kind } : {}),
      limit: PAGE,
      offset,
    });
    for (const r of page) if (r.parentRunId === parent.id) children.push(r);
    const oldest = page.at(-1);
    if (page.length < PAGE || !oldest || oldest.startTime < parent.startTime) break;
  }
  return children;
}
