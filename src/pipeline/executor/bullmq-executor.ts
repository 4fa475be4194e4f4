/**
 * The distributed executor: a task becomes a BullMQ job (job id = task id, so submitting a task
 * twice — a resumed pipeline, two callers — gives one job), `modelauto worker` processes on any
 * number of machines run it, and `run()` resolves with the output the worker recorded in the store.
 *
 * Completion is learnt from QueueEvents (Redis stream) and, as a safety net against a missed event
 * (a reconnect, a job finished between two checks), by reading the job's state every few seconds.
 */
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { ModelautoError } from '../../core/errors.js';
import {
  probeRedis,
  redisOptions,
  resolveQueueLocation,
  type QueueLocation,
  type ResolvedQueueLocation,
} from './bullmq-connection.js';
import {
  cancelChannel,
  cancelMessage,
  decodeFailure,
  DEFAULT_RETRY,
  jobIdFor,
  jobOptions,
  parseTaskSpec,
  readJobProgress,
  type RetryPolicy,
} from './bullmq-task.js';
import type { Executor, TaskProgress, TaskSpec } from './types.js';

export interface BullmqExecutorOptions extends QueueLocation, Partial<RetryPolicy> {
  /** How often pending tasks' states are read as a safety net for missed events (default 2000 ms). */
  pollIntervalMs?: number;
}

interface Waiter {
  task: TaskSpec;
  resolve: (output: unknown) => void;
  reject: (error: ModelautoError) => void;
  onProgress: ((p: TaskProgress) => void) | undefined;
}

type JobData = TaskSpec;

export class BullmqExecutor implements Executor {
  readonly name = 'bullmq';
  private readonly waiters = new Map<string, Set<Waiter>>();
  /** Jobs being added right now: the poll leaves them alone until they exist. */
  private readonly submitting = new Map<string, number>();
  /** cancel() requests still being sent; close() waits for them. */
  private readonly cancelling = new Set<Promise<void>>();
  private publisher: Redis | undefined;
  private readonly poll: NodeJS.Timeout;
  private closed = false;

  private constructor(
    readonly location: ResolvedQueueLocation,
    private readonly queue: Queue<JobData, unknown, string>,
    private readonly events: QueueEvents,
    private readonly retry: RetryPolicy,
    pollIntervalMs: number,
  ) {
    events.on('completed', ({ jobId, returnvalue }) => this.settleCompleted(jobId, returnvalue));
    events.on('failed', ({ jobId, failedReason }) => void this.settleFailed(jobId, failedReason));
    events.on('progress', ({ jobId, data }) => this.progress(jobId, data));
    // Connection trouble is retried by ioredis; pending tasks are re-checked by the poll.
    events.on('error', () => undefined);
    queue.on('error', () => undefined);
    this.poll = setInterval(() => void this.reconcileAll(), pollIntervalMs);
    this.poll.unref();
  }

  /** Connects to the queue (UNAVAILABLE when Redis does not answer) and listens for job events. */
  static async open(options: BullmqExecutorOptions = {}): Promise<BullmqExecutor> {
    const location = resolveQueueLocation(options);
    const retry: RetryPolicy = {
      attempts: positive(options.attempts ?? DEFAULT_RETRY.attempts, 'attempts'),
      backoffMs: nonNegative(options.backoffMs ?? DEFAULT_RETRY.backoffMs, 'backoffMs'),
    };
    const pollIntervalMs = positive(options.pollIntervalMs ?? 2_000, 'pollIntervalMs');
    await probeRedis(location.redis);
    const connection = redisOptions(location.redis);
    const queue = new Queue<JobData, unknown, string>(location.queue, {
      connection,
      prefix: location.prefix,
    });
    const events = new QueueEvents(location.queue, { connection, prefix: location.prefix });
    try {
      await queue.waitUntilReady();
      // Listening before anything is added: no completion can happen unseen.
      await events.waitUntilReady();
    } catch (e) {
      await events.close().catch(() => undefined);
      await queue.close().catch(() => undefined);
      throw new ModelautoError(
        'UNAVAILABLE',
        `cannot use the queue at ${location.redis.location}: ${String(e)}`,
        {
          cause: e,
        },
      );
    }
    return new BullmqExecutor(location, queue, events, retry, pollIntervalMs);
  }

