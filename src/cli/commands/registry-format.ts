/** Human-readable renderings of registry results; --json prints the records themselves instead. */
import type { AliasChange, RegistryEntry } from '../../store/registry-api.js';
import type { AliasMove, ModelRecord, ModelVersionRecord } from '../../store/registry.js';
import { fmt, formatTable } from '../table.js';

function time(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

function pairs(record: Record<string, string | number>, sep = '='): string {
  const entries = Object.entries(record);
  return entries.length ? entries.map(([k, v]) => `${k}${sep}${v}`).join(', ') : '-';
}

function aliasList(aliases: readonly string[]): string {
  return aliases.map((a) => `@${a}`).join(' ');
}

function versionOf(v: number | null): string {
  return v === null ? '-' : String(v);
}

export function formatRegistered(v: ModelVersionRecord): string {
  const lines = [
    `registered ${v.model}:${v.version}${v.sourceRunId ? ` from run ${v.sourceRunId}` : ''} (${v.artifacts.length} artifact(s), status ${v.status})`,
  ];
  if (v.aliases.length) lines.push(`aliases: ${aliasList(v.aliases)}`);
  lines.push(
    `next: modelauto registry show ${v.model}:${v.version}  |  modelauto registry alias ${v.model} champion ${v.version}`,
  );
  return lines.join('\n');
}

export function formatModelList(models: ModelRecord[]): string {
  if (models.length === 0)
    return 'no registered models yet (try: modelauto registry register <run> --name <model>)';
  return formatTable(
    ['model', 'versions', 'latest', 'aliases', 'updated'],
    models.map((m) => [m.name, m.versionCount, m.latestVersion, pairs(m.aliases, ' → '), time(m.updatedAt)]),
  );
}

export function formatVersionList(versions: ModelVersionRecord[]): string {
  if (versions.length === 0) return 'no versions';
  return formatTable(
    ['version', 'status', 'created', 'by', 'run', 'aliases', 'metrics'],
    versions.map((v) => [
      v.version,
      v.status,
      time(v.createdAt),
      v.createdBy,
      v.sourceRunId ? v.sourceRunId.slice(0, 8) : '',
      aliasList(v.aliases),
      Object.entries(v.metrics)
        .slice(0, 3)
        .map(([k, x]) => `${k} ${fmt(x)}`)
        .join(', '),
    ]),
  );
}

export function formatVersionDetails(v: ModelVersionRecord): string {
  const lines = [
    `${v.model}:${v.version}   status: ${v.status}   aliases: ${aliasList(v.aliases) || '-'}`,
    `created: ${time(v.createdAt)} by ${v.createdBy}`,
    `source run: ${v.sourceRunId ?? '-'}   data fingerprint: ${v.dataFingerprint ?? '-'}   parent: ${
      v.parentModel ? `${v.parentModel.name}:${v.parentModel.version}` : '-'
    }`,
  ];
  if (v.description) lines.push(`description: ${v.description}`);
  if (Object.keys(v.tags).length) lines.push(`tags: ${pairs(v.tags)}`);
  const metrics = Object.entries(v.metrics);
  if (metrics.length) lines.push('', 'metrics', formatTable(['key', 'value'], metrics));
  const params = Object.entries(v.params);
  if (params.length) {
    lines.push(
      '',
      'params',
      formatTable(
        ['key', 'value'],
        params.map(([k, p]) => [k, JSON.stringify(p)]),
      ),
    );
  }
  lines.push(
    '',
    'artifacts',
    formatTable(
      ['name', 'bytes', 'sha256'],
      v.artifacts.map((a) => [a.name, a.size, a.sha256]),
    ),
  );
  return lines.join('\n');
}

export function formatRegistryEntry(e: RegistryEntry): string {
  if (e.kind === 'version') return formatVersionDetails(e.version);
  const m = e.model;
  const lines = [`model ${m.name}`];
  if (m.description) lines.push(`description: ${m.description}`);
  lines.push(
    `tags: ${pairs(m.tags)}`,
    `aliases: ${pairs(m.aliases, ' → ')}`,
    '',
    formatVersionList(e.versions),
  );
  return lines.join('\n');
}

export function formatAliasChange(c: AliasChange): string {
  if (!c.move) return `${c.model}@${c.alias} already points at version ${c.version}; nothing recorded`;
  return `${c.model}@${c.alias}: ${versionOf(c.move.fromVersion)} → ${c.version} (move #${c.move.id})`;
}

export function formatAliasMove(m: AliasMove): string {
  const what =
    m.action === 'delete'
      ? `deleted (was version ${versionOf(m.fromVersion)})`
      : `${m.action === 'rollback' ? 'rolled back: ' : ''}${versionOf(m.fromVersion)} → ${versionOf(m.toVersion)}`;
  const undid = m.undoes === null ? '' : `, undoing move #${m.undoes}`;
  return `${m.model}@${m.alias} ${what} (move #${m.id}${undid})`;
}

export function formatAliasHistory(moves: AliasMove[]): string {
  if (moves.length === 0) return 'no alias moves yet';
  return formatTable(
    ['#', 'time', 'alias', 'action', 'from', 'to', 'actor', 'reason'],
    moves.map((m) => [
      String(m.id),
      time(m.time),
      `@${m.alias}`,
      m.undoes === null ? m.action : `${m.action} of #${m.undoes}`,
      versionOf(m.fromVersion),
      versionOf(m.toVersion),
      m.actor,
      m.reason ?? '',
    ]),
  );
}
