/**
 * Drives one pipeline run: starts every step whose dependencies are done (the executor bounds how many
 * run at once), reuses cached outputs, records each step's status, inputs, outputs, cache key, times,
 * progress and error as it goes, skips the steps downstream of a failed or gated step, and ends the
 * run finished, gated, failed or interrupted. Independent branches keep going when one fails.
 */
import { ModelautoError, toModelautoError } from '../../core/errors.js';
import type { LineageRef, PipelineRunRecord, StepStatus } from '../../store/pipeline-types.js';
import type { JsonValue } from '../../store/types.js';
import type { Executor, TaskProgress } from '../executor/types.js';
import { cacheKey, codeVersion } from './cache.js';
import { canCancel } from './cancel.js';
import {
  executeStep,
  PIPELINE_STEP_TASK,
  type PipelineStepTaskInput,
  type PipelineStepTaskOutput,
} from './execute-step.js';
import type { LoadedPipeline } from './load.js';
import { formatPath, getPath } from './paths.js';
import { formatRef, resolveRefs } from './refs.js';
import { requireStepDefinition } from './steps/index.js';
import type { OpenedStores } from './stores.js';
import { formatIssues } from './zod.js';

export type PipelineEvent =
  | {
      type: 'step';
      stepId: string;
      status: StepStatus;
      cached: boolean;
      error: string | null;
      seconds: number | null;
    }
  | { type: 'progress'; stepId: string; fraction: number; message?: string }
  | { type: 'log'; stepId: string; line: string };

export interface RunnerOptions {
  owner: string;
  noCache?: boolean;
  signal?: AbortSignal;
  onEvent?: (e: PipelineEvent) => void;
}

const HEARTBEAT_MS = 5_000;
const PROGRESS_WRITE_MS = 1_000;
const DONE: ReadonlySet<StepStatus> = new Set(['finished', 'cached']);
const BLOCKING: ReadonlySet<StepStatus> = new Set(['failed', 'gated', 'skipped']);

interface StepState {
  status: StepStatus;
  outputs: Record<string, JsonValue> | null;
  attempt: number;
  error: string | null;
}

export class PipelineRunner {
  private readonly state = new Map<string, StepState>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly tasks = new Map<string, string>();
  private readonly controller = new AbortController();
  private stopping = false;

  constructor(
    private readonly pipeline: LoadedPipeline,
    private readonly stores: OpenedStores,
    private readonly executor: Executor,
    private readonly record: PipelineRunRecord,
    private readonly options: RunnerOptions,
  ) {
    for (const s of record.steps) {
      this.state.set(s.stepId, { status: s.status, outputs: s.outputs, attempt: s.attempt, error: s.error });
    }
  }

  async run(): Promise<PipelineRunRecord> {
    const runId = this.record.id;
    const onAbort = (): void => this.stop();
    this.options.signal?.addEventListener('abort', onAbort, { once: true });
    if (this.options.signal?.aborted) this.stop();
    const heartbeat = setInterval(() => {
      this.stores.pipelines.heartbeat(runId, this.options.owner).catch(() => undefined);
    }, HEARTBEAT_MS);
    heartbeat.unref();
    try {
      for (;;) {
        if (!this.stopping) await this.startReady();
        if (this.inFlight.size === 0) break;
        await Promise.race(this.inFlight.values());
      }
      return await this.finish();
    } finally {
      clearInterval(heartbeat);
      this.options.signal?.removeEventListener('abort', onAbort);
    }
  }

