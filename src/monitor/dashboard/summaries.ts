/**
 * Store records → the API's views. Only what the page shows leaves the server: run params stay on
 * the run detail, artifact digests are summed into a count and a size.
 */
import type { AliasMove, ModelRecord, ModelVersionRecord } from '../../store/registry.js';
import type { RunRecord } from '../../store/types.js';
import type { AliasMoveView, ModelSummary, RunSummary, VersionSummary } from './api-types.js';
import { num, numRecord } from './http.js';

/** Preferred headline metrics, first present wins. */
const VERSION_HEADLINES = ['test_accuracy', 'test_score', 'test_f1_macro', 'test_r2', 'test_mae'];
const RUN_HEADLINES = [
  'test_accuracy',
  'test_score',
  'accuracy',
  'val_score',
  'val_accuracy',
  'test_r2',
  'test_mae',
  'val_loss',
  'loss',
];

function headline(
  metrics: Record<string, number>,
  keys: string[],
): { key: string; value: number | null } | null {
  for (const key of keys) {
    const value = metrics[key];
    if (value !== undefined) return { key, value: num(value) };
  }
  return null;
}

export function modelSummary(
  model: ModelRecord,
  latest: ModelVersionRecord | undefined,
  monitored: ReadonlySet<string>,
): ModelSummary {
  return {
    name: model.name,
    description: model.description,
    tags: model.tags,
    latestVersion: model.latestVersion,
    versionCount: model.versionCount,
    aliases: model.aliases,
    createdAt: model.createdAt,
    updatedAt: model.updatedAt,
    headline: latest ? headline(latest.metrics, VERSION_HEADLINES) : null,
    monitored: monitored.has(model.name),
  };
}

export function versionSummary(v: ModelVersionRecord): VersionSummary {
  return {
    model: v.model,
    version: v.version,
    status: v.status,
    description: v.description,
    sourceRunId: v.sourceRunId,
    dataFingerprint: v.dataFingerprint,
    metrics: numRecord(v.metrics),
    parentModel: v.parentModel,
    tags: v.tags,
    aliases: v.aliases,
    createdAt: v.createdAt,
    createdBy: v.createdBy,
    artifactCount: v.artifacts.length,
    artifactBytes: v.artifacts.reduce((s, a) => s + a.size, 0),
  };
}

export function aliasMoveView(m: AliasMove): AliasMoveView {
  return {
    id: m.id,
    alias: m.alias,
    action: m.action,
    fromVersion: m.fromVersion,
    toVersion: m.toVersion,
    actor: m.actor,
    time: m.time,
    reason: m.reason,
    undoes: m.undoes,
  };
}

export function runSummary(run: RunRecord): RunSummary {
  const metrics = Object.fromEntries(Object.entries(run.metrics).map(([k, p]) => [k, p.value]));
  return {
    id: run.id,
    name: run.name,
    kind: run.kind,
    status: run.status,
    error: run.error,
    parentRunId: run.parentRunId,
    startTime: run.startTime,
    endTime: run.endTime,
    tags: run.tags,
    metrics: numRecord(metrics),
    headline: headline(metrics, RUN_HEADLINES),
  };
}
