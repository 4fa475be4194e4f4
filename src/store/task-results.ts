/**
 * The results of tasks run by an executor (pipeline steps, search trials), recorded once per task id
 * in the same database as the runs. A task can run more than once — a worker killed mid-task, a lock
 * lost to a network stall, a re-submitted task — so recording is an idempotent insert: the first
 * result for an id is kept, a later one leaves it unchanged (and is counted in `duplicates`), and
 * every caller gets the recorded result back. Whatever reads results (the search that ranks trials,
 * `pipeline status`) therefore sees each task exactly once.
 */
import { z } from 'zod';
import { ModelautoError } from '../core/errors.js';
import { JsonValueSchema, type JsonValue } from './types.js';

export const TaskIdSchema = z
  .string()
  .min(1, 'expected a non-empty task id')
  .max(512, 'expected a task id of at most 512 characters')
  .refine((s) => !s.includes('\0'), 'expected a task id without NUL characters');

export const TaskKindSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'expected a task kind of lowercase letters, digits, . _ -');

const EpochMs = z.int('expected an integer time in epoch milliseconds').nonnegative();

export const RecordTaskResultInputSchema = z.strictObject({
  taskId: TaskIdSchema,
  kind: TaskKindSchema,
  /** What the handler returned; stored as JSON (undefined → null, NaN/±Infinity → null as JSON.stringify does). */
  output: z.unknown(),
  /** Who produced it, e.g. the worker's name `host:pid`. */
  worker: z.string().min(1, 'expected a non-empty worker name').max(256),
  /** 1 for the first attempt; retries and stalled-job recoveries count up. */
  attempt: z.int('expected an integer attempt').positive('expected an attempt >= 1'),
  startedAt: EpochMs,
  finishedAt: EpochMs,
});
export type RecordTaskResultInput = z.input<typeof RecordTaskResultInputSchema>;

export const TaskResultSchema = z.object({
  taskId: z.string(),
  kind: z.string(),
  output: JsonValueSchema,
  worker: z.string(),
  attempt: z.int(),
  startedAt: z.int(),
  finishedAt: z.int(),
  /** When the result was recorded (epoch ms). */
  recordedAt: z.int(),
  /** How many later completions of the same task arrived and were not recorded. */
  duplicates: z.int().nonnegative(),
});
export type TaskResult = z.infer<typeof TaskResultSchema>;

export const ListTaskResultsFilterSchema = z.strictObject({
  kind: TaskKindSchema.optional(),
  /** Only these task ids. */
  taskIds: z.array(TaskIdSchema).optional(),
  /** Default: no limit. */
  limit: z.int().positive('expected a positive limit').optional(),
});
export type ListTaskResultsFilter = z.input<typeof ListTaskResultsFilterSchema>;

export interface RecordTaskResultOutcome {
  /** The recorded result: this call's when `created`, else the one recorded first. */
  result: TaskResult;
  /** True when this call recorded the result, false when the task already had one. */
  created: boolean;
}

/**
 * Errors are ModelautoError: INVALID_ARGUMENT for malformed input (the path names the field),
 * STORE when the backend fails, UNAVAILABLE when PostgreSQL cannot be reached.
 */
export interface TaskResultStore {
  readonly location: string;
  /** Records the task's result unless one is recorded already; all or nothing. */
  recordTaskResult(input: RecordTaskResultInput): Promise<RecordTaskResultOutcome>;
  /** The recorded result, or undefined when the task has none. */
  getTaskResult(taskId: string): Promise<TaskResult | undefined>;
  /** Oldest first (in the order they were recorded). */
  listTaskResults(filter?: ListTaskResultsFilter): Promise<TaskResult[]>;
  /** Idempotent; later calls fail with STORE. */
  close(): Promise<void>;
}

/**
 * The output as it will be stored and read back: JSON, exactly what any JSON transport (a queue,
 * a child process) would deliver. Values JSON cannot hold at all (BigInt, cycles) are refused.
 */
export function taskOutputAsJson(output: unknown, path: string): JsonValue {
  let text: string | undefined;
  try {
    text = JSON.stringify(output);
  } catch (e) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `a task's output must be JSON-serializable: ${e instanceof Error ? e.message : String(e)}`,
      { location: { path } },
    );
  }
  return text === undefined ? null : (JSON.parse(text) as JsonValue);
}
