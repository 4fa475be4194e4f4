/**
 * Row shapes of the SQLite schema and their mapping to records. Kept apart from the store so the
 * SQL that assembles a RunRecord from its five tables reads in one place.
 */
import type Database from 'better-sqlite3';
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

export function hydrateRun(stmt: (sql: string) => Database.Statement, row: RunRow): RunRecord {
  const params: Record<string, JsonValue> = {};
  for (const p of stmt('SELECT key, value_json FROM params WHERE run_id = ? ORDER BY key').all(row.id) as {
    key: string;
    value_json: string;
  }[]) {
    params[p.key] = JSON.parse(p.value_json) as JsonValue;
  }
  const tags: Record<string, string> = {};
  for (const t of stmt('SELECT key, value FROM tags WHERE run_id = ? ORDER BY key').all(row.id) as {
    key: string;
    value: string;
  }[]) {
    tags[t.key] = t.value;
  }
  const metrics: Record<string, MetricPoint> = {};
  const latest = stmt(
    `SELECT key, value, step, timestamp FROM (
       SELECT key, value, step, timestamp,
              ROW_NUMBER() OVER (PARTITION BY key ORDER BY step DESC, timestamp DESC, seq DESC) AS rank
       FROM metrics WHERE run_id = ?
     ) WHERE rank = 1 ORDER BY key`,
  ).all(row.id) as MetricRow[];
  for (const m of latest) metrics[m.key] = metricFromRow(m);
  const artifacts = (
    stmt(
      'SELECT name, sha256, size, content_type, created_at FROM artifacts WHERE run_id = ? ORDER BY name',
    ).all(row.id) as ArtifactRow[]
  ).map(artifactFromRow);
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    status: row.status,
    error: row.error,
    params,
    tags,
    metrics,
    artifacts,
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