  /**
   * Enqueues the task (or joins the job already queued under its id) and resolves with its output.
   * A task whose earlier job failed is retried; one that completed resolves at once with its output.
   */
  async run(task: TaskSpec, onProgress?: (p: TaskProgress) => void): Promise<unknown> {
    if (this.closed) throw new ModelautoError('INTERRUPTED', 'the BullMQ executor is closed');
    const spec = parseTaskSpec(task);
    const jobId = jobIdFor(spec.id);
    const done = new Promise<unknown>((resolve, reject) => {
      const waiter: Waiter = { task: spec, resolve, reject, onProgress };
      const set = this.waiters.get(jobId) ?? new Set<Waiter>();
      set.add(waiter);
      this.waiters.set(jobId, set);
    });
    // Settled possibly before run() returns it: mark it handled so Node does not report it early.
    done.catch(() => undefined);
    this.submitting.set(jobId, (this.submitting.get(jobId) ?? 0) + 1);
    try {
      const existing = await this.queue.getJob(jobId);
      if (existing && (await existing.getState()) === 'failed') {
        // A failed task submitted again (a resumed pipeline) gets a fresh set of attempts.
        await existing
          .retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true })
          .catch(() => undefined);
      } else if (!existing) {
        await this.queue.add(spec.kind, spec, jobOptions(spec.id, this.retry));
      }
    } catch (e) {
      this.rejectAll(
        jobId,
        new ModelautoError('UNAVAILABLE', `cannot enqueue task ${spec.id} (${spec.kind}): ${String(e)}`, {
          cause: e,
        }),
      );
      return done;
    } finally {
      this.doneSubmitting(jobId);
    }
    // Already finished (a re-submitted task)? A failed read is retried by the poll.
    await this.reconcile(jobId).catch(() => undefined);
    return done;
  }

  /**
   * Stops one task: its run() rejects with INTERRUPTED at once; a job not started yet is removed from
   * the queue, a running one is asked to stop (its handler's signal aborts on the worker, the job
   * ends failed with INTERRUPTED and is not retried). Submitting the task again runs it afresh.
   */
  cancel(taskId: string): void {
    const jobId = jobIdFor(taskId);
    this.rejectAll(jobId, new ModelautoError('INTERRUPTED', `task ${taskId} was cancelled`));
    const pending = this.cancelJob(jobId).catch(() => undefined);
    this.cancelling.add(pending);
    void pending.finally(() => this.cancelling.delete(pending));
  }

  private async cancelJob(jobId: string): Promise<void> {
    const state = await this.queue.getJobState(jobId);
    if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
      // 0: it was taken by a worker meanwhile (locked); ask the worker instead.
      if ((await this.queue.remove(jobId)) === 1) return;
    } else if (state !== 'active') {
      return;
    }
    // Names this start of the job, so a worker never cancels a later start (the task submitted again).
    const job = await this.queue.getJob(jobId);
    if (!job?.processedOn) return;
    if (!this.publisher) {
      this.publisher = new Redis(redisOptions(this.location.redis));
      this.publisher.on('error', () => undefined);
    }
    await this.publisher.publish(
      cancelChannel(this.location.prefix, this.location.queue),
      cancelMessage(jobId, job.processedOn),
    );
  }

  /** Stops listening; tasks still pending reject with INTERRUPTED (their jobs stay queued). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.poll);
    await Promise.all(this.cancelling);
    this.publisher?.disconnect();
    for (const jobId of [...this.waiters.keys()]) {
      this.rejectAll(
        jobId,
        new ModelautoError('INTERRUPTED', 'the BullMQ executor was closed before the task finished'),
      );
    }
    await this.events.close();
    await this.queue.close();
  }

  private settleCompleted(jobId: string, output: unknown): void {
    const set = this.waiters.get(jobId);
    if (!set) return;
    this.waiters.delete(jobId);
    for (const w of set) w.resolve(output);
  }

  private async settleFailed(jobId: string, failedReason: string | undefined): Promise<void> {
    const set = this.waiters.get(jobId);
    const first = set?.values().next().value;
    if (!set || !first) return;
    const job = await this.queue.getJob(jobId).catch(() => undefined);
    const { code, message } = decodeFailure(job?.failedReason ?? failedReason);
    const attempts = job ? `after ${job.attemptsMade} attempt(s)` : '';
    const where = job?.processedBy ? ` on worker ${job.processedBy}` : '';
    this.rejectAll(
      jobId,
      new ModelautoError(
        code,
        `task ${first.task.id} (${first.task.kind}) failed ${attempts}${where}: ${message}`,
      ),
    );
  }

  private progress(jobId: string, data: unknown): void {
    const set = this.waiters.get(jobId);
    const p = readJobProgress(data);
    if (!set || !p) return;
    for (const w of set) {
      if (!w.onProgress) continue;
      try {
        w.onProgress({
          taskId: w.task.id,
          fraction: p.fraction,
          ...(p.message ? { message: p.message } : {}),
        });
      } catch {
        // A progress callback's bug must not lose the task's result.
      }
    }
  }

  private rejectAll(jobId: string, error: ModelautoError): void {
    const set = this.waiters.get(jobId);
    if (!set) return;
    this.waiters.delete(jobId);
    for (const w of set) w.reject(error);
  }

  private doneSubmitting(jobId: string): void {
    const n = (this.submitting.get(jobId) ?? 1) - 1;
    if (n > 0) this.submitting.set(jobId, n);
    else this.submitting.delete(jobId);
  }

  private async reconcileAll(): Promise<void> {
    for (const jobId of [...this.waiters.keys()]) {
      if (this.submitting.has(jobId)) continue;
      await this.reconcile(jobId).catch(() => undefined);
    }
  }

  /** Settles the job's waiters if it already finished (the event may have come before we listened). */
  private async reconcile(jobId: string): Promise<void> {
    if (!this.waiters.has(jobId)) return;
    // The state first: the job's data read before it completed would not have its return value yet.
    const state = await this.queue.getJobState(jobId);
    if (state === 'unknown') {
      const first = this.waiters.get(jobId)?.values().next().value;
      this.rejectAll(
        jobId,
        new ModelautoError(
          'NOT_FOUND',
          `task ${first?.task.id ?? jobId}: its job disappeared from queue ${this.location.queue} (removed or the queue was obliterated)`,
        ),
      );
    } else if (state === 'completed') {
      const job = await this.queue.getJob(jobId);
      if (job) this.settleCompleted(jobId, job.returnvalue);
    } else if (state === 'failed') {
      await this.settleFailed(jobId, undefined);
    }
  }
}

function positive(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new ModelautoError('INVALID_ARGUMENT', `expected a positive integer, got ${n}`, {
      location: { path: name },
    });
  }
  return n;
}

function nonNegative(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ModelautoError('INVALID_ARGUMENT', `expected an integer >= 0, got ${n}`, {
      location: { path: name },
    });
  }
  return n;
}
