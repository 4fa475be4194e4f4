/**
 * Reading registry records: the SQL that assembles models, versions and alias moves from their
 * tables (the same on SQLite and PostgreSQL), one query per table for any number of records.
 */
import type { AliasMove, ModelRecord, ModelVersionRecord, ModelVersionStatus } from './registry.js';
import { all, type SqlArg, type SqlScript } from './sql-script.js';
import type { JsonValue } from './types.js';

interface ModelRow {
  name: string;
  description: string | null;
  created_at: number;
  updated_at: number;
}

interface VersionRow {
  model: string;
  version: number;
  status: ModelVersionStatus;
  description: string | null;
  source_run_id: string | null;
  data_fingerprint: string | null;
  params_json: string;
  parent_model: string | null;
  parent_version: number | null;
  created_at: number;
  created_by: string;
}

export interface AliasMoveRow {
  id: number;
  model: string;
  alias: string;
  action: AliasMove['action'];
  from_version: number | null;
  to_version: number | null;
  actor: string;
  time: number;
  reason: string | null;
  undoes: number | null;
}

/** Every model, or the one named; ordered by name. */
export function* loadModels(name?: string): SqlScript<ModelRecord[]> {
  const filter = name === undefined ? '' : 'WHERE model = ?';
  const args: SqlArg[] = name === undefined ? [] : [name];
  const rows = yield* all<ModelRow>(
    `SELECT name, description, created_at, updated_at FROM registered_models
     ${name === undefined ? '' : 'WHERE name = ?'} ORDER BY name`,
    ...args,
  );
  if (rows.length === 0) return [];
  const tags = yield* all<{ model: string; key: string; value: string }>(
    `SELECT model, key, value FROM registered_model_tags ${filter} ORDER BY model, key`,
    ...args,
  );
  const aliases = yield* all<{ model: string; alias: string; version: number }>(
    `SELECT model, alias, version FROM model_aliases ${filter} ORDER BY model, alias`,
    ...args,
  );
  const counts = yield* all<{ model: string; n: number; latest: number }>(
    `SELECT model, COUNT(*) AS n, MAX(version) AS latest FROM model_versions ${filter} GROUP BY model`,
    ...args,
  );
  const records = new Map<string, ModelRecord>();
  for (const r of rows) {
    records.set(r.name, {
      name: r.name,
      description: r.description,
      tags: {},
      latestVersion: null,
      versionCount: 0,
      aliases: {},
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    });
  }
  const of = (model: string): ModelRecord => records.get(model) as ModelRecord;
  for (const t of tags) of(t.model).tags[t.key] = t.value;
  for (const a of aliases) of(a.model).aliases[a.alias] = a.version;
  for (const c of counts) {
    of(c.model).versionCount = c.n;
    of(c.model).latestVersion = c.latest;
  }
  return rows.map((r) => of(r.name));
}

export interface VersionFilter {
  version?: number;
  status?: ModelVersionStatus;
}

/** Versions of one model, newest first. */
export function* loadVersions(model: string, filter: VersionFilter = {}): SqlScript<ModelVersionRecord[]> {
  const conditions = ['model = ?'];
  const args: SqlArg[] = [model];
  if (filter.version !== undefined) {
    conditions.push('version = ?');
    args.push(filter.version);
  }
  const where = `WHERE ${conditions.join(' AND ')}`;
  const statusCondition = filter.status === undefined ? '' : ' AND status = ?';
  const rows = yield* all<VersionRow>(
    `SELECT model, version, status, description, source_run_id, data_fingerprint, params_json,
            parent_model, parent_version, created_at, created_by
     FROM model_versions ${where}${statusCondition} ORDER BY version DESC`,
    ...args,
    ...(filter.status === undefined ? [] : [filter.status]),
  );
  if (rows.length === 0) return [];
  const artifacts = yield* all<{ version: number; name: string; sha256: string; size: number }>(
    `SELECT version, name, sha256, size FROM model_version_artifacts ${where} ORDER BY version, name`,
    ...args,
  );
  const metrics = yield* all<{ version: number; key: string; value: number | null }>(
    `SELECT version, key, value FROM model_version_metrics ${where} ORDER BY version, key`,
    ...args,
  );
  const tags = yield* all<{ version: number; key: string; value: string }>(
    `SELECT version, key, value FROM model_version_tags ${where} ORDER BY version, key`,
    ...args,
  );
  const aliases = yield* all<{ version: number; alias: string }>(
    `SELECT version, alias FROM model_aliases ${where} ORDER BY version, alias`,
    ...args,
  );
  const records = new Map<number, ModelVersionRecord>();
  for (const r of rows) records.set(r.version, versionFromRow(r));
  // Child rows of versions the status filter left out have no record to go to.
  const each = (version: number, fn: (v: ModelVersionRecord) => void): void => {
    const record = records.get(version);
    if (record) fn(record);
  };
  for (const a of artifacts)
    each(a.version, (v) => v.artifacts.push({ name: a.name, sha256: a.sha256, size: a.size }));
  // SQLite stores NaN as NULL; PostgreSQL stores it as is.
  for (const m of metrics) each(m.version, (v) => (v.metrics[m.key] = m.value ?? Number.NaN));
  for (const t of tags) each(t.version, (v) => (v.tags[t.key] = t.value));
  for (const a of aliases) each(a.version, (v) => v.aliases.push(a.alias));
  return rows.map((r) => records.get(r.version) as ModelVersionRecord);
}

/** Moves of the model's aliases (or of one alias), oldest first. */
export function* loadAliasHistory(model: string, alias?: string): SqlScript<AliasMove[]> {
  const rows = yield* all<AliasMoveRow>(
    `SELECT id, model, alias, action, from_version, to_version, actor, time, reason, undoes
     FROM model_alias_history WHERE model = ?${alias === undefined ? '' : ' AND alias = ?'} ORDER BY id`,
    ...(alias === undefined ? [model] : [model, alias]),
  );
  return rows.map(aliasMoveFromRow);
}

export function aliasMoveFromRow(r: AliasMoveRow): AliasMove {
  return {
    id: r.id,
    model: r.model,
    alias: r.alias,
    action: r.action,
    fromVersion: r.from_version,
    toVersion: r.to_version,
    actor: r.actor,
    time: r.time,
    reason: r.reason,
    undoes: r.undoes,
  };
}

function versionFromRow(r: VersionRow): ModelVersionRecord {
  return {
    model: r.model,
    version: r.version,
    status: r.status,
    description: r.description,
    sourceRunId: r.source_run_id,
    dataFingerprint: r.data_fingerprint,
    artifacts: [],
    metrics: {},
    params: JSON.parse(r.params_json) as Record<string, JsonValue>,
    parentModel:
      r.parent_model !== null && r.parent_version !== null
        ? { name: r.parent_model, version: r.parent_version }
        : null,
    tags: {},
    aliases: [],
    createdAt: r.created_at,
    createdBy: r.created_by,
  };
}
