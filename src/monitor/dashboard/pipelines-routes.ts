/**
 * Read-only routes over automated pipelines: the runs with their steps' status and progress, the
 * tracked runs, trials and model versions they produced, their logs, and (when the dashboard was given
 * one) the distributed executor's queue with its workers and jobs. The pipeline layer writes all of it;
 * the dashboard only reads the store, so a pipeline run by another process (or on another machine with
 * PostgreSQL) shows up here as it goes.
 */
import { basename } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ModelautoError } from '../../core/errors.js';
import type {
  PipelineRunRecord,
  PipelineStepRecord,
  PipelineStore,
  TrialRecord,
} from '../../store/pipeline-types.js';
import { PipelineRunStatusSchema } from '../../store/pipeline-types.js';
import type { TrackingStore } from '../../store/tracking-store.js';
import type {
  PipelineDetailResponse,
  PipelineLogsResponse,
  PipelineRunSummary,
  PipelinesResponse,
  PipelineStepView,
  PipelineTrialView,
  QueueResponse,
  QueueStatusView,
} from './api-types.js';
import { handle, num, parseRequest } from './http.js';
import { runSummary } from './summaries.js';

/** What the dashboard needs of a queue: `openQueueMonitor()` of the pipeline layer gives it. */
export interface QueueReadModel {
  status(limit?: number): Promise<QueueStatusView>;
}

/** Statuses a step can no longer leave within the run. */
const DONE = new Set(['finished', 'cached', 'failed', 'gated', 'skipped']);
/** Tracked runs scanned for the ones a pipeline run opened (they carry its id in a tag). */
const RUN_SCAN = 500;
/** Runs named in a pipeline's lineage fetched one by one when the scan above missed them. */
const MAX_LINEAGE_RUNS = 50;
/** Log lines sent with a run's detail (the newest). */
const DETAIL_LOG_LINES = 200;
/** Jobs listed per queue state. */
const QUEUE_JOBS_PER_STATE = 25;

const ListQuery = z.strictObject({
  status: PipelineRunStatusSchema.optional(),
  name: z.string().min(1).max(256).optional(),
  limit: z.coerce
    .number()
    .int('expected an integer limit')
    .min(1, 'expected a limit >= 1')
    .max(500, 'expected a limit <= 500')
    .default(50),
});

const RunParams = z.object({
  id: z
    .string()
    .regex(/^[0-9a-f]{4,32}$/, 'expected a pipeline run id (or a prefix of at least 4 hex characters)'),
});

const LogsQuery = z.strictObject({
  step: z.string().min(1).max(64).optional(),
  after: z.coerce.number().int('expected an integer sequence number').min(0).optional(),
  limit: z.coerce
    .number()
    .int('expected an integer limit')
    .min(1, 'expected a limit >= 1')
    .max(5000, 'expected a limit <= 5000')
    .default(500),
});

/** A URI's password (`postgres://ml:secret@db/...`): pipeline params and outputs may name a store. */
const URI_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s@/]*@/gi;

/**
 * Copies JSON with every URI password masked: step outputs, params, errors and log lines may name a
 * store or a queue, and the page must not show their credentials.
 */
export function redactSecrets<T>(value: T): T {
  if (typeof value === 'string') return value.replace(URI_PASSWORD, '$1***@') as T;
  if (Array.isArray(value)) return value.map(redactSecrets) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactSecrets(v)])) as T;
  }
  return value;
}

function durationOf(start: number | null, end: number | null, now: number): number | null {
  if (start === null) return null;
  return Math.max(0, (end ?? now) - start);
}

export function pipelineRunSummary(run: PipelineRunRecord, now: number): PipelineRunSummary {
  const stepCounts: Record<string, number> = {};
  let done = 0;
  const running: string[] = [];
  for (const s of run.steps) {
    stepCounts[s.status] = (stepCounts[s.status] ?? 0) + 1;
    if (DONE.has(s.status)) done += 1;
    else if (s.status === 'running') {
      running.push(s.stepId);
      done += Math.min(1, Math.max(0, s.progress ?? 0));
    }
  }
  return {
    id: run.id,
    name: run.name,
    status: run.status,
    error: run.error,
    executor: run.executor,
    attempts: run.attempts,
    startTime: run.startTime,
    endTime: run.endTime,
    durationMs: durationOf(run.startTime, run.endTime, now) ?? 0,
    heartbeatAt: run.heartbeatAt,
    stepCounts,
    stepTotal: run.steps.length,
    progress: run.steps.length ? done / run.steps.length : 1,
    running,
    trigger: typeof run.params['trigger'] === 'string' ? run.params['trigger'] : null,
  };
}

function stepView(s: PipelineStepRecord, now: number): PipelineStepView {
  return {
    stepId: s.stepId,
    uses: s.uses,
    needs: s.needs,
    status: s.status,
    cached: s.cached,
    progress: s.status === 'running' ? num(s.progress) : DONE.has(s.status) ? 1 : null,
    message: s.message,
    error: s.error,
    attempt: s.attempt,
    taskId: s.taskId,
    startTime: s.startTime,
    endTime: s.endTime,
    durationMs: num(durationOf(s.startTime, s.endTime, now)),
    outputs: s.outputs,
  };
}

