/**
 * How a task travels through BullMQ: its job id, its data, its progress and its failure. Shared by
 * the executor (which enqueues and waits), the worker (which runs) and the status listing.
 */
import { z } from 'zod';
import { ModelautoError, ERROR_CODES, type ErrorCode } from '../../core/errors.js';
import { TaskIdSchema, TaskKindSchema, taskOutputAsJson } from '../../store/task-results.js';
import { parseInput } from '../../store/validate.js';
import type { TaskSpec } from './types.js';

export const TaskSpecSchema = z.strictObject({
  id: TaskIdSchema,
  kind: TaskKindSchema,
  input: z.unknown(),
  store: z.string().trim().min(1, 'expected a non-empty store URI'),
});

/** Validates a task (paths name the field, e.g. `task.kind`) and makes its input plain JSON. */
export function parseTaskSpec(task: unknown, what = 'task'): TaskSpec {
  const spec = parseInput(TaskSpecSchema, task, what);
  return { ...spec, input: taskOutputAsJson(spec.input, `${what}.input`) };
}

/**
 * The BullMQ job id of a task: the task id itself, so that adding a task twice gives one job. BullMQ
 * refuses ids that contain ":" or are integers; those are written as "%" + encodeURIComponent(id),
 * which cannot collide with an id used as is (those never contain "%").
 */
export function jobIdFor(taskId: string): string {
  const plain = !taskId.includes(':') && !taskId.includes('%') && `${parseInt(taskId, 10)}` !== taskId;
  return plain ? taskId : `%${encodeURIComponent(taskId)}`;
}

/** What a handler's ctx.progress() publishes on the job. */
export const JobProgressSchema = z.object({
  fraction: z.number().min(0).max(1),
  message: z.string().optional(),
});
export type JobProgress = z.infer<typeof JobProgressSchema>;

/** BullMQ's progress is a number or any object; anything else than ours reads as a bare fraction or none. */
export function readJobProgress(progress: unknown): JobProgress | null {
  const parsed = JobProgressSchema.safeParse(progress);
  if (parsed.success) return parsed.data;
  if (typeof progress === 'number' && Number.isFinite(progress)) {
    return { fraction: Math.min(1, Math.max(0, progress > 1 ? progress / 100 : progress)) };
  }
  return null;
}

/**
 * A failure crosses Redis as a string (BullMQ's failedReason): `[CODE] message`, so the submitter
 * rebuilds a ModelautoError with the same code (and so the same exit code / HTTP status).
 */
export function encodeFailure(error: ModelautoError): string {
  return `[${error.code}] ${error.message}`;
}

export function decodeFailure(reason: string | undefined): { code: ErrorCode; message: string } {
  const text = reason?.trim() || 'no reason given';
  const m = /^\[([A-Z_]+)\] ([\s\S]*)$/.exec(text);
  if (m && m[1] && m[1] in ERROR_CODES) return { code: m[1] as ErrorCode, message: m[2] ?? '' };
  // BullMQ's own reasons (e.g. "job stalled more than allowable limit") carry no code.
  const code: ErrorCode = /stalled/i.test(text) ? 'UNAVAILABLE' : 'INTERNAL';
  return { code, message: text };
}

/** Errors a retry cannot fix: the task or its handler is wrong, not the machine. */
const PERMANENT: ReadonlySet<ErrorCode> = new Set([
  'USAGE',
  'INVALID_SPEC',
  'INVALID_DATA',
  'INVALID_ARGUMENT',
]);

export function isPermanent(error: ModelautoError): boolean {
  return PERMANENT.has(error.code);
}

export interface RetryPolicy {
  /** Runs of a failing task before it is reported failed (default 3). */
  attempts: number;
  /** First retry delay; doubles on each retry (default 1000 ms). */
  backoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffMs: 1_000 };

/** Job options for a task: retries, and how long finished jobs stay listed (and deduplicate re-submits). */
export function jobOptions(taskId: string, retry: RetryPolicy) {
  return {
    jobId: jobIdFor(taskId),
    attempts: retry.attempts,
    backoff: { type: 'exponential' as const, delay: retry.backoffMs },
    removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 10_000 },
    keepLogs: 200,
  };
}

/**
 * Redis pub/sub channel on which a submitter asks the workers to stop one running task (the job id
 * is the message). Fire and forget: a worker that misses it runs the task to its end.
 */
export function cancelChannel(prefix: string, queue: string): string {
  return `${prefix}:${queue}:modelauto-cancel`;
}

/** A cancel names one start of a job (its processedOn): a later start, after a re-submit, is not cancelled. */
export function cancelMessage(jobId: string, startedAt: number): string {
  return JSON.stringify({ jobId, startedAt });
}

/** The key a worker files a running job under (one start of it), as a cancel message names it. */
export function runKey(jobId: string, startedAt: number | undefined): string {
  return `${jobId}\n${startedAt ?? 0}`;
}

/** The runKey a cancel message names; undefined for a malformed message. */
export function readCancelMessage(message: string): string | undefined {
  try {
    const m = JSON.parse(message) as { jobId?: unknown; startedAt?: unknown };
    return typeof m.jobId === 'string' && typeof m.startedAt === 'number'
      ? runKey(m.jobId, m.startedAt)
      : undefined;
  } catch {
    return undefined;
  }
}
