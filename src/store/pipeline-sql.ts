/**
 * The pipeline store over SQL, shared by SQLite and PostgreSQL (they differ only in the driver). A
 * write that reads before it decides (claiming a run, finishing it) locks the run's row first
 * (PostgreSQL; a SQLite write holds the database lock anyway), so two processes resuming the same
 * run cannot both take it.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ModelautoError } from '../core/errors.js';
import { canonicalJson } from './canonical-json.js';
import {
  cacheFromRow,
  runFromRow,
  stepFromRow,
  trialFromRow,
  RUN_COLUMNS,
  STEP_COLUMNS,
  type CacheRow,
  type PipelineRunRow,
  type PipelineStepRow,
  type TrialRow,
} from './pipeline-rows.js';
import {
  CreatePipelineRunInputSchema,
  LineageRefSchema,
  ListPipelineRunsFilterSchema,
  RecordTrialInputSchema,
  StepUpdateSchema,
  type CacheEntry,
  type ClaimOptions,
  type CreatePipelineRunInput,
  type LineageRecord,
  type LineageRef,
  type ListPipelineRunsFilter,
  type PipelineRunRecord,
  type PipelineStepRecord,
  type PipelineStore,
  type RecordTrialInput,
  type StepLogLine,
  type StepUpdate,
  type TerminalPipelineRunStatus,
  type TrialRecord,
} from './pipeline-types.js';
import { all, get, run, type SqlArg, type SqlDriver, type SqlScript } from './sql-script.js';
import { RunIdSchema, type JsonValue } from './types.js';
import { parseInput } from './validate.js';

const DEFAULT_STALE_MS = 60_000;
const TERMINAL = ['finished', 'failed', 'gated', 'interrupted'] as const;

const json = (v: JsonValue): string => canonicalJson(v);

/** Columns of StepUpdate and how each is written. */
const STEP_FIELDS: [keyof StepUpdate, string, (v: unknown) => SqlArg][] = [
  ['status', 'status', (v) => v as string],
  ['cached', 'cached', (v) => (v ? 1 : 0)],
  ['cacheKey', 'cache_key', (v) => v as string | null],
  ['inputs', 'inputs_json', (v) => (v === null ? null : json(v as JsonValue))],
  ['outputs', 'outputs_json', (v) => (v === null ? null : json(v as JsonValue))],
  ['error', 'error', (v) => v as string | null],
  ['attempt', 'attempt', (v) => v as number],
  ['taskId', 'task_id', (v) => v as string | null],
  ['progress', 'progress', (v) => v as number | null],
  ['message', 'message', (v) => v as string | null],
  ['startTime', 'start_time', (v) => v as number | null],
  ['endTime', 'end_time', (v) => v as number | null],
];

export class SqlPipelineStore implements PipelineStore {
  readonly location: string;

  constructor(private readonly db: SqlDriver) {
    this.location = db.location;
  }

  async createRun(input: CreatePipelineRunInput): Promise<PipelineRunRecord> {
    const spec = parseInput(CreatePipelineRunInputSchema, input, 'createPipelineRun');
    const ids = new Set<string>();
    for (const s of spec.steps) {
      if (ids.has(s.stepId)) {
        throw new ModelautoError('INVALID_ARGUMENT', `duplicate step id "${s.stepId}"`, {
          location: { path: 'createPipelineRun.steps' },
        });
      }
      ids.add(s.stepId);
    }
    const id = randomBytes(16).toString('hex');
    const now = Date.now();
    await this.db.write('createPipelineRun', function* (): SqlScript<void> {
      yield* run(
        `INSERT INTO pipeline_runs (id, name, status, error, spec_json, params_json, file, base_dir, executor,
           code_version, owner, heartbeat_at, attempts, start_time, end_time)
         VALUES (?, ?, 'running', NULL, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, NULL)`,
        id,
        spec.name,
        json(spec.spec),
        json(spec.params),
        spec.file,
        spec.baseDir,
        spec.executor,
        spec.codeVersion,
        spec.owner,
        now,
        now,
      );
      for (const [position, s] of spec.steps.entries()) {
        yield* run(
          `INSERT INTO pipeline_steps (run_id, step_id, position, uses, needs_json, status, cached, attempt)
           VALUES (?, ?, ?, ?, ?, 'pending', 0, 0)`,
          id,
          s.stepId,
          position,
          s.uses,
          JSON.stringify(s.needs),
        );
      }
    });
    return this.getRun(id);
  }

