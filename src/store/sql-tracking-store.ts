/**
 * The tracking store over SQL, shared by the SQLite and PostgreSQL backends: the argument checks and
 * the transaction scripts are written once against SqlDriver; a backend brings its driver, its
 * folders and a few TrackingDialect hooks.
 *
 * Locking: every write is one driver write transaction. SQLite takes the database write lock up
 * front (BEGIN IMMEDIATE), so a script's checks and writes never interleave with another writer.
 * PostgreSQL runs at READ COMMITTED and, where a check and a write must not interleave (finishing a
 * run), locks the run's row first (`SqlDriver.forUpdate`). Inserts that another writer may race are
 * written so that both backends resolve the race in the database: immutable params with an upsert
 * that returns the stored value (two writers of one key never both succeed with different values),
 * artifact names with ON CONFLICT DO NOTHING and a look at the record that won. Reads run in one
 * snapshot.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ModelautoError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import type { ArtifactBlobs } from './artifact-blobs.js';
import { canonicalJson } from './canonical-json.js';
import { contentTypeFor } from './content-type.js';
import { all, get, run, type SqlArg, type SqlDriver, type SqlScript } from './sql-script.js';
import {
  ARTIFACT_COLUMNS,
  artifactFromRow,
  hydrateRuns,
  metricFromRow,
  RUN_COLUMNS,
  type ArtifactRow,
  type MetricRow,
  type RunHydration,
  type RunRow,
} from './tracking-rows.js';
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

const MetricKeyArg = z.string().min(1, 'expected a non-empty metric key');
const ArtifactNameArg = z.string().min(1, 'expected a non-empty artifact name');
const FinishErrorArg = z.string().min(1, 'expected a non-empty error message').optional();

/** What differs in the SQL of the two backends. */
export interface TrackingDialect extends RunHydration {
  /** Bound as LIMIT when listRuns is given none (OFFSET needs a LIMIT clause in SQLite). */
  readonly noLimit: SqlArg;
  /** Metric points per INSERT (5 bind parameters each) when logging many at once. */
  readonly metricRowsPerInsert: number;
}

export interface TrackingFolders {
  /** Folder of the content-addressed blobs. */
  artifactsDir: string;
  /** Folder of the runs' working folders. */
  runsDir: string;
  /** How messages name the place a missing blob was looked for. */
  blobsWhere: string;
}

type MetricPointArg = z.output<typeof MetricPointInputSchema>;

export class SqlTrackingStore implements TrackingStore {
  readonly location: string;
  /** Folder of the content-addressed blobs. */
  readonly artifactsDir: string;
  /** Folder of the runs' working folders. */
  readonly runsDir: string;
  private readonly blobsWhere: string;
  private closed = false;

  protected constructor(
    private readonly db: SqlDriver,
    private readonly blobs: ArtifactBlobs,
    folders: TrackingFolders,
    private readonly dialect: TrackingDialect,
  ) {
    this.location = db.location;
    this.artifactsDir = folders.artifactsDir;
    this.runsDir = folders.runsDir;
    this.blobsWhere = folders.blobsWhere;
  }

  async createRun(input: CreateRunInput): Promise<RunRecord> {
    const spec = parseInput(CreateRunInputSchema, input, 'createRun');
    const id = randomBytes(16).toString('hex');
    const now = Date.now();
    const where = this.location;
    await this.write('createRun', function* (): SqlScript<void> {
      if (spec.parentRunId !== undefined) yield* requireRun(where, spec.parentRunId, 'createRun.parentRunId');
      yield* run(
        `INSERT INTO runs (id, name, kind, status, error, data_fingerprint, git_commit, parent_run_id, start_time, end_time)
         VALUES (?, ?, ?, 'running', NULL, ?, ?, ?, ?, NULL)`,
        id,
        spec.name ?? `${spec.kind}-${id.slice(0, 8)}`,
        spec.kind,
        spec.dataFingerprint ?? null,
        spec.gitCommit ?? null,
        spec.parentRunId ?? null,
        now,
      );
      yield* insertParams(id, spec.params ?? {}, 'createRun.params');
      yield* upsertTags(id, spec.tags ?? {});
    });
    return this.getRun(id);
  }

  async logParams(runId: string, params: Record<string, JsonValue>): Promise<void> {
    const id = runIdArg(runId, 'logParams.runId');
    const values = parseInput(ParamsSchema, params, 'logParams.params');
    const where = this.location;
    await this.write('logParams', function* (): SqlScript<void> {
      yield* requireRun(where, id, 'logParams.runId');
      yield* insertParams(id, values, 'logParams.params');
    });
  }

