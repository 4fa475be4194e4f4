/**
 * A version's optimization lineage: the trained run it comes from (or, for an optimized version, the
 * run its candidate was derived from) and every optimize candidate of that run, with the figures the
 * optimize jobs record (test/validation score, gzipped and raw size, parameters, sparsity, latency at
 * batch 1 and 128) side by side.
 *
 * The source run does not measure its own size and latency; each candidate records them for the
 * source in the same timing rounds (`baseline_size_gzip_bytes`, latency × `speedup_*`), so the source
 * row takes them from the newest finished candidate.
 */
import { isModelautoError } from '../../core/errors.js';
import type { ModelVersionRecord } from '../../store/registry.js';
import type { TrackingStore } from '../../store/tracking-store.js';
import type { RunRecord } from '../../store/types.js';
import type { LineageRow, VersionDetailResponse } from './api-types.js';
import { num } from './http.js';
import { childRuns } from './run-scan.js';

function metric(run: RunRecord, key: string): number | undefined {
  return run.metrics[key]?.value;
}

async function getRunOrNull(tracking: TrackingStore, id: string): Promise<RunRecord | null> {
  try {
    return await tracking.getRun(id);
  } catch (e) {
    if (isModelautoError(e) && e.code === 'NOT_FOUND') return null;
    throw e;
  }
}

function candidateRow(run: RunRecord, versions: number[], current: boolean): LineageRow {
  const params = metric(run, 'params');
  return {
    runId: run.id,
    name: run.name,
    role: 'candidate',
    status: run.status,
    technique: run.tags['technique'] ?? run.tags['candidate'] ?? 'optimize',
    testScore: num(metric(run, 'test_score') ?? metric(run, 'test_accuracy')),
    valScore: num(metric(run, 'val_score')),
    sizeGzipBytes: num(metric(run, 'size_gzip_bytes')),
    sizeRawBytes: num(metric(run, 'size_raw_bytes')),
    params: num(params),
    sparsity: num(metric(run, 'sparsity')),
    latencyB1Ms: num(metric(run, 'latency_b1_ms')),
    latencyB128Ms: num(metric(run, 'latency_b128_ms')),
    versions,
    current,
  };
}

function sourceRow(
  run: RunRecord,
  reference: RunRecord | undefined,
  versions: number[],
  current: boolean,
): LineageRow {
  const testMae = metric(run, 'test_mae');
  const ownTest = metric(run, 'test_accuracy') ?? (testMae !== undefined ? -testMae : undefined);
  const times = (key: string, factor: string): number | undefined => {
    const a = reference ? metric(reference, key) : undefined;
    const b = reference ? metric(reference, factor) : undefined;
    return a !== undefined && b !== undefined ? a * b : undefined;
  };
  const params = run.params['parameters'];
  return {
    runId: run.id,
    name: run.name,
    role: 'source',
    status: run.status,
    technique: run.kind === 'train' ? 'trained' : run.kind,
    testScore: num(ownTest ?? (reference ? metric(reference, 'baseline_test_score') : undefined)),
    valScore: num(reference ? metric(reference, 'baseline_val_score') : metric(run, 'val_accuracy')),
    sizeGzipBytes: num(reference ? metric(reference, 'baseline_size_gzip_bytes') : undefined),
    sizeRawBytes: null,
    params: typeof params === 'number' ? params : null,
    sparsity: null,
    latencyB1Ms: num(times('latency_b1_ms', 'speedup_b1')),
    latencyB128Ms: num(times('latency_b128_ms', 'speedup_b128')),
    versions,
    current,
  };
}

export async function versionLineage(
  tracking: TrackingStore,
  version: ModelVersionRecord,
  allVersions: ModelVersionRecord[],
): Promise<VersionDetailResponse['lineage']> {
  const empty = { sourceRunId: null, rows: [] };
  if (!version.sourceRunId) return empty;
  const own = await getRunOrNull(tracking, version.sourceRunId);
  if (!own) return empty;
  const sourceId = own.kind === 'optimize' && own.parentRunId ? own.parentRunId : own.id;
  const source = sourceId === own.id ? own : await getRunOrNull(tracking, sourceId);

  const byRun = new Map<string, number[]>();
  for (const v of allVersions) {
    if (!v.sourceRunId) continue;
    byRun.set(
      v.sourceRunId,
      [...(byRun.get(v.sourceRunId) ?? []), v.version].sort((a, b) => a - b),
    );
  }
  const candidates = source ? await childRuns(tracking, source, { kind: 'optimize' }) : [];
  const reference = candidates.find((r) => r.status === 'finished' && metric(r, 'speedup_b1') !== undefined);
  const rows: LineageRow[] = [];
  if (source) {
    rows.push(sourceRow(source, reference, byRun.get(source.id) ?? [], source.id === version.sourceRunId));
  }
  for (const c of candidates) {
    rows.push(candidateRow(c, byRun.get(c.id) ?? [], c.id === version.sourceRunId));
  }
  return { sourceRunId: sourceId, rows };
}
