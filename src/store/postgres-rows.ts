/**
 * Assembles RunRecords from the PostgreSQL tables. Over a network a query per run and table would
 * dominate listRuns, so the child tables are read once per batch of runs (IN lists of at most
 * BATCH ids, well under PostgreSQL's limit on bind parameters).
 */
import { all, type SqlScript } from './sql-script.js';
import {
  artifactFromRow,
  metricFromRow,
  type ArtifactRow,
  type MetricRow,
  type RunRow,
} from './sqlite-rows.js';
import type { ArtifactRecord, JsonValue, MetricPoint, RunRecord } from './types.js';

const BATCH = 500;

export const RUN_COLUMNS =
  'id, name, kind, status, error, data_fingerprint, git_commit, parent_run_id, start_time, end_time';

/** Records for `rows`, in the same order. */
export function* hydrateRuns(rows: RunRow[]): SqlScript<RunRecord[]> {
  const out: RunRecord[] = [];
  for (let i = 0; i < rows.length; i += BATCH) out.push(...(yield* hydrateBatch(rows.slice(i, i + BATCH))));
  return out;
}

function* hydrateBatch(rows: RunRow[]): SqlScript<RunRecord[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const inList = `(${ids.map(() => '?').join(', ')})`;
  const params = yield* all<{ run_id: string; key: string; value_json: string }>(
    `SELECT run_id, key, value_json FROM params WHERE run_id IN ${inList} ORDER BY run_id, key`,
    ...ids,
  );
  const tags = yield* all<{ run_id: string; key: string; value: string }>(
    `SELECT run_id, key, value FROM tags WHERE run_id IN ${inList} ORDER BY run_id, key`,
    ...ids,
  );
  const metrics = yield* all<MetricRow & { run_id: string }>(
    `SELECT DISTINCT ON (run_id, key) run_id, key, value, step, timestamp FROM metrics
     WHERE run_id IN ${inList} ORDER BY run_id, key, step DESC, timestamp DESC, seq DESC`,
    ...ids,
  );
  const artifacts = yield* all<ArtifactRow & { run_id: string }>(
    `SELECT run_id, name, sha256, size, content_type, created_at FROM artifacts
     WHERE run_id IN ${inList} ORDER BY run_id, name`,
    ...ids,
  );

  const records = new Map<string, RunRecord>();
  for (const row of rows) records.set(row.id, emptyRecord(row));
  const of = (id: string): RunRecord => records.get(id) as RunRecord;
  for (const p of params) of(p.run_id).params[p.key] = JSON.parse(p.value_json) as JsonValue;
  for (const t of tags) of(t.run_id).tags[t.key] = t.value;
  for (const m of metrics) (of(m.run_id).metrics as Record<string, MetricPoint>)[m.key] = metricFromRow(m);
  for (const a of artifacts) (of(a.run_id).artifacts as ArtifactRecord[]).push(artifactFromRow(a));
  return rows.map((r) => of(r.id));
}

function emptyRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    status: row.status,
    error: row.error,
    params: {},
    tags: {},
    metrics: {},
    artifacts: [],
    dataFingerprint: row.data_fingerprint,
    gitCommit: row.git_commit,
    parentRunId: row.parent_run_id,
    startTime: row.start_time,
    endTime: row.end_time,
  };
}
