/**
 * The task results table and its queries, written once for SQLite and PostgreSQL on the store's
 * SqlDriver (see sql-script.ts). The table lives in the store's database next to the runs; it is
 * created on first open (`IF NOT EXISTS`, under the write lock on SQLite and an advisory lock on
 * PostgreSQL, so concurrent openers create it once) rather than through the tracking store's
 * numbered migrations, which other parts of the store extend independently.
 *
 * Exactly once: `INSERT ... ON CONFLICT (task_id) DO NOTHING` is atomic on both backends (on
 * PostgreSQL a concurrent insert of the same id waits for the first to commit, then does nothing),
 * and the same transaction then reads back whichever row won.
 */
import { ModelautoError } from '../core/errors.js';
import { all, get, run, type SqlDriver, type SqlScript } from './sql-script.js';
import {
  ListTaskResultsFilterSchema,
  RecordTaskResultInputSchema,
  TaskIdSchema,
  taskOutputAsJson,
  type ListTaskResultsFilter,
  type RecordTaskResultInput,
  type RecordTaskResultOutcome,
  type TaskResult,
  type TaskResultStore,
} from './task-results.js';
import { parseInput } from './validate.js';

export type TaskResultsDialect = 'sqlite' | 'postgres';

const TABLE_SQL: Record<TaskResultsDialect, string[]> = {
  sqlite: [
    `CREATE TABLE IF NOT EXISTS task_results (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      task_id TEXT NOT NULL UNIQUE,
      kind TEXT NOT NULL,
      output_json TEXT NOT NULL,
      worker TEXT NOT NULL,
      attempt INTEGER NOT NULL CHECK (attempt >= 1),
      started_at INTEGER NOT NULL,
      finished_at INTEGER NOT NULL,
      recorded_at INTEGER NOT NULL,
      duplicates INTEGER NOT NULL DEFAULT 0 CHECK (duplicates >= 0)
    )`,
    `CREATE INDEX IF NOT EXISTS task_results_by_kind ON task_results(kind, seq)`,
  ],
  postgres: [
    `CREATE TABLE IF NOT EXISTS task_results (
      seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      task_id TEXT COLLATE "C" NOT NULL UNIQUE,
      kind TEXT COLLATE "C" NOT NULL,
      output_json TEXT NOT NULL,
      worker TEXT NOT NULL,
      attempt INTEGER NOT NULL CHECK (attempt >= 1),
      started_at BIGINT NOT NULL,
      finished_at BIGINT NOT NULL,
      recorded_at BIGINT NOT NULL,
      duplicates INTEGER NOT NULL DEFAULT 0 CHECK (duplicates >= 0)
    )`,
    `CREATE INDEX IF NOT EXISTS task_results_by_kind ON task_results(kind, seq)`,
  ],
};

const COLUMNS =
  'task_id, kind, output_json, worker, attempt, started_at, finished_at, recorded_at, duplicates';

interface TaskResultRow {
  task_id: string;
  kind: string;
  output_json: string;
  worker: string;
  attempt: number;
  started_at: number;
  finished_at: number;
  recorded_at: number;
  duplicates: number;
}

/** Creates the table if this database does not have it yet. */
export async function ensureTaskResultsTable(
  driver: SqlDriver,
  dialect: TaskResultsDialect,
  schema?: string,
): Promise<void> {
  await driver.write('create the task_results table', function* (): SqlScript<void> {
    if (dialect === 'postgres') {
      // CREATE TABLE IF NOT EXISTS is not safe against a concurrent creator in PostgreSQL.
      yield* all(
        `SELECT pg_advisory_xact_lock(hashtext('modelauto.task_results'), hashtext(COALESCE(?::text, current_schema(), '')))`,
        schema ?? null,
      );
    }
    for (const sql of TABLE_SQL[dialect]) yield* run(sql);
  });
}

