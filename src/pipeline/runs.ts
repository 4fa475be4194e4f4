import { ModelautoError } from '../core/errors.js';
import { openTrackingStore } from '../store/open.js';
import type { TrackingStore } from '../store/tracking-store.js';
import type { JsonValue, ListRunsFilter, RunRecord } from '../store/types.js';

export interface StoreOption {
  /** A store instance or location; default MODELAUTO_STORE or ./.modelauto. */
  store?: TrackingStore | string | undefined;
}

/** Opens the store when given a location, runs `fn`, and closes only what it opened. */
export async function withStore<T>(
  option: StoreOption,
  fn: (store: TrackingStore) => Promise<T>,
): Promise<T> {
  if (option.store && typeof option.store !== 'string') return fn(option.store);
  const store = await openTrackingStore(option.store);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export async function listRuns(options: StoreOption & ListRunsFilter): Promise<RunRecord[]> {
  const { store: s, ...filter } = options;
  const clean = Object.fromEntries(
    Object.entries(filter).filter(([, v]) => v !== undefined),
  ) as ListRunsFilter;
  return withStore({ store: s }, (store) => store.listRuns(clean));
}

export async function showRun(ref: string, options: StoreOption = {}): Promise<RunRecord> {
  return withStore(options, async (store) => store.getRun(await store.resolveRunId(ref)));
}

export interface RunComparison {
  runs: { id: string; name: string; kind: string; status: string }[];
  /** Flattened params (`train.optimizer.learningRate`) that differ between the runs. */
  params: { key: string; values: (JsonValue | null)[] }[];
  /** Latest value of every metric any of the runs has. */
  metrics: { key: string; values: (number | null)[] }[];
}

export async function compareRuns(refs: string[], options: StoreOption = {}): Promise<RunComparison> {
  if (refs.length < 2) throw new ModelautoError('USAGE', 'runs compare: give at least two runs');
  return withStore(options, async (store) => {
    const runs: RunRecord[] = [];
    for (const ref of refs) runs.push(await store.getRun(await store.resolveRunId(ref)));
    const flat = runs.map((r) => flatten(r.params));
    const paramKeys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
    const params = paramKeys
      .map((key) => ({ key, values: flat.map((f) => (key in f ? (f[key] as JsonValue) : null)) }))
      .filter((p) => new Set(p.values.map((v) => JSON.stringify(v))).size > 1);
    const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
    const metrics = metricKeys.map((key) => ({
      key,
      values: runs.map((r) => r.metrics[key]?.value ?? null),
    }));
    return {
      runs: runs.map((r) => ({ id: r.id, name: r.name, kind: r.kind, status: r.status })),
      params,
      metrics,
    };
  });
}

function flatten(
  v: Record<string, JsonValue>,
  prefix = '',
  out: Record<string, JsonValue> = {},
): Record<string, JsonValue> {
  for (const [k, val] of Object.entries(v)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (val !== null && typeof val === 'object' && !Array.isArray(val)) flatten(val, key, out);
    else out[key] = val;
  }
  return out;
}
