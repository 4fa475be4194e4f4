/**
 * `modelauto worker`: takes tasks off the BullMQ queue and runs them with the handler registered
 * for their kind (registry.ts), on as many machines as there are workers.
 *
 * Exactly once, even though a task may run more than once:
 * - a worker that dies mid-task stops renewing its job's lock; after `lockDurationMs` another
 *   worker's stalled-job check (every `stalledIntervalMs`) moves the job back to the queue and it
 *   runs again elsewhere (up to `maxStalledCount` times, then it fails);
 * - the result is recorded in the task's store with an idempotent insert keyed by the task id, and
 *   the job returns the recorded result: a late second completion (a worker that lost its lock but
 *   kept going) leaves the first result in place and is only counted as a duplicate;
 * - before running, the worker looks for a recorded result, so a job re-delivered after its result
 *   was recorded (the worker died between recording and acknowledging) does not run again.
 * A handler failure is retried with exponential backoff up to the job's attempts, then reported
 * failed; errors a retry cannot fix (bad input, unknown kind) fail at once. Nothing failed is
 * recorded as a result.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ModelautoError, toModelautoError } from '../../core/errors.js';
import type { TaskResultStore } from '../../store/task-results.js';
import {
  probeRedis,
  redisOptions,
  resolveQueueLocation,
  type QueueLocation,
  type ResolvedQueueLocation,
} from './bullmq-connection.js';
import {
  cancelChannel,
  encodeFailure,
  isPermanent,
  parseTaskSpec,
  readCancelMessage,
  runKey,
  type JobProgress,
} from './bullmq-task.js';
import { WorkerStores } from './bullmq-worker-stores.js';
import { PIPELINE_TASK_MODULE } from './local.js';
import { getTaskHandler, taskKinds } from './registry.js';
import type { TaskContext, TaskHandler, TaskSpec } from './types.js';

export interface WorkerOptions extends QueueLocation {
  /** Store every task records into, as seen from this machine (default: each task's own store). */
  store?: string | undefined;
  /** Tasks run at once by this worker (default 1). */
  concurrency?: number;
  /** Shown in `worker status` and in the results (default `<hostname>:<pid>`). */
  name?: string;
  /** How long a job stays locked without renewal before it counts as stalled (default 30000 ms). */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (default 30000 ms). */
  stalledIntervalMs?: number;
  /** Times a job may lose its worker before it fails (default 2). */
  maxStalledCount?: number;
  /**
   * Modules (file URLs or paths) imported before the worker starts, to register task handlers;
   * default: the pipeline's (`pipeline.step`, `search.trial`). Handlers registered by the caller's
   * own code are there as well.
   */
  modules?: string[];
  /** Where the worker says what it runs (default: stderr). */
  log?: (line: string) => void;
}

export type StopMode = 'finish' | 'return';

export interface RunningWorker {
  readonly name: string;
  readonly location: ResolvedQueueLocation;
  /** Task kinds this process has handlers for. */
  readonly kinds: string[];
  /** Resolves once the worker has stopped and released its connections. */
  readonly stopped: Promise<void>;
  /**
   * `finish`: take no new task, finish the running ones, then stop. `return`: abort the running
   * tasks and put them back on the queue (no attempt is used up) for another worker, then stop.
   * Calling `return` after `finish` hurries a slow finish. Resolves true once stopped; false when
   * a handler ignored the abort for RETURN_GRACE_MS (its job is then left to stalled-job recovery
   * and the caller should exit the process).
   */
  stop(mode?: StopMode): Promise<boolean>;
}

/** A task's progress goes to Redis at most this often (the last value is always sent). */
const PROGRESS_INTERVAL_MS = 250;
/** How long a cancel is remembered for a job start this worker has not filed yet. */
const CANCEL_MEMORY_MS = 60_000;
/** How long `return` waits for aborted handlers before closing regardless. */
const RETURN_GRACE_MS = 10_000;