  async setTags(runId: string, tags: Record<string, string>): Promise<void> {
    const id = runIdArg(runId, 'setTags.runId');
    const values = parseInput(TagsSchema, tags, 'setTags.tags');
    const where = this.location;
    await this.write('setTags', function* (): SqlScript<void> {
      yield* requireRun(where, id, 'setTags.runId');
      yield* upsertTags(id, values);
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
    const where = this.location;

    // Checked before copying so that a conflicting re-log does not leave an unreferenced blob behind.
    const before = await this.read('logArtifact', function* (): SqlScript<ArtifactRecord | undefined> {
      yield* requireRun(where, id, 'logArtifact.runId');
      return yield* findArtifact(id, src.name);
    });
    if (before) sameArtifactOrConflict(before, digest, id);

    // Written even when the record exists: putting the content again repairs a damaged blob.
    const blob =
      content.kind === 'data'
        ? await this.blobs.putData(content.bytes, digest)
        : await this.blobs.putFile(content.path, digest);
    if (before) return before;
    const record: ArtifactRecord = {
      name: src.name,
      sha256: blob.sha256,
      size: blob.size,
      contentType:
        opts.contentType ?? contentTypeFor(src.name, 'data' in src && typeof src.data === 'string'),
      createdAt: Date.now(),
    };
    return this.write('logArtifact', function* (): SqlScript<ArtifactRecord> {
      yield* requireRun(where, id, 'logArtifact.runId');
      const inserted = yield* run(
        `INSERT INTO artifacts (run_id, ${ARTIFACT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, name) DO NOTHING`,
        id,
        record.name,
        record.sha256,
        record.size,
        record.contentType,
        record.createdAt,
      );
      if (inserted === 1) return record;
      // Another writer recorded the name first: same content is fine, different content is a conflict.
      const raced = yield* findArtifact(id, record.name);
      if (!raced) throw new ModelautoError('STORE', `artifact ${JSON.stringify(record.name)} vanished`);
      return sameArtifactOrConflict(raced, digest, id);
    });
  }

  async runDir(runId: string): Promise<string> {
    const id = runIdArg(runId, 'runDir.runId');
    const where = this.location;
    await this.read('runDir', () => requireRun(where, id, 'runDir.runId'));
    const dir = join(this.runsDir, id);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async artifactPath(digest: string): Promise<string> {
    const d = parseInput(Sha256Schema, digest, 'artifactPath.sha256');
    this.assertOpen();
    if (!(await this.blobs.exists(d))) {
      throw new ModelautoError('NOT_FOUND', `no artifact blob with sha256 ${d} in ${this.blobsWhere}`, {
        location: { path: 'artifactPath.sha256' },
      });
    }
    return this.blobs.pathFor(d);
  }

  async readArtifact(runId: string, name: string): Promise<Buffer> {
    const id = runIdArg(runId, 'readArtifact.runId');
    const artifactName = parseInput(ArtifactNameArg, name, 'readArtifact.name');
    const where = this.location;
    const record = await this.read('readArtifact', function* (): SqlScript<ArtifactRecord> {
      yield* requireRun(where, id, 'readArtifact.runId');
      const found = yield* findArtifact(id, artifactName);
      if (found) return found;
      const names = (yield* all<{ name: string }>(
        'SELECT name FROM artifacts WHERE run_id = ? ORDER BY name',
        id,
      )).map((r) => r.name);
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
        { location: { path: 'finishRun.error' } },
      );
    }
    const where = this.location;
    const lock = this.db.forUpdate;
    await this.write('finishRun', function* (): SqlScript<void> {
      // Locked so that two processes finishing the run at once cannot both see it running.
      const current = yield* requireRun(where, id, 'finishRun.runId', lock);
      if (current !== 'running') {
        throw new ModelautoError(
          'CONFLICT',
          `run ${id} is already ${current}; only a running run can be finished (asked for "${final}")`,
          { location: { path: 'finishRun.runId' } },
        );
      }
      yield* run(
        `UPDATE runs SET status = ?, error = ?, end_time = ? WHERE id = ? AND status = 'running'`,
        final,
        message ?? null,
        Date.now(),
        id,
      );
    });
    return this.getRun(id);
  }

  async getRun(runId: string): Promise<RunRecord> {
    const id = runIdArg(runId, 'getRun.runId');
    const where = this.location;
    const how = this.dialect;
    return this.read('getRun', function* (): SqlScript<RunRecord> {
      const row = yield* get<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`, id);
      if (!row) throw runNotFound(where, id, 'getRun.runId');
      const [record] = yield* hydrateRuns([row], how);
      return record as RunRecord;
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
    // A range rather than LIKE: it uses the index on id in both backends (ids are lowercase hex, and
    // PostgreSQL compares them in the "C" collation), and `g` sorts after every hex digit.
    const matches = await this.read('resolveRunId', () =>
      all<{ id: string; name: string; kind: string }>(
        'SELECT id, name, kind FROM runs WHERE id >= ? AND id < ? ORDER BY start_time DESC, seq DESC',
        prefix,
        `${prefix}g`,
      ),
    );
    const [only, ...rest] = matches;
    if (!only) throw runNotFound(this.location, prefix, 'runId', prefix.length < 32);
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
    const args: SqlArg[] = [];
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
    args.push(f.limit ?? this.dialect.noLimit, f.offset ?? 0);
    const sql =
      `SELECT ${RUN_COLUMNS} FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ` +
      'ORDER BY start_time DESC, seq DESC LIMIT ? OFFSET ?';
    const how = this.dialect;
    return this.read('listRuns', function* (): SqlScript<RunRecord[]> {
      return yield* hydrateRuns(yield* all<RunRow>(sql, ...args), how);
    });
  }

  async getMetricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    const id = runIdArg(runId, 'getMetricHistory.runId');
    const metricKey = parseInput(MetricKeyArg, key, 'getMetricHistory.key');
    const where = this.location;
    return this.read('getMetricHistory', function* (): SqlScript<MetricPoint[]> {
      yield* requireRun(where, id, 'getMetricHistory.runId');
      const rows = yield* all<MetricRow>(
        'SELECT key, value, step, timestamp FROM metrics WHERE run_id = ? AND key = ? ORDER BY step, timestamp, seq',
        id,
        metricKey,
      );
      return rows.map(metricFromRow);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ModelautoError('STORE', `the tracking store ${this.location} is closed`);
  }

  private write<T>(what: string, script: () => SqlScript<T>): Promise<T> {
    this.assertOpen();
    return this.db.write(what, script);
  }

  private read<T>(what: string, script: () => SqlScript<T>): Promise<T> {
    this.assertOpen();
    return this.db.read(what, script);
  }

  private async appendMetrics(id: string, points: MetricPointArg[], path: string): Promise<void> {
    const now = Date.now();
    const where = this.location;
    const perInsert = this.dialect.metricRowsPerInsert;
    await this.write('logMetrics', function* (): SqlScript<void> {
      yield* requireRun(where, id, path);
      for (let i = 0; i < points.length; i += perInsert) {
        const chunk = points.slice(i, i + perInsert);
        // Inserted in the given order, so `seq` (the tie-break of the history order) keeps it.
        yield* run(
          `INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
          ...chunk.flatMap((p): SqlArg[] => [id, p.key, p.value, p.step, p.timestamp ?? now]),
        );
      }
    });
  }
}

function* requireRun(where: string, id: string, path: string, lock = ''): SqlScript<RunStatus> {
  const row = yield* get<{ status: RunStatus }>(`SELECT status FROM runs WHERE id = ?${lock}`, id);
  if (!row) throw runNotFound(where, id, path);
  return row.status;
}

function runNotFound(where: string, id: string, path: string, isPrefix = false): ModelautoError {
  return new ModelautoError(
    'NOT_FOUND',
    `no run ${isPrefix ? 'id starts with' : 'with id'} ${id} in ${where}`,
    { location: { path } },
  );
}

function* insertParams(id: string, params: Record<string, JsonValue>, path: string): SqlScript<void> {
  for (const [key, value] of Object.entries(params)) {
    const json = canonicalJson(value);
    // The no-op update makes RETURNING give the stored value whether this call inserted it or not.
    const stored = yield* get<{ value_json: string }>(
      `INSERT INTO params (run_id, key, value_json) VALUES (?, ?, ?)
       ON CONFLICT (run_id, key) DO UPDATE SET value_json = params.value_json RETURNING value_json`,
      id,
      key,
      json,
    );
    if (stored && stored.value_json !== json) {
      throw new ModelautoError(
        'CONFLICT',
        `param ${JSON.stringify(key)} of run ${id} is already ${stored.value_json}; params are immutable, ` +
          `refusing ${json} (start a new run to try another value)`,
        { location: { path: `${path}.${key}` } },
      );
    }
  }
}

function* upsertTags(id: string, tags: Record<string, string>): SqlScript<void> {
  for (const [key, value] of Object.entries(tags)) {
    yield* run(
      'INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value',
      id,
      key,
      value,
    );
  }
}

function* findArtifact(id: string, name: string): SqlScript<ArtifactRecord | undefined> {
  const row = yield* get<ArtifactRow>(
    `SELECT ${ARTIFACT_COLUMNS} FROM artifacts WHERE run_id = ? AND name = ?`,
    id,
    name,
  );
  return row && artifactFromRow(row);
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