  private stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.controller.abort();
    if (canCancel(this.executor)) for (const t of this.tasks.values()) this.executor.cancel(t);
    else void this.executor.close();
  }

  private async startReady(): Promise<void> {
    for (const id of this.pipeline.order) {
      const s = this.state.get(id) as StepState;
      if (s.status !== 'pending' || this.inFlight.has(id)) continue;
      const deps = this.pipeline.deps.get(id) ?? [];
      const blocker = deps.find((d) => BLOCKING.has(this.state.get(d)?.status as StepStatus));
      if (blocker) {
        const why = this.state.get(blocker)?.status;
        await this.setStep(id, {
          status: 'skipped',
          error: `not run: it needs "${blocker}", which ${why === 'skipped' ? 'was skipped' : why === 'gated' ? 'was gated' : 'failed'}`,
          endTime: Date.now(),
        });
        continue;
      }
      if (!deps.every((d) => DONE.has(this.state.get(d)?.status as StepStatus))) continue;
      const p = this.runStep(id).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, p);
    }
  }

  private async runStep(id: string): Promise<void> {
    const step = this.pipeline.spec.steps[id]!;
    const def = requireStepDefinition(step.uses);
    const s = this.state.get(id) as StepState;
    const started = Date.now();
    const attempt = s.attempt + 1;
    try {
      const inputs = this.resolveInputs(id);
      // Checked here too: a value from another step's outputs is only known now.
      const parsed = def.schema.safeParse(inputs);
      if (!parsed.success)
        throw new ModelautoError('INVALID_SPEC', formatIssues(parsed.error, `steps.${id}.with`));
      const fingerprint = def.fingerprint
        ? await def.fingerprint(parsed.data, { baseDir: this.pipeline.baseDir })
        : null;
      const upstream = Object.fromEntries(
        (this.pipeline.deps.get(id) ?? []).map((d) => [d, this.state.get(d)?.outputs ?? null]),
      );
      const key = cacheKey({ uses: step.uses, inputs, fingerprint, upstream, code: codeVersion() });
      const taskId = `${this.record.id}.${id}.${attempt}`;
      const input: PipelineStepTaskInput = {
        pipelineRunId: this.record.id,
        stepId: id,
        uses: step.uses,
        inputs,
        cacheKey: key,
        baseDir: this.pipeline.baseDir,
        useCache: step.cache && !this.options.noCache,
      };
      // Cached outputs are taken here, without handing the step to a worker.
      const hit =
        input.useCache && def.cacheable !== false ? await this.stores.pipelines.getCached(key) : undefined;
      const base = { cacheKey: key, inputs, attempt, taskId, startTime: started };
      if (!hit)
        await this.setStep(id, {
          status: 'running',
          ...base,
          endTime: null,
          error: null,
          progress: 0,
          message: null,
        });
      let result: PipelineStepTaskOutput;
      if (hit) {
        const verdict = def.verdict?.(hit.outputs);
        result = {
          status: verdict?.status ?? 'finished',
          outputs: hit.outputs,
          reason: verdict?.reason ?? null,
          cached: true,
        };
      } else if (def.placement === 'coordinator') {
        result = await executeStep(
          input,
          this.stores,
          {
            signal: this.controller.signal,
            log: (line) => this.options.onEvent?.({ type: 'log', stepId: id, line }),
            progress: (fraction, message) =>
              this.onProgress(id, { taskId, fraction, ...(message !== undefined ? { message } : {}) }),
          },
          this.executor,
        );
      } else {
        this.tasks.set(id, taskId);
        result = (await this.executor.run(
          { id: taskId, kind: PIPELINE_STEP_TASK, input, store: this.stores.uri },
          (p) => this.onProgress(id, p),
        )) as PipelineStepTaskOutput;
      }
      const status: StepStatus =
        result.status === 'finished' ? (result.cached ? 'cached' : 'finished') : result.status;
      await this.setStep(
        id,
        {
          ...(hit ? base : {}),
          status,
          cached: result.cached,
          outputs: result.outputs,
          error: result.reason,
          endTime: Date.now(),
          progress: status === 'interrupted' ? null : 1,
        },
        started,
      );
      await this.stores.pipelines
        .addLineage(this.record.id, id, lineageOf(result.outputs))
        .catch(() => undefined);
    } catch (e) {
      const err = toModelautoError(e);
      const interrupted = this.stopping && (err.code === 'INTERRUPTED' || this.controller.signal.aborted);
      await this.setStep(
        id,
        {
          status: interrupted ? 'interrupted' : 'failed',
          attempt,
          error: `${err.code}: ${err.message}`,
          endTime: Date.now(),
        },
        started,
      ).catch(() => undefined);
    } finally {
      this.tasks.delete(id);
    }
  }

  /** The step's `with`, with parameters and the outputs of finished steps filled in. */
  private resolveInputs(id: string): JsonValue {
    const step = this.pipeline.spec.steps[id]!;
    return resolveRefs(step.with, (ref, text) => {
      if (ref.kind === 'params') return getPath(this.pipeline.params, ref.path);
      const outputs = this.state.get(ref.step)?.outputs ?? {};
      const value = getPath(outputs[ref.output], ref.path);
      if (value === undefined) {
        const produced = Object.keys(outputs).join(', ') || 'nothing';
        throw new ModelautoError(
          'INVALID_SPEC',
          `steps.${id}.with: ${text}: ${formatRef(ref)} is not set (step "${ref.step}" produced: ${produced}${ref.path.length ? `; no ${formatPath(ref.path)} inside ${ref.output}` : ''})`,
        );
      }
      return value;
    });
  }

  private lastProgressWrite = new Map<string, number>();

  private onProgress(id: string, p: TaskProgress): void {
    this.options.onEvent?.({
      type: 'progress',
      stepId: id,
      fraction: p.fraction,
      ...(p.message !== undefined ? { message: p.message } : {}),
    });
    const now = Date.now();
    if (now - (this.lastProgressWrite.get(id) ?? 0) < PROGRESS_WRITE_MS) return;
    this.lastProgressWrite.set(id, now);
    void this.stores.pipelines
      .updateStep(this.record.id, id, {
        progress: Math.min(1, Math.max(0, p.fraction)),
        message: p.message?.slice(0, 10_000) ?? null,
      })
      .catch(() => undefined);
  }

  private async setStep(
    id: string,
    update: Parameters<OpenedStores['pipelines']['updateStep']>[2],
    started?: number,
  ): Promise<void> {
    const s = this.state.get(id) as StepState;
    const record = await this.stores.pipelines.updateStep(this.record.id, id, update);
    s.status = record.status;
    s.outputs = record.outputs;
    s.attempt = record.attempt;
    s.error = record.error;
    if (record.status !== 'running') {
      const seconds =
        started !== undefined && record.endTime !== null ? (record.endTime - started) / 1000 : null;
      this.options.onEvent?.({
        type: 'step',
        stepId: id,
        status: record.status,
        cached: record.cached,
        error: record.error,
        seconds,
      });
    } else {
      this.options.onEvent?.({
        type: 'step',
        stepId: id,
        status: 'running',
        cached: false,
        error: null,
        seconds: null,
      });
    }
  }

  private async finish(): Promise<PipelineRunRecord> {
    const steps = [...this.state.entries()];
    const failed = steps.find(([, s]) => s.status === 'failed');
    const gated = steps.filter(([, s]) => s.status === 'gated');
    const unfinished = steps.some(
      ([, s]) => s.status === 'interrupted' || s.status === 'pending' || s.status === 'running',
    );
    if (failed)
      return this.stores.pipelines.finishRun(
        this.record.id,
        'failed',
        `step "${failed[0]}" failed: ${failed[1].error ?? 'unknown error'}`,
      );
    if (this.stopping || unfinished) {
      return this.stores.pipelines.finishRun(
        this.record.id,
        'interrupted',
        'interrupted; `modelauto pipeline resume` continues it',
      );
    }
    if (gated.length > 0) {
      const why = gated
        .map(([id, s]) => `gate "${id}" failed: ${s.error ?? 'a condition does not hold'}`)
        .join('; ');
      return this.stores.pipelines.finishRun(this.record.id, 'gated', why);
    }
    return this.stores.pipelines.finishRun(this.record.id, 'finished');
  }
}

/** Tracked runs, model versions and folders a step's outputs name, for the lineage table. */
export function lineageOf(outputs: Record<string, JsonValue>): LineageRef[] {
  const refs: LineageRef[] = [];
  for (const [k, v] of Object.entries(outputs)) {
    if ((k === 'run_id' || k.endsWith('_run_id')) && typeof v === 'string' && /^[0-9a-f]{32}$/.test(v))
      refs.push({ kind: 'run', ref: v });
    if (k === 'dir' && typeof v === 'string' && v.length > 0) refs.push({ kind: 'file', ref: v });
  }
  if (typeof outputs['model'] === 'string' && typeof outputs['version'] === 'number') {
    refs.push({ kind: 'model_version', ref: `${outputs['model']}:${outputs['version']}` });
  }
  return refs;
}