export class SqlTaskResultStore implements TaskResultStore {
  constructor(private readonly driver: SqlDriver) {}

  get location(): string {
    return this.driver.location;
  }

  async recordTaskResult(input: RecordTaskResultInput): Promise<RecordTaskResultOutcome> {
    const spec = parseInput(RecordTaskResultInputSchema, input, 'recordTaskResult');
    if (spec.finishedAt < spec.startedAt) {
      throw new ModelautoError('INVALID_ARGUMENT', 'expected finishedAt >= startedAt', {
        location: { path: 'recordTaskResult.finishedAt' },
      });
    }
    const outputJson = JSON.stringify(taskOutputAsJson(spec.output, 'recordTaskResult.output'));
    const now = Date.now();
    return this.driver.write('recordTaskResult', function* (): SqlScript<RecordTaskResultOutcome> {
      const inserted = yield* run(
        `INSERT INTO task_results (task_id, kind, output_json, worker, attempt, started_at, finished_at, recorded_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (task_id) DO NOTHING`,
        spec.taskId,
        spec.kind,
        outputJson,
        spec.worker,
        spec.attempt,
        spec.startedAt,
        spec.finishedAt,
        now,
      );
      if (inserted === 0) {
        yield* run('UPDATE task_results SET duplicates = duplicates + 1 WHERE task_id = ?', spec.taskId);
      }
      const row = yield* get<TaskResultRow>(
        `SELECT ${COLUMNS} FROM task_results WHERE task_id = ?`,
        spec.taskId,
      );
      if (!row) throw new ModelautoError('STORE', `task ${spec.taskId}: recorded result not found`);
      const result = fromRow(row);
      if (inserted === 0 && result.kind !== spec.kind) {
        throw new ModelautoError(
          'CONFLICT',
          `task ${spec.taskId} already has a result of kind "${result.kind}", not "${spec.kind}": task ids must be unique across kinds`,
          { location: { path: 'recordTaskResult.kind' } },
        );
      }
      return { result, created: inserted === 1 };
    });
  }

  async getTaskResult(taskId: string): Promise<TaskResult | undefined> {
    const id = parseInput(TaskIdSchema, taskId, 'getTaskResult.taskId');
    const row = await this.driver.read('getTaskResult', function* (): SqlScript<TaskResultRow | undefined> {
      return yield* get<TaskResultRow>(`SELECT ${COLUMNS} FROM task_results WHERE task_id = ?`, id);
    });
    return row ? fromRow(row) : undefined;
  }

  async listTaskResults(filter: ListTaskResultsFilter = {}): Promise<TaskResult[]> {
    const f = parseInput(ListTaskResultsFilterSchema, filter, 'listTaskResults');
    if (f.taskIds?.length === 0) return [];
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (f.kind !== undefined) {
      where.push('kind = ?');
      args.push(f.kind);
    }
    if (f.taskIds !== undefined) {
      where.push(`task_id IN (${f.taskIds.map(() => '?').join(', ')})`);
      args.push(...f.taskIds);
    }
    const sql =
      `SELECT ${COLUMNS} FROM task_results` +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY seq' +
      (f.limit !== undefined ? ` LIMIT ${f.limit}` : '');
    const rows = await this.driver.read('listTaskResults', function* (): SqlScript<TaskResultRow[]> {
      return yield* all<TaskResultRow>(sql, ...args);
    });
    return rows.map(fromRow);
  }

  async close(): Promise<void> {
    await this.driver.close();
  }
}

function fromRow(row: TaskResultRow): TaskResult {
  return {
    taskId: row.task_id,
    kind: row.kind,
    output: JSON.parse(row.output_json) as TaskResult['output'],
    worker: row.worker,
    attempt: Number(row.attempt),
    startedAt: Number(row.started_at),
    finishedAt: Number(row.finished_at),
    recordedAt: Number(row.recorded_at),
    duplicates: Number(row.duplicates),
  };
}
