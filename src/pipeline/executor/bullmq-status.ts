/**
 * What the queue is doing, for `modelauto worker status` and the dashboard: job counts by state,
 * the connected workers, and the latest jobs of each state with their progress, attempts, stalls
 * and worker. `openQueueMonitor` keeps one connection for repeated polling (the dashboard);
 * `queueStatus` is the one-shot form (the CLI).
 */
import { Queue, type Job } from 'bullmq';
import { ModelautoError } from '../../core/errors.js';
import {
  QUEUE_JOB_STATES,
  type QueueJobState,
  type QueueJobView,
  type QueueStatusView,
} from '../../monitor/dashboard/api-types.js';
import {
  probeRedis,
  redisOptions,
  resolveQueueLocation,
  type QueueLocation,
  type ResolvedQueueLocation,
} from './bullmq-connection.js';
import { decodeFailure, readJobProgress } from './bullmq-task.js';
import type { TaskSpec } from './types.js';

export const JOB_STATES = QUEUE_JOB_STATES;
export type JobState = QueueJobState;
/** The dashboard shows the same views (`GET /api/queue`). */
export type QueueJobStatus = QueueJobView;
export type QueueStatus = QueueStatusView;

export interface QueueStatusOptions extends QueueLocation {
  /** Jobs listed per state (default 20). */
  limit?: number;
}

export interface QueueMonitor {
  readonly location: ResolvedQueueLocation;
  status(limit?: number): Promise<QueueStatus>;
  close(): Promise<void>;
}

export async function openQueueMonitor(location: QueueLocation): Promise<QueueMonitor> {
  const resolved = resolveQueueLocation(location);
  await probeRedis(resolved.redis);
  const queue = new Queue<TaskSpec, unknown, string>(resolved.queue, {
    connection: redisOptions(resolved.redis),
    prefix: resolved.prefix,
  });
  queue.on('error', () => undefined);
  return {
    location: resolved,
    status: (limit = 20) => readStatus(queue, resolved, limit),
    close: () => queue.close(),
  };
}

export async function queueStatus(options: QueueStatusOptions = {}): Promise<QueueStatus> {
  const monitor = await openQueueMonitor(options);
  try {
    return await monitor.status(options.limit);
  } finally {
    await monitor.close();
  }
}

async function readStatus(
  queue: Queue<TaskSpec, unknown, string>,
  location: ResolvedQueueLocation,
  limit: number,
): Promise<QueueStatus> {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new ModelautoError('INVALID_ARGUMENT', `expected a positive limit, got ${limit}`, {
      location: { path: 'limit' },
    });
  }
  const raw = await queue.getJobCounts(...JOB_STATES);
  const counts = Object.fromEntries(JOB_STATES.map((s) => [s, raw[s] ?? 0])) as Record<JobState, number>;
  const jobs: QueueJobStatus[] = [];
  for (const state of JOB_STATES) {
    // Finished jobs newest first; pending ones in the order they will run.
    const asc = state === 'waiting' || state === 'prioritized' || state === 'delayed';
    const list = await queue.getJobs([state], 0, limit - 1, asc);
    for (const job of list) if (job) jobs.push(describeJob(job, state));
  }
  const workers = (await queue.getWorkers().catch(() => []))
    .map((w) => workerName(w['rawname'] ?? w['name']))
    .filter((n): n is string => n !== undefined)
    .sort();
  return {
    queue: location.queue,
    prefix: location.prefix,
    redis: location.redis.location,
    counts,
    workers,
    jobs,
  };
}

function describeJob(job: Job<TaskSpec, unknown, string>, state: JobState): QueueJobStatus {
  const data = job.data as Partial<TaskSpec> | undefined;
  return {
    taskId: typeof data?.id === 'string' ? data.id : String(job.id),
    jobId: String(job.id),
    kind: typeof data?.kind === 'string' ? data.kind : job.name,
    state,
    progress:
      state === 'completed' ? { fraction: 1, ...progressMessage(job) } : readJobProgress(job.progress),
    attemptsMade: job.attemptsMade,
    attemptsStarted: job.attemptsStarted,
    attempts: job.opts.attempts ?? 1,
    stalls: job.stalledCounter,
    worker: job.processedBy ?? null,
    failedReason: job.failedReason ? decodeFailure(job.failedReason).message : null,
    createdAt: job.timestamp,
    startedAt: job.processedOn ?? null,
    finishedAt: job.finishedOn ?? null,
  };
}

function progressMessage(job: Job): { message?: string } {
  const p = readJobProgress(job.progress);
  return p?.message ? { message: p.message } : {};
}

/** BullMQ names a worker's Redis client `<prefix>:<queue, base64>:w:<worker name>`. */
function workerName(clientName: string | undefined): string | undefined {
  if (!clientName) return undefined;
  const i = clientName.indexOf(':w:');
  return i >= 0 ? clientName.slice(i + 3) : clientName;
}