export async function runWorker(options: WorkerOptions = {}): Promise<RunningWorker> {
  const location = resolveQueueLocation(options);
  const name = options.name?.trim() || `${hostname()}:${process.pid}`;
  const concurrency = positive(options.concurrency ?? 1, 'concurrency');
  const lockDuration = positive(options.lockDurationMs ?? 30_000, 'lockDurationMs');
  const stalledInterval = positive(options.stalledIntervalMs ?? 30_000, 'stalledIntervalMs');
  const maxStalledCount = positive(options.maxStalledCount ?? 2, 'maxStalledCount');
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const stores = new WorkerStores(options.store?.trim() || undefined);
  await loadHandlerModules(options.modules ?? [PIPELINE_TASK_MODULE]);
  await probeRedis(location.redis);

  const active = new Map<string, AbortController>();
  let returning = false;
  const cancels = await listenForCancels(location, (key) =>
    active.get(key)?.abort(new ModelautoError('INTERRUPTED', 'cancelled by its submitter')),
  );

  const processor = async (job: Job<TaskSpec, unknown, string>, token?: string): Promise<unknown> => {
    const attempt = Math.max(1, job.attemptsStarted);
    const attempts = job.opts.attempts ?? 1;
    const startedAt = Date.now();
    let task: TaskSpec;
    let storeUri: string;
    let results: TaskResultStore;
    let handler: TaskHandler;
    try {
      task = parseTaskSpec(job.data, `job ${job.id}`);
      handler = getTaskHandler(task.kind);
      storeUri = stores.storeFor(task);
      results = await stores.results(storeUri);
      const recorded = await results.getTaskResult(task.id);
      if (recorded) {
        log(
          `${name}: ${task.kind} ${task.id} already has a result (by ${recorded.worker}, attempt ${recorded.attempt}); not run again`,
        );
        return recorded.output;
      }
    } catch (e) {
      const err = toModelautoError(e, 'STORE');
      log(`${name}: job ${job.id} cannot run: ${err.message}`);
      throw failure(err);
    }
    const jobKey = runKey(job.id ?? '', job.processedOn);
    if (cancels.has(jobKey)) {
      log(`${name}: ${task.kind} ${task.id} was cancelled by its submitter before it started`);
      throw cancelledError(task);
    }
    const controller = new AbortController();
    active.set(jobKey, controller);
    const progress = progressPublisher(job);
    log(`${name}: running ${task.kind} ${task.id} (attempt ${attempt}/${attempts})`);
    let output: unknown;
    let error: unknown;
    let failed = false;
    try {
      const ctx: TaskContext = {
        taskId: task.id,
        store: storeUri,
        signal: controller.signal,
        log: (line) => {
          log(`${name}: [${task.id}] ${line}`);
          job.log(line).catch(() => undefined);
        },
        progress: (fraction, message) => progress.update(fraction, message),
      };
      output = await handler(task.input, ctx);
    } catch (e) {
      failed = true;
      error = e;
    } finally {
      active.delete(jobKey);
    }
    await progress.flush();
    if (controller.signal.aborted) {
      // Whatever a handler returns once told to stop (a training run cut short) is not the task's result.
      if (cancels.has(jobKey)) {
        log(`${name}: ${task.kind} ${task.id} cancelled by its submitter`);
        throw cancelledError(task);
      }
      if (returning && token !== undefined) {
        await job.moveToWait(token);
        log(`${name}: ${task.kind} ${task.id} stopped and put back on the queue`);
        throw new WaitingError();
      }
    }
    if (failed) {
      const err = toModelautoError(error);
      const retries = !isPermanent(err) && attempt < attempts;
      log(
        `${name}: ${task.kind} ${task.id} failed (attempt ${attempt}/${attempts}${retries ? ', will retry' : ''}): ${err.message}`,
      );
      throw failure(err);
    }
    try {
      const { result, created } = await results.recordTaskResult({
        taskId: task.id,
        kind: task.kind,
        output,
        worker: name,
        attempt,
        startedAt,
        finishedAt: Date.now(),
      });
      const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
      log(
        created
          ? `${name}: done ${task.kind} ${task.id} in ${seconds}s`
          : `${name}: done ${task.kind} ${task.id} in ${seconds}s, but ${result.worker} had recorded it first: kept that result`,
      );
      return result.output;
    } catch (e) {
      const err = toModelautoError(e, 'STORE');
      log(`${name}: ${task.kind} ${task.id} ran but its result could not be recorded: ${err.message}`);
      throw failure(err);
    }
  };

  const worker = new Worker<TaskSpec, unknown, string>(location.queue, processor, {
    connection: redisOptions(location.redis),
    prefix: location.prefix,
    name,
    concurrency,
    lockDuration,
    stalledInterval,
    maxStalledCount,
    autorun: false,
  });
  worker.on('error', (e) => {
    // BullMQ refuses to finish a job whose lock this worker lost: another worker owns it now.
    const lost = /^Missing lock for job (\S+)\. (\w+)/.exec(e.message);
    log(
      lost
        ? `${name}: job ${lost[1]} had been taken over by another worker (lock lost); this worker's ${lost[2]} was dropped`
        : `${name}: ${e.message}`,
    );
  });
  worker.on('stalled', (jobId) =>
    log(`${name}: job ${jobId} lost its worker (lock expired); moved back to the queue`),
  );

  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await worker.close();
      } finally {
        cancels.close();
        await stores.close();
        log(`${name}: stopped`);
        resolveStopped();
      }
    })();
    return closing;
  };

  const running = worker.run();
  running.catch((e: unknown) => {
    log(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    void close();
  });
  try {
    await worker.waitUntilReady();
  } catch (e) {
    await close();
    throw new ModelautoError(
      'UNAVAILABLE',
      `cannot use the queue at ${location.redis.location}: ${String(e)}`,
      {
        cause: e,
      },
    );
  }
  const kinds = taskKinds();
  log(
    `${name}: ready on queue ${location.queue} at ${location.redis.location} (concurrency ${concurrency}); task kinds: ${kinds.join(', ') || '(none registered)'}`,
  );

  return {
    name,
    location,
    kinds,
    stopped,
    async stop(mode: StopMode = 'finish') {
      if (mode === 'finish') {
        if (active.size > 0) log(`${name}: finishing ${active.size} running task(s) before stopping`);
        await close();
        return true;
      }
      returning = true;
      for (const c of active.values()) c.abort(new ModelautoError('INTERRUPTED', 'the worker is stopping'));
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<false>((r) => (timer = setTimeout(() => r(false), RETURN_GRACE_MS)));
      const clean = await Promise.race([close().then(() => true as const), graceOver]);
      clearTimeout(timer);
      if (!clean) {
        log(
          `${name}: ${active.size} task(s) ignored the abort for ${RETURN_GRACE_MS / 1000}s; leaving them to stalled-job recovery`,
        );
      }
      return clean;
    },
  };
}

