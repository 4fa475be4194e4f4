/**
 * SQLite backend of the tracking store: `<root>/modelauto.db` (WAL, so a server can read while a
 * training process writes) plus the content-addressed blobs in `<root>/artifacts`. Every write that
 * touches more than one row runs in an IMMEDIATE transaction: taking the write lock up front means a
 * concurrent writer waits on busy_timeout instead of failing on a lock upgrade.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { ModelautoError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { ArtifactBlobs } from './artifact-blobs.js';
import { canonicalJson } from './canonical-json.js';
import { contentTypeFor } from './content-type.js';
import { ARTIFACTS_DIR, openSqliteStoreFolder, SQLITE_DB_FILE, sqliteError } from './sqlite-connection.js';
import {
  artifactFromRow,
  hydrateRun,
  metricFromRow,
  type ArtifactRow,
  type MetricRow,
  type RunRow,
} from './sqlite-rows.js';
import type { TrackingStore } from './tracking-store.js';
import {
  ArtifactSourceSchema,
  CreateRunInputSchema,
  ListRunsFilterSchema,
  LogArtifactOptionsSchema,
  MetricPointInputSchema,
  ParamsSchema,
  RunIdSchema,
  Sha256Schema,
  TagsSchema,
  TerminalRunStatusSchema,
  type ArtifactRecord,
  type ArtifactSource,
  type CreateRunInput,
  type JsonValue,
  type ListRunsFilter,
  type LogArtifactOptions,
  type MetricPoint,
  type MetricPointInput,
  type RunRecord,
  type RunStatus,
  type TerminalRunStatus,
} from './types.js';
import { parseInput } from './validate.js';

export { ARTIFACTS_DIR, SQLITE_DB_FILE } from './sqlite-connection.js';

const MetricKeyArg = z.string().min(1, 'expected a non-empty metric key');
const FinishErrorArg = z.string().min(1, 'expected a non-empty error message').optional();

export class SqliteTrackingStore implements TrackingStore {
  readonly location: string;
  readonly dbPath: string;
  private readonly blobs: ArtifactBlobs;
  private connection: Database.Database | undefined;
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(
    readonly root: string,
    db: Database.Database,
  ) {
    this.location = `sqlite:${root}`;
    this.dbPath = join(root, SQLITE_DB_FILE);
    this.blobs = new ArtifactBlobs(join(root, ARTIFACTS_DIR));
    this.connection = db;
  }

  /** Opens (creating if needed) the store in folder `root` and applies pending schema migrations. */
  static async open(root: string): Promise<SqliteTrackingStore> {
    const folder = openSqliteStoreFolder(root);
    return new SqliteTrackingStore(folder.root, folder.db);
  }

  async createRun(input: CreateRunInput): Promise<RunRecord> {
    const spec = parseInput(CreateRunInputSchema, input, 'createRun');
    const id = randomBytes(16).toString('hex');
    const now = Date.now();
    this.write('createRun', () => {
      if (spec.parentRunId !== undefined) this.requireRun(spec.parentRunId, 'createRun.parentRunId');
      this.stmt(
        `INSERT INTO runs (id, name, kind, status, error, data_fingerprint, git_commit, parent_run_id, start_time, end_time)
         VALUES (?, ?, ?, 'running', NULL, ?, ?, ?, ?, NULL)`,
      ).run(
        id,
        spec.name ?? `${spec.kind}-${id.slice(0, 8)}`,
        spec.kind,
        spec.dataFingerprint ?? null,
        spec.gitCommit ?? null,
        spec.parentRunId ?? null,
        now,
      );
      this.insertParams(id, spec.params ?? {}, 'createRun.params');
      this.upsertTags(id, spec.tags ?? {});
    });
    return this.getRun(id);
  }

  async logParams(runId: string, params: Record<string, JsonValue>): Promise<void> {
    const id = runIdArg(runId, 'logParams.runId');
    const values = parseInput(ParamsSchema, params, 'logParams.params');
    this.write('logParams', () => {
      this.requireRun(id, 'logParams.runId');
      this.insertParams(id, values, 'logParams.params');
    });
  }

  async setTags(runId: string, tags: Record<string, string>): Promise<void> {
    const id = runIdArg(runId, 'setTags.runId');
    const values = parseInput(TagsSchema, tags, 'setTags.tags');
    this.write('setTags', () => {
      this.requireRun(id, 'setTags.runId');
      this.upsertTags(id, values);
    });
  }

  async logMetric(
    runId: string,
    key: string,
    value: number,
    step: number,
    timestamp?: number,
  ): Promise<void> {
    const point = parseInput(
      MetricPointInputSchema,
      timestamp === undefined ? { key, value, step } : { key, value, step, timestamp },
      'logMetric',
    );
    await this.appendMetrics(runIdArg(runId, 'logMetric.runId'), [point], 'logMetric.runId');
  }

  async logMetrics(runId: string, points: MetricPointInput[]): Promise<void> {
    const parsed = parseInput(z.array(MetricPointInputSchema), points, 'logMetrics.points');
    await this.appendMetrics(runIdArg(runId, 'logMetrics.runId'), parsed, 'logMetrics.runId');
  }

  async logArtifact(
    runId: string,
    source: ArtifactSource,
    options: LogArtifactOptions = {},
  ): Promise<ArtifactRecord> {
    const id = runIdArg(runId, 'logArtifact.runId');
    const src = parseInput(ArtifactSourceSchema, source, 'logArtifact.source');
    const opts = parseInput(LogArtifactOptionsSchema, options, 'logArtifact.options');
    const content =
      'data' in src
        ? ({
            kind: 'data',
            bytes: typeof src.data === 'string' ? Buffer.from(src.data, 'utf8') : src.data,
          } as const)
        : ({ kind: 'file', path: src.path } as const);
    const digest =
      content.kind === 'data' ? sha256(content.bytes) : await this.blobs.digestFile(content.path);

    // Checked before copying so that a conflicting re-log does not leave an unreferenced blob behind.
    const before = this.read('logArtifact', () => {
      this.requireRun(id, 'logArtifact.runId');
      return this.findArtifact(id, src.name);
    });
    if (before) sameArtifactOrConflict(before, digest, id);

    // Written even when the record exists: putting the content again repairs a damaged blob.
    const blob =
      content.kind === 'data'
        ? await this.blobs.putData(content.bytes, digest)
        : await this.blobs.putFile(content.path, digest);
    if (before) return before;
    const contentType =
      opts.contentType ?? contentTypeFor(src.name, 'data' in src && typeof src.data === 'string');
    return this.write('logArtifact', () => {
      this.requireRun(id, 'logArtifact.runId');
      const raced = this.findArtifact(id, src.name);
      if (raced) return sameArtifactOrConflict(raced, digest, id);
      const record: ArtifactRecord = {
        name: src.name,
        sha256: blob.sha256,
        size: blob.size,
        contentType,
        createdAt: Date.now(),
      };
      this.stmt(
        'INSERT INTO artifacts (run_id, name, sha256, size, content_type, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(id, record.name, record.sha256, record.size, record.contentType, record.createdAt);
      return record;
    });
  }

  async runDir(runId: string): Promise<string> {
    const id = runIdArg(runId, 'runDir.runId');
    this.assertOpen();
    this.requireRun(id, 'runDir.runId');
    const dir = join(this.root, 'runs', id);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  async artifactPath(digest: string): Promise<string> {
    const d = parseInput(Sha256Schema, digest, 'artifactPath.sha256');
    this.assertOpen();
    if (!(await this.blobs.exists(d))) {
      throw new ModelautoError('NOT_FOUND', `no artifact blob with sha256 ${d} in ${this.location}`, {
        location: { path: 'artifactPath.sha256' },
      });
    }
    return this.blobs.pathFor(d);
  }

  async readArtifact(runId: string, name: string): Promise<Buffer> {
    const id = runIdArg(runId, 'readArtifact.runId');
    const artifactName = parseInput(
      z.string().min(1, 'expected a non-empty artifact name'),
      name,
      'readArtifact.name',
    );
    const record = this.read('readArtifact', () => {
      this.requireRun(id, 'readArtifact.runId');
      const found = this.findArtifact(id, artifactName);
      if (found) return found;
      const names = (
        this.stmt('SELECT name FROM artifacts WHERE run_id = ? ORDER BY name').all(id) as { name: string }[]
      ).map((r) => r.name);
      throw new ModelautoError(
        'NOT_FOUND',
        `run ${id} has no artifact named ${JSON.stringify(artifactName)}; ` +
          (names.length
            ? `it has: ${names.map((n) => JSON.stringify(n)).join(', ')}`
            : 'it has no artifacts'),
        { location: { path: 'readArtifact.name' } },
      );
    });
    return this.blobs.readVerified(record.sha256, `artifact ${JSON.stringify(artifactName)} of run ${id}`);
  }

  async finishRun(runId: string, status: TerminalRunStatus, error?: string): Promise<RunRecord> {
    const id = runIdArg(runId, 'finishRun.runId');
    const final = parseInput(TerminalRunStatusSchema, status, 'finishRun.status');
    const message = parseInput(FinishErrorArg, error, 'finishRun.error');
    if (final === 'finished' && message !== undefined) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `an error message goes only with status "failed" or "interrupted", not "finished"`,
        {
          location: { path: 'finishRun.error' },
        },
      );
    }
    this.write('finishRun', () => {
      const current = this.requireRun(id, 'finishRun.runId');
      if (current !== 'running') {
        throw new ModelautoError(
          'CONFLICT',
          `run ${id} is already ${current}; only a running run can be finished (asked for "${final}")`,
          { location: { path: 'finishRun.runId' } },
        );
      }
      this.stmt(
        `UPDATE runs SET status = ?, error = ?, end_time = ? WHERE id = ? AND status = 'running'`,
      ).run(final, message ?? null, Date.now(), id);
    });
    return this.getRun(id);
  }

  async getRun(runId: string): Promise<RunRecord> {
    const id = runIdArg(runId, 'getRun.runId');
    return this.read('getRun', () => {
      const row = this.stmt('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
      if (!row) throw this.runNotFound(id, 'getRun.runId');
      return hydrateRun((sql) => this.stmt(sql), row);
    });
  }

  async resolveRunId(prefixOrId: string): Promise<string> {
    const prefix = typeof prefixOrId === 'string' ? prefixOrId.trim().toLowerCase() : '';
    if (!/^[0-9a-f]{4,32}$/.test(prefix)) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `invalid run id ${JSON.stringify(prefixOrId)}: expected a run id or a unique prefix of at least 4 hex characters`,
        { location: { path: 'runId' } },
      );
    }
    const matches = this.read(
      'resolveRunId',
      () =>
        this.stmt(
          `SELECT id, name, kind FROM runs WHERE id >= ? AND id < ? ORDER BY start_time DESC, seq DESC`,
        ).all(prefix, `${prefix}g`) as { id: string; name: string; kind: string }[],
    );
    const [only, ...rest] = matches;
    if (!only) throw this.runNotFound(prefix, 'runId', prefix.length < 32);
    if (rest.length === 0) return only.id;
    const shown = matches.slice(0, 10).map((m) => `${m.id} (${m.kind} ${JSON.stringify(m.name)})`);
    const more = matches.length > shown.length ? `, and ${matches.length - shown.length} more` : '';
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `run id prefix "${prefix}" is ambiguous: it matches ${matches.length} runs: ${shown.join(', ')}${more}; type more characters`,
      { location: { path: 'runId' } },
    );
  }

  async listRuns(filter: ListRunsFilter = {}): Promise<RunRecord[]> {
    const f = parseInput(ListRunsFilterSchema, filter, 'listRuns');
    const where: string[] = [];
    const args: (string | number)[] = [];
    const candidates: [string, string | undefined][] = [
      ['kind = ?', f.kind],
      ['status = ?', f.status],
      ['name = ?', f.name],
    ];
    for (const [condition, value] of candidates) {
      if (value === undefined) continue;
      where.push(condition);
      args.push(value);
    }
    const sql =
      `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ` +
      'ORDER BY start_time DESC, seq DESC LIMIT ? OFFSET ?';
    // LIMIT -1 is SQLite's "no limit"; OFFSET needs a LIMIT clause.
    args.push(f.limit ?? -1, f.offset ?? 0);
    return this.read('listRuns', () =>
      (this.stmt(sql).all(...args) as RunRow[]).map((row) => hydrateRun((sql) => this.stmt(sql), row)),
    );
  }

  async getMetricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    const id = runIdArg(runId, 'getMetricHistory.runId');
    const metricKey = parseInput(MetricKeyArg, key, 'getMetricHistory.key');
    return this.read('getMetricHistory', () => {
      this.requireRun(id, 'getMetricHistory.runId');
      const rows = this.stmt(
        'SELECT key, value, step, timestamp FROM metrics WHERE run_id = ? AND key = ? ORDER BY step, timestamp, seq',
      ).all(id, metricKey) as MetricRow[];
      return rows.map(metricFromRow);
    });
  }

  async close(): Promise<void> {
    this.statements.clear();
    this.connection?.close();
    this.connection = undefined;
  }

  private assertOpen(): void {
    if (!this.connection) throw new ModelautoError('STORE', `the tracking store ${this.location} is closed`);
  }

  private get db(): Database.Database {
    if (!this.connection) throw new ModelautoError('STORE', `the tracking store ${this.location} is closed`);
    return this.connection;
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Runs `fn` in an IMMEDIATE transaction; SQLite failures become STORE errors naming the database. */
  private write<T>(what: string, fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      throw sqliteError(e, `${what} failed`, this.dbPath);
    }
  }

  /** Runs `fn` in a read transaction so that the rows it reads from several tables form one snapshot. */
  private read<T>(what: string, fn: () => T): T {
    try {
      return this.db.transaction(fn).deferred();
    } catch (e) {
      throw sqliteError(e, `${what} failed`, this.dbPath);
    }
  }

  private requireRun(id: string, path: string): RunStatus {
    const row = this.stmt('SELECT status FROM runs WHERE id = ?').get(id) as
      { status: RunStatus } | undefined;
    if (!row) throw this.runNotFound(id, path);
    return row.status;
  }

  private runNotFound(id: string, path: string, isPrefix = false): ModelautoError {
    return new ModelautoError(
      'NOT_FOUND',
      `no run ${isPrefix ? 'id starts with' : 'with id'} ${id} in ${this.location}`,
      { location: { path } },
    );
  }

  private insertParams(id: string, params: Record<string, JsonValue>, path: string): void {
    const select = this.stmt('SELECT value_json FROM params WHERE run_id = ? AND key = ?');
    const insert = this.stmt('INSERT INTO params (run_id, key, value_json) VALUES (?, ?, ?)');
    for (const [key, value] of Object.entries(params)) {
      const json = canonicalJson(value);
      const existing = select.get(id, key) as { value_json: string } | undefined;
      if (existing === undefined) insert.run(id, key, json);
      else if (existing.value_json !== json) {
        throw new ModelautoError(
          'CONFLICT',
          `param ${JSON.stringify(key)} of run ${id} is already ${existing.value_json}; params are immutable, ` +
            `refusing ${json} (start a new run to try another value)`,
          { location: { path: `${path}.${key}` } },
        );
      }
    }
  }

  private upsertTags(id: string, tags: Record<string, string>): void {
    const upsert = this.stmt(
      'INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value',
    );
    for (const [key, value] of Object.entries(tags)) upsert.run(id, key, value);
  }

  private async appendMetrics(
    id: string,
    points: z.output<typeof MetricPointInputSchema>[],
    path: string,
  ): Promise<void> {
    const now = Date.now();
    this.write('logMetrics', () => {
      this.requireRun(id, path);
      const insert = this.stmt(
        'INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)',
      );
      for (const p of points)
        insert.run(id, p.key, Number.isNaN(p.value) ? null : p.value, p.step, p.timestamp ?? now);
    });
  }

  private findArtifact(id: string, name: string): ArtifactRecord | undefined {
    const row = this.stmt(
      'SELECT name, sha256, size, content_type, created_at FROM artifacts WHERE run_id = ? AND name = ?',
    ).get(id, name) as ArtifactRow | undefined;
    return row && artifactFromRow(row);
  }
}

function runIdArg(value: string, path: string): string {
  return parseInput(RunIdSchema, value, path);
}

function sameArtifactOrConflict(existing: ArtifactRecord, digest: string, runId: string): ArtifactRecord {
  if (existing.sha256 === digest) return existing;
  throw new ModelautoError(
    'CONFLICT',
    `run ${runId} already has an artifact named ${JSON.stringify(existing.name)} with different content ` +
      `(sha256 ${existing.sha256}, new content ${digest}); artifact names are immutable, use another name`,
    { location: { path: 'logArtifact.source.name' } },
  );
}