function trialView(t: TrialRecord, stepId: string | null): PipelineTrialView {
  return {
    stepId,
    searchRunId: t.searchRunId,
    trialId: t.trialId,
    params: t.params,
    rung: t.rung,
    status: t.status,
    metric: num(t.metric),
    runId: t.runId,
    recordedAt: t.recordedAt,
  };
}

async function detail(
  pipelines: PipelineStore,
  tracking: TrackingStore,
  id: string,
  now: number,
): Promise<PipelineDetailResponse> {
  const run = await pipelines.getRun(await pipelines.resolveRunId(id));
  // Runs a pipeline opens carry `pipeline_run: <id>`; the newest RUN_SCAN runs hold a live one's.
  const tracked = (await tracking.listRuns({ limit: RUN_SCAN })).filter(
    (r) => r.tags['pipeline_run'] === run.id,
  );
  // Runs the steps named (lineage) that are older than that scan.
  const seen = new Set(tracked.map((r) => r.id));
  const lineage = await pipelines.getLineage(run.id);
  for (const l of lineage.filter((l) => l.kind === 'run' && !seen.has(l.ref)).slice(0, MAX_LINEAGE_RUNS)) {
    const r = await tracking.getRun(l.ref).catch(() => undefined);
    if (r) {
      tracked.push(r);
      seen.add(r.id);
    }
  }
  tracked.sort((a, b) => b.startTime - a.startTime);
  const trials: PipelineTrialView[] = [];
  for (const search of tracked.filter((r) => r.kind === 'search')) {
    const stepId = search.tags['pipeline_step'] ?? null;
    for (const t of await pipelines.listTrials(search.id)) trials.push(trialView(t, stepId));
  }
  const tail = await pipelines.getLogs(run.id, { limit: DETAIL_LOG_LINES, newest: true });
  return {
    run: pipelineRunSummary(run, now),
    params: run.params,
    file: run.file ? basename(run.file) : null,
    steps: run.steps.map((s) => stepView(s, now)),
    lineage: lineage.map((l) => ({
      stepId: l.stepId,
      kind: l.kind,
      ref: l.kind === 'file' ? basename(l.ref) : l.ref,
    })),
    runs: tracked.map(runSummary),
    trials,
    logs: tail,
  };
}

export interface PipelineRouteDeps {
  tracking: TrackingStore;
  pipelines?: PipelineStore;
  queue?: QueueReadModel;
  now?: () => number;
}

export function registerPipelineRoutes(app: FastifyInstance, deps: PipelineRouteDeps): void {
  const { tracking, pipelines, queue } = deps;
  const now = deps.now ?? Date.now;

  app.get(
    '/api/pipelines',
    handle(async (request: { query: unknown }): Promise<PipelinesResponse> => {
      const q = parseRequest(ListQuery, request.query, 'query');
      if (!pipelines) return { available: false, runs: [] };
      const runs = await pipelines.listRuns({
        ...(q.status ? { status: q.status } : {}),
        ...(q.name ? { name: q.name } : {}),
        limit: q.limit,
      });
      const t = now();
      return redactSecrets({ available: true, runs: runs.map((r) => pipelineRunSummary(r, t)) });
    }),
  );

  app.get(
    '/api/pipelines/:id',
    handle(async (request: { params: unknown }): Promise<PipelineDetailResponse> => {
      const { id } = parseRequest(RunParams, request.params, 'path');
      if (!pipelines) throw noPipelineStore();
      return redactSecrets(await detail(pipelines, tracking, id, now()));
    }),
  );

  app.get(
    '/api/pipelines/:id/logs',
    handle(async (request: { params: unknown; query: unknown }): Promise<PipelineLogsResponse> => {
      const { id } = parseRequest(RunParams, request.params, 'path');
      const q = parseRequest(LogsQuery, request.query, 'query');
      if (!pipelines) throw noPipelineStore();
      const runId = await pipelines.resolveRunId(id);
      const lines = await pipelines.getLogs(runId, {
        ...(q.step ? { stepId: q.step } : {}),
        ...(q.after !== undefined ? { afterSeq: q.after } : {}),
        limit: q.limit,
      });
      return redactSecrets({ lines, lastSeq: lines.length ? lines[lines.length - 1]!.seq : (q.after ?? 0) });
    }),
  );

  app.get(
    '/api/queue',
    handle(async (): Promise<QueueResponse> => {
      if (!queue) return { available: false, status: null, error: null };
      try {
        return { available: true, status: await queue.status(QUEUE_JOBS_PER_STATE), error: null };
      } catch (e) {
        // Redis down is a state to show, not a broken page.
        return { available: true, status: null, error: e instanceof Error ? e.message : String(e) };
      }
    }),
  );
}

function noPipelineStore(): ModelautoError {
  return new ModelautoError('NOT_FOUND', 'this dashboard has no pipeline store, so no pipeline runs');
}
