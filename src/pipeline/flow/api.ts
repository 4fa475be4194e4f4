/**
 * The pipeline API the CLI calls: run a pipeline file, resume a run, show one, list them, and check a
 * file without running it.
 */
import { isAbsolute, resolve } from 'node:path';
import { defaultStoreLocation } from '../../store/open.js';
import { processOwner } from '../../store/pipeline-sql.js';
import type {
  LineageRecord,
  ListPipelineRunsFilter,
  PipelineRunRecord,
  PipelineStore,
  StepLogLine,
} from '../../store/pipeline-types.js';
import type { JsonValue } from '../../store/types.js';
import type { Executor } from '../executor/types.js';
import { codeVersion } from './cache.js';
import { createExecutor, type ExecutorChoice } from './executors.js';
import { loadPipeline, type LoadedPipeline, type LoadPipelineOptions } from './load.js';
import { PipelineRunner, type PipelineEvent } from './runner.js';
import type { PipelineSpecInput } from './spec.js';
import { openPipelineStores, withPipelineStores, type OpenedStores } from './stores.js';

export interface PipelineExecutionOptions {
  /** Store URI; default: the pipeline's `store:`, else $MODELAUTO_STORE, else ./.modelauto. */
  store?: string;
  /** `local` (default), `bullmq`, or an executor instance (not closed by the run unless aborted). */
  executor?: ExecutorChoice | Executor;
  /** Local executor: tasks at once. */
  concurrency?: number;
  /** BullMQ executor: the Redis URL (default $MODELAUTO_REDIS). */
  redis?: string;
  /** BullMQ executor: the queue (default `modelauto`). */
  queue?: string;
  /** Run every step, reusing no cached outputs (they are still cached for later runs). */
  noCache?: boolean;
  /** Aborting stops running steps (training stops after its batch) and ends the run interrupted. */
  signal?: AbortSignal;
  onEvent?: (e: PipelineEvent) => void;
  /** Output of the executor's processes (local executor), by task id. */
  onTaskLog?: (taskId: string | undefined, line: string) => void;
}

export interface RunPipelineOptions extends PipelineExecutionOptions, LoadPipelineOptions {}

export interface PipelineRunResult {
  run: PipelineRunRecord;
  store: string;
}

/** The store a pipeline uses: the caller's, else the file's `store:` (relative to the file), else the default. */
export function pipelineStoreUri(loaded: LoadedPipeline, explicit?: string): string {
  if (explicit) return explicit;
  const own = loaded.spec.store;
  if (!own) return defaultStoreLocation();
  const m = /^(sqlite|file):(?!\/\/)(.*)$/i.exec(own);
  if (m) return `${m[1]}:${isAbsolute(m[2] ?? '') ? m[2] : resolve(loaded.baseDir, m[2] ?? '')}`;
  if (/^[a-z][a-z0-9+.-]+:/i.test(own)) return own;
  return resolve(loaded.baseDir, own);
}

/** Runs a pipeline (a file or an object) to its end: finished, gated, failed or interrupted. */
export async function runPipeline(
  source: string | PipelineSpecInput,
  options: RunPipelineOptions = {},
): Promise<PipelineRunResult> {
  const loaded = loadPipeline(source, options);
  const uri = pipelineStoreUri(loaded, options.store);
  return withPipelineStores(uri, async (stores) => {
    const owner = processOwner();
    const record = await stores.pipelines.createRun({
      name: loaded.spec.name,
      spec: loaded.spec as unknown as JsonValue,
      params: loaded.params,
      file: loaded.file,
      baseDir: loaded.baseDir,
      executor: executorName(options.executor),
      codeVersion: codeVersion(),
      owner,
      steps: loaded.order.map((id) => ({
        stepId: id,
        uses: loaded.spec.steps[id]!.uses,
        needs: loaded.deps.get(id) ?? [],
      })),
    });
    options.onEvent?.({
      type: 'log',
      stepId: '',
      line: `pipeline run ${record.id} (${loaded.spec.name}) in ${stores.tracking.location}`,
    });
    return { run: await drive(loaded, stores, record, owner, options), store: stores.tracking.location };
  });
}

export interface ResumePipelineOptions extends PipelineExecutionOptions {
  /** Take over a run whose owner still looks alive (another machine with a fresh heartbeat). */
  force?: boolean;
}