/**
 * Job starts their submitters cancelled lately (runKey), kept a minute: a cancel can arrive between
 * the job becoming active and the processor filing it as running.
 */
async function listenForCancels(location: ResolvedQueueLocation, onCancel: (key: string) => void) {
  const seen = new Map<string, number>();
  const subscriber = new Redis(redisOptions(location.redis));
  subscriber.on('error', () => undefined);
  subscriber.on('message', (_channel: string, message: string) => {
    const key = readCancelMessage(message);
    if (key === undefined) return;
    const now = Date.now();
    for (const [k, at] of seen) if (now - at > CANCEL_MEMORY_MS) seen.delete(k);
    seen.set(key, now);
    onCancel(key);
  });
  await subscriber.subscribe(cancelChannel(location.prefix, location.queue));
  return {
    has: (key: string): boolean => seen.has(key),
    close: (): void => subscriber.disconnect(),
  };
}

/** Not retried: the submitter asked for the task to stop (submitting it again runs it afresh). */
function cancelledError(task: TaskSpec): Error {
  return new UnrecoverableError(
    encodeFailure(new ModelautoError('INTERRUPTED', `task ${task.id} was cancelled by its submitter`)),
  );
}

async function loadHandlerModules(modules: string[]): Promise<void> {
  for (const m of modules) {
    const url =
      /^[a-z][a-z0-9+.-]+:/i.test(m) && !/^[a-z]:[\\/]/i.test(m) ? m : pathToFileURL(resolve(m)).href;
    try {
      await import(url);
    } catch (e) {
      throw new ModelautoError(
        'USAGE',
        `cannot load the task handlers module: ${e instanceof Error ? e.message : String(e)}`,
        { location: { file: m } },
      );
    }
  }
}

/** BullMQ retries a thrown Error and fails an UnrecoverableError at once; the message carries the code. */
function failure(err: ModelautoError): Error {
  return isPermanent(err) ? new UnrecoverableError(encodeFailure(err)) : new Error(encodeFailure(err));
}

/** Throttled job.updateProgress: handlers may report every batch; Redis hears at most 4 per second. */
function progressPublisher(job: Job<TaskSpec, unknown, string>) {
  let latest: JobProgress | undefined;
  let lastSent = 0;
  let timer: NodeJS.Timeout | undefined;
  let sending: Promise<void> = Promise.resolve();
  const send = (): void => {
    timer = undefined;
    if (!latest) return;
    const value = latest;
    latest = undefined;
    lastSent = Date.now();
    sending = sending.then(() => job.updateProgress(value).catch(() => undefined));
  };
  return {
    update(fraction: number, message?: string): void {
      if (!Number.isFinite(fraction)) {
        throw new ModelautoError(
          'INVALID_ARGUMENT',
          `expected a progress fraction in 0..1, got ${fraction}`,
          {
            location: { path: 'progress.fraction' },
          },
        );
      }
      latest = { fraction: Math.min(1, Math.max(0, fraction)), ...(message ? { message } : {}) };
      const wait = lastSent + PROGRESS_INTERVAL_MS - Date.now();
      if (wait <= 0) send();
      else timer ??= setTimeout(send, wait);
    },
    async flush(): Promise<void> {
      if (timer) clearTimeout(timer);
      send();
      await sending;
    },
  };
}

function positive(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new ModelautoError('INVALID_ARGUMENT', `expected a positive integer, got ${n}`, {
      location: { path: name },
    });
  }
  return n;
}