  async getRun(runId: string): Promise<PipelineRunRecord> {
    const id = parseInput(RunIdSchema, runId, 'pipelineRunId');
    const where = this.location;
    return this.db.read('getPipelineRun', function* () {
      return yield* requireRun(where, id);
    });
  }

  async resolveRunId(prefixOrId: string): Promise<string> {
    const prefix = typeof prefixOrId === 'string' ? prefixOrId.trim().toLowerCase() : '';
    if (!/^[0-9a-f]{4,32}$/.test(prefix)) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `invalid pipeline run id ${JSON.stringify(prefixOrId)}: expected an id or a unique prefix of at least 4 hex characters`,
        { location: { path: 'pipelineRunId' } },
      );
    }
    const rows = await this.db.read('resolvePipelineRunId', () =>
      all<{ id: string; name: string }>(
        'SELECT id, name FROM pipeline_runs WHERE id >= ? AND id < ? ORDER BY start_time DESC, seq DESC',
        prefix,
        `${prefix}g`,
      ),
    );
    const [only, ...rest] = rows;
    if (!only) {
      throw new ModelautoError('NOT_FOUND', `no pipeline run id starts with ${prefix} in ${this.location}`, {
        location: { path: 'pipelineRunId' },
      });
    }
    if (rest.length === 0) return only.id;
    const shown = rows.slice(0, 10).map((r) => `${r.id} (${JSON.stringify(r.name)})`);
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `pipeline run id prefix "${prefix}" is ambiguous: it matches ${rows.length} runs: ${shown.join(', ')}; type more characters`,
      { location: { path: 'pipelineRunId' } },
    );
  }

  async listRuns(filter: ListPipelineRunsFilter = {}): Promise<PipelineRunRecord[]> {
    const f = parseInput(ListPipelineRunsFilterSchema, filter, 'listPipelineRuns');
    const where: string[] = [];
    const args: SqlArg[] = [];
    for (const [column, value] of [
      ['status', f.status],
      ['name', f.name],
    ] as const) {
      if (value === undefined) continue;
      where.push(`${column} = ?`);
      args.push(value);
    }
    const sql =
      `SELECT ${RUN_COLUMNS} FROM pipeline_runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''}` +
      ` ORDER BY start_time DESC, seq DESC${f.limit ? ` LIMIT ${f.limit}` : ''}`;
    return this.db.read('listPipelineRuns', function* () {
      const runs = yield* all<PipelineRunRow>(sql, ...args);
      if (runs.length === 0) return [];
      const steps: PipelineStepRow[] = [];
      for (let i = 0; i < runs.length; i += 500) {
        const batch = runs.slice(i, i + 500).map((r) => r.id);
        steps.push(
          ...(yield* all<PipelineStepRow>(
            `SELECT ${STEP_COLUMNS} FROM pipeline_steps WHERE run_id IN (${batch.map(() => '?').join(', ')}) ORDER BY position`,
            ...batch,
          )),
        );
      }
      return runs.map((r) => runFromRow(r, steps));
    });
  }

  async claimRun(runId: string, owner: string, options: ClaimOptions = {}): Promise<PipelineRunRecord> {
    const id = parseInput(RunIdSchema, runId, 'pipelineRunId');
    const where = this.location;
    const lock = this.db.forUpdate;
    const now = Date.now();
    const staleAfter = options.staleAfterMs ?? DEFAULT_STALE_MS;
    return this.db.write('claimPipelineRun', function* () {
      const row = yield* get<PipelineRunRow>(
        `SELECT ${RUN_COLUMNS} FROM pipeline_runs WHERE id = ?${lock}`,
        id,
      );
      if (!row) throw notFound(where, id);
      if (row.status === 'finished' || row.status === 'gated') {
        throw new ModelautoError(
          'CONFLICT',
          `pipeline run ${id} is ${row.status}: there is nothing to resume; run the pipeline again instead (unchanged steps are cached)`,
          { location: { path: 'pipelineRunId' } },
        );
      }
      if (row.status === 'running' && !options.force) {
        const alive = ownerAlive(row.owner, row.heartbeat_at, now, staleAfter);
        if (alive) {
          throw new ModelautoError(
            'CONFLICT',
            `pipeline run ${id} is running in ${row.owner} (${alive}); resume it once that process is gone, or with --force`,
            { location: { path: 'pipelineRunId' } },
          );
        }
      }
      yield* run(
        `UPDATE pipeline_runs SET status = 'running', error = NULL, owner = ?, heartbeat_at = ?,
           attempts = attempts + 1, end_time = NULL WHERE id = ?`,
        owner,
        now,
        id,
      );
      return yield* requireRun(where, id);
    });
  }

  async heartbeat(runId: string, owner: string): Promise<void> {
    const id = parseInput(RunIdSchema, runId, 'pipelineRunId');
    const changed = await this.db.write('pipelineHeartbeat', () =>
      run(
        `UPDATE pipeline_runs SET heartbeat_at = ? WHERE id = ? AND owner = ? AND status = 'running'`,
        Date.now(),
        id,
        owner,
      ),
    );
    if (changed === 0) {
      throw new ModelautoError('CONFLICT', `pipeline run ${id} is no longer run by ${owner}`, {
        location: { path: 'pipelineRunId' },
      });
    }
  }

  async finishRun(
    runId: string,
    status: TerminalPipelineRunStatus,
    error?: string,
  ): Promise<PipelineRunRecord> {
    const id = parseInput(RunIdSchema, runId, 'pipelineRunId');
    if (!(TERMINAL as readonly string[]).includes(status)) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `expected one of ${TERMINAL.join(', ')}, got "${status}"`,
        {
          location: { path: 'finishPipelineRun.status' },
        },
      );
    }
    if (error !== undefined && status === 'finished') {
      throw new ModelautoError('INVALID_ARGUMENT', 'a finished run has no error', {
        location: { path: 'finishPipelineRun.error' },
      });
    }
    const where = this.location;
    const lock = this.db.forUpdate;
    const now = Date.now();
    return this.db.write('finishPipelineRun', function* () {
      const row = yield* get<{ status: string }>(`SELECT status FROM pipeline_runs WHERE id = ?${lock}`, id);
      if (!row) throw notFound(where, id);
      if (row.status !== 'running') {
        throw new ModelautoError('CONFLICT', `pipeline run ${id} is ${row.status}, not running`, {
          location: { path: 'pipelineRunId' },
        });
      }
      yield* run(
        `UPDATE pipeline_runs SET status = ?, error = ?, owner = NULL, end_time = ? WHERE id = ?`,
        status,
        error ?? null,
        now,
        id,
      );
      return yield* requireRun(where, id);
    });
  }

  async updateStep(runId: string, stepId: string, update: StepUpdate): Promise<PipelineStepRecord> {
    const id = parseInput(RunIdSchema, runId, 'pipelineRunId');
    const u = parseInput(StepUpdateSchema, update, 'updateStep');
    const sets: string[] = [];
    const args: SqlArg[] = [];
    for (const [field, column, encode] of STEP_FIELDS) {
      if (u[field] === undefined) continue;
      sets.push(`${column} = ?`);
      args.push(encode(u[field]));
    }
    const where = this.location;
    return this.db.write('updateStep', function* () {
      if (sets.length > 0) {
        yield* run(
          `UPDATE pipeline_steps SET ${sets.join(', ')} WHERE run_id = ? AND step_id = ?`,
          ...args,
          id,
          stepId,
        );
      }
      const row = yield* get<PipelineStepRow>(
        `SELECT ${STEP_COLUMNS} FROM pipeline_steps WHERE run_id = ? AND step_id = ?`,
        id,
        stepId,
      );
      if (!row) {
        throw new ModelautoError('NOT_FOUND', `no step "${stepId}" in pipeline run ${id} in ${where}`, {
          location: { path: 'stepId' },
        });
      }
      return stepFromRow(row);
    });
  }

  async appendLogs(runId: string, stepId: string, lines: string[]): Promise<void> {
    const id = parseInput(RunIdSchema, runId, 'pipelineRunId');
    if (lines.length === 0) return;
    const now = Date.now();
    await this.db.write('appendStepLogs', function* () {
      for (const line of lines) {
        yield* run(
          'INSERT INTO pipeline_step_logs (run_id, step_id, time, line) VALUES (?, ?, ?, ?)',
          id,
          stepId,
          now,
          line.replace(/\0/g, ''),
        );
      }
    });
  }

  async getLogs(
    runId: string,
    options: { stepId?: string; afterSeq?: number; limit?: number; newest?: boolean } = {},
  ): Promise<StepLogLine[]> {
    const id = parseInput(RunIdSchema, runId, 'pipelineRunId');
    if (options.newest && options.limit === undefined) {
      throw new ModelautoError('INVALID_ARGUMENT', 'getLogs: `newest` needs a `limit`');
    }
    const args: SqlArg[] = [id, options.afterSeq ?? 0];
    let sql = 'SELECT seq, step_id, time, line FROM pipeline_step_logs WHERE run_id = ? AND seq > ?';
    if (options.stepId !== undefined) {
      sql += ' AND step_id = ?';
      args.push(options.stepId);
    }
    sql += options.newest ? ' ORDER BY seq DESC' : ' ORDER BY seq';
    if (options.limit !== undefined) sql += ` LIMIT ${Math.max(1, Math.floor(options.limit))}`;
    const rows = await this.db.read('getStepLogs', () =>
      all<{ seq: number; step_id: string; time: number; line: string }>(sql, ...args),
    );
    const lines = rows.map((r) => ({ seq: Number(r.seq), stepId: r.step_id, time: r.time, line: r.line }));
    return options.newest ? lines.reverse() : lines;
  }

  async getCached(cacheKey: string): Promise<CacheEntry | undefined> {
    const row = await this.db.read('getCached', () =>
      get<CacheRow>(
        'SELECT cache_key, uses, outputs_json, run_id, step_id, created_at FROM pipeline_cache WHERE cache_key = ?',
        cacheKey,
      ),
    );
    return row ? cacheFromRow(row) : undefined;
  }

  async putCached(
    entry: Omit<CacheEntry, 'createdAt'>,
    options: { replace?: boolean } = {},
  ): Promise<CacheEntry> {
    const now = Date.now();
    const conflict = options.replace
      ? `DO UPDATE SET uses = excluded.uses, outputs_json = excluded.outputs_json, run_id = excluded.run_id,
           step_id = excluded.step_id, created_at = excluded.created_at`
      : 'DO NOTHING';
    const row = await this.db.write('putCached', function* () {
      yield* run(
        `INSERT INTO pipeline_cache (cache_key, uses, outputs_json, run_id, step_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (cache_key) ${conflict}`,
        entry.cacheKey,
        entry.uses,
        json(entry.outputs),
        entry.runId,
        entry.stepId,
        now,
      );
      return yield* get<CacheRow>(
        'SELECT cache_key, uses, outputs_json, run_id, step_id, created_at FROM pipeline_cache WHERE cache_key = ?',
        entry.cacheKey,
      );
    });
    return cacheFromRow(row as CacheRow);
  }

  async addLineage(runId: string, stepId: string, refs: LineageRef[]): Promise<void> {
    const id = parseInput(RunIdSchema, runId, 'pipelineRunId');
    const list = refs.map((r, i) => parseInput(LineageRefSchema, r, `lineage.${i}`));
    await this.db.write('addLineage', function* () {
      for (const r of list) {
        yield* run(
          `INSERT INTO pipeline_lineage (run_id, step_id, kind, ref) VALUES (?, ?, ?, ?)
           ON CONFLICT (run_id, step_id, kind, ref) DO NOTHING`,
          id,
          stepId,
          r.kind,
          r.ref,
        );
      }
    });
  }

  async getLineage(runId: string): Promise<LineageRecord[]> {
    const id = parseInput(RunIdSchema, runId, 'pipelineRunId');
    const rows = await this.db.read('getLineage', () =>
      all<{ step_id: string; kind: LineageRecord['kind']; ref: string }>(
        'SELECT step_id, kind, ref FROM pipeline_lineage WHERE run_id = ? ORDER BY step_id, kind, ref',
        id,
      ),
    );
    return rows.map((r) => ({ stepId: r.step_id, kind: r.kind, ref: r.ref }));
  }

  async recordTrial(input: RecordTrialInput): Promise<{ record: TrialRecord; inserted: boolean }> {
    const t = parseInput(RecordTrialInputSchema, input, 'recordTrial');
    const now = Date.now();
    const metric = t.metric === null || Number.isNaN(t.metric) ? null : t.metric;
    return this.db.write('recordTrial', function* () {
      const inserted = yield* run(
        `INSERT INTO search_trials (trial_id, search_run_id, params_json, rung, status, run_id, metric, result_json, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (trial_id) DO NOTHING`,
        t.trialId,
        t.searchRunId,
        json(t.params),
        t.rung,
        t.status,
        t.runId,
        metric,
        json(t.result),
        now,
      );
      const row = yield* get<TrialRow>('SELECT * FROM search_trials WHERE trial_id = ?', t.trialId);
      return { record: trialFromRow(row as TrialRow), inserted: inserted > 0 };
    });
  }

  async getTrial(trialId: string): Promise<TrialRecord | undefined> {
    const row = await this.db.read('getTrial', () =>
      get<TrialRow>('SELECT * FROM search_trials WHERE trial_id = ?', trialId),
    );
    return row ? trialFromRow(row) : undefined;
  }

  async listTrials(searchRunId: string): Promise<TrialRecord[]> {
    const rows = await this.db.read('listTrials', () =>
      all<TrialRow>('SELECT * FROM search_trials WHERE search_run_id = ? ORDER BY trial_id', searchRunId),
    );
    return rows.map(trialFromRow);
  }

  async addTrialAttempt(trialId: string, runId: string): Promise<string[]> {
    const id = parseInput(RunIdSchema, runId, 'addTrialAttempt.runId');
    const now = Date.now();
    return this.db.write('addTrialAttempt', function* () {
      const earlier = yield* all<{ run_id: string }>(
        'SELECT run_id FROM search_trial_attempts WHERE trial_id = ? AND run_id <> ? ORDER BY started_at, run_id',
        trialId,
        id,
      );
      yield* run(
        `INSERT INTO search_trial_attempts (trial_id, run_id, started_at) VALUES (?, ?, ?)
         ON CONFLICT (trial_id, run_id) DO NOTHING`,
        trialId,
        id,
        now,
      );
      return earlier.map((r) => r.run_id);
    });
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

function* requireRun(where: string, id: string): SqlScript<PipelineRunRecord> {
  const row = yield* get<PipelineRunRow>(`SELECT ${RUN_COLUMNS} FROM pipeline_runs WHERE id = ?`, id);
  if (!row) throw notFound(where, id);
  const steps = yield* all<PipelineStepRow>(
    `SELECT ${STEP_COLUMNS} FROM pipeline_steps WHERE run_id = ? ORDER BY position`,
    id,
  );
  return runFromRow(row, steps);
}

function notFound(where: string, id: string): ModelautoError {
  return new ModelautoError('NOT_FOUND', `no pipeline run with id ${id} in ${where}`, {
    location: { path: 'pipelineRunId' },
  });
}

/** `host:pid` of this process, the owner recorded on the runs it coordinates. */
export function processOwner(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * Why the owner counts as alive, or undefined when it is gone: on this host the process is checked
 * directly; on another host only a fresh heartbeat keeps it.
 */
function ownerAlive(owner: string | null, heartbeatAt: number | null, now: number, staleAfter: number) {
  const age = heartbeatAt === null ? Infinity : now - heartbeatAt;
  const m = owner ? /^(.*):(\d+)$/.exec(owner) : null;
  if (m && m[1] === hostname()) {
    const pid = Number(m[2]);
    if (pid === process.pid) return 'this process';
    try {
      process.kill(pid, 0);
      return `process ${pid} is alive`;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM' ? `process ${pid} is alive` : undefined;
    }
  }
  return age < staleAfter ? `heartbeat ${Math.round(age / 1000)} s ago` : undefined;
}