/**
 * Continues an interrupted or failed run (or one whose process died): finished and cached steps keep
 * their outputs, the others run again.
 */
export async function resumePipeline(
  runRef: string,
  options: ResumePipelineOptions = {},
): Promise<PipelineRunResult> {
  const uri = options.store ?? defaultStoreLocation();
  return withPipelineStores(uri, async (stores) => {
    const id = await stores.pipelines.resolveRunId(runRef);
    const before = await stores.pipelines.getRun(id);
    // Checked before claiming: a pipeline that no longer loads leaves the run as it was.
    const loaded = loadPipeline(before.spec as unknown as PipelineSpecInput, { baseDir: before.baseDir });
    if (before.file) loaded.file = before.file;
    const owner = processOwner();
    const claimed = await stores.pipelines.claimRun(id, owner, { ...(options.force ? { force: true } : {}) });
    for (const s of claimed.steps) {
      if (s.status === 'finished' || s.status === 'cached' || s.status === 'gated') continue;
      await stores.pipelines.updateStep(id, s.stepId, {
        status: 'pending',
        error: null,
        progress: null,
        message: null,
        endTime: null,
      });
    }
    const record = await stores.pipelines.getRun(id);
    const kept = record.steps.filter((s) => s.status !== 'pending').map((s) => s.stepId);
    options.onEvent?.({
      type: 'log',
      stepId: '',
      line: `resuming pipeline run ${id} (attempt ${record.attempts}); kept: ${kept.join(', ') || 'nothing'}`,
    });
    return { run: await drive(loaded, stores, record, owner, options), store: stores.tracking.location };
  });
}

async function drive(
  loaded: LoadedPipeline,
  stores: OpenedStores,
  record: PipelineRunRecord,
  owner: string,
  options: PipelineExecutionOptions,
): Promise<PipelineRunRecord> {
  const owned = typeof options.executor !== 'object';
  const executor =
    typeof options.executor === 'object'
      ? options.executor
      : await createExecutor(options.executor ?? 'local', {
          ...(options.concurrency ? { concurrency: options.concurrency } : {}),
          ...(options.redis ? { redis: options.redis } : {}),
          ...(options.queue ? { queue: options.queue } : {}),
          ...(options.onTaskLog ? { onLog: options.onTaskLog } : {}),
        });
  try {
    return await new PipelineRunner(loaded, stores, executor, record, {
      owner,
      ...(options.noCache ? { noCache: true } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    }).run();
  } catch (e) {
    // The runner records step failures itself; this is the store or the executor failing under it.
    await stores.pipelines.finishRun(record.id, 'failed', (e as Error).message).catch(() => undefined);
    throw e;
  } finally {
    if (owned) await executor.close();
  }
}

function executorName(e: PipelineExecutionOptions['executor']): string {
  return typeof e === 'object' ? e.name : (e ?? 'local');
}

export interface PipelineStatus {
  run: PipelineRunRecord;
  lineage: LineageRecord[];
  /** The last log lines of every step (oldest first). */
  logs: StepLogLine[];
}

/** One run with its steps, lineage and the tail of its logs. */
export async function getPipelineStatus(
  runRef: string,
  options: { store?: string; logLines?: number } = {},
): Promise<PipelineStatus> {
  return withPipelines(options.store, async (p) => {
    const id = await p.resolveRunId(runRef);
    const run = await p.getRun(id);
    const logs = await p.getLogs(id, { limit: options.logLines ?? 20, newest: true });
    return { run, lineage: await p.getLineage(id), logs };
  });
}

export async function listPipelineRuns(
  options: { store?: string } & ListPipelineRunsFilter = {},
): Promise<PipelineRunRecord[]> {
  const { store, ...filter } = options;
  return withPipelines(store, (p) => p.listRuns(filter));
}

/** Loads and checks a pipeline without running it; throws with every problem found. */
export function validatePipeline(
  source: string | PipelineSpecInput,
  options: LoadPipelineOptions = {},
): LoadedPipeline {
  return loadPipeline(source, options);
}

async function withPipelines<T>(store: string | undefined, fn: (p: PipelineStore) => Promise<T>): Promise<T> {
  const stores = await openPipelineStores(store ?? defaultStoreLocation());
  try {
    return await fn(stores.pipelines);
  } finally {
    await stores.close();
  }
}
