/**
 * Row shapes of the tracking tables (the same in SQLite and PostgreSQL: the PostgreSQL driver reads
 * BIGINT as numbers) and the assembly of RunRecords from their five tables. The child tables are
 * read once per batch of runs; what differs by backend (the batch size, the "latest point per key"
 * query) is the caller's RunHydration.
 */
import { all, type SqlScript } from './sql-script.js';
import type { ArtifactRecord, JsonValue, MetricPoint, RunRecord, RunStatus } from './types.js';

export interface RunRow {
  id: string;
  name: string;
  kind: string;
  status: RunStatus;
  error: string | null;
  data_fingerprint: string | null;
  git_commit: string | null;
  parent_run_id: string | null;
  start_time: number;
  end_time: number | null;
}

export interface MetricRow {
  key: string;
  /** NULL in SQLite for NaN (SQLite has no NaN); PostgreSQL stores NaN itself. */
  value: number | null;
  step: number;
  timestamp: number;
}

export interface ArtifactRow {
  name: string;
  sha256: string;
  size: number;
  content_type: string;
  created_at: number;
}

/** The columns of RunRow (not `*`: `seq` is internal). */
export const RUN_COLUMNS =
  'id, name, kind, status, error, data_fingerprint, git_commit, parent_run_id, start_time, end_time';

export const ARTIFACT_COLUMNS = 'name, sha256, size, content_type, created_at';

/** How a backend reads the child tables of a batch of runs. */
export interface RunHydration {
  /** Runs per batch: each batch is four queries with an IN list of this many ids at most. */
  readonly runsPerQuery: number;
  /**
   * SELECT run_id, key, value, step, timestamp: the latest point (highest step, then timestamp, then
   * seq) of every key of the runs `WHERE run_id IN <inList>`, ordered by run_id and key.
   */
  latestMetricsSql(inList: string): string;
}

/** Records for `rows`, in the same order. */
export function* hydrateRuns(rows: RunRow[], how: RunHydration): SqlScript<RunRecord[]> {
  const out: RunRecord[] = [];
  for (let i = 0; i < rows.length; i += how.runsPerQuery) {
    out.push(...(yield* hydrateBatch(rows.slice(i, i + how.runsPerQuery), how)));
  }
  return out;
}

function* hydrateBatch(rows: RunRow[], how: RunHydration): SqlScript<RunRecord[]> {
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
  const metrics = yield* all<MetricRow & { run_id: string }>(how.latestMetricsSql(inList), ...ids);
  const artifacts = yield* all<ArtifactRow & { run_id: string }>(
    `SELECT run_id, ${ARTIFACT_COLUMNS} FROM artifacts WHERE run_id IN ${inList} ORDER BY run_id, name`,
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

export function metricFromRow(row: MetricRow): MetricPoint {
  return { key: row.key, value: row.value ?? Number.NaN, step: row.step, timestamp: row.timestamp };
}

export function artifactFromRow(row: ArtifactRow): ArtifactRecord {
  return {
    name: row.name,
    sha256: row.sha256,
    size: row.size,
    contentType: row.content_type,
    createdAt: row.created_at,
  };
}
