/**
 * The automation loop: an alert rule with `run:` fires (the alert engine's `onFire`), and the loop
 * runs that pipeline — the retraining pipeline — in this process, recorded in the store like any run.
 *
 * - One run at a time per pipeline and model: an alert that fires while its retrain runs joins that
 *   run (recorded on it) instead of starting another; `cooldownMs` also skips alerts that fire soon
 *   after a run ended (the new champion needs traffic before its own drift and quality are known).
 * - The rule's `args` are the run's `--set` overrides. The loop also fills in, when the pipeline
 *   declares them as params, `trigger` (a sentence saying which alert fired, on which model, when and
 *   why — promote steps put it in the reasons of their alias moves), `alert_rule`, `alert_model` and
 *   `alert_at` (epoch ms).
 * - A run that cannot start (the file no longer loads, an undeclared arg) is recorded as `error`.
 */
import { ModelautoError } from '../../core/errors.js';
import type { AlertRunRequest } from '../../monitor/alerts/engine.js';
import type { PipelineRunRecord } from '../../store/pipeline-types.js';
import type { JsonValue } from '../../store/types.js';

/** Params the loop sets on a triggered run when the pipeline declares them. */
export const LOOP_PARAMS = ['trigger', 'alert_rule', 'alert_model', 'alert_at'] as const;

export type TriggeredRunState =
  'running' | 'finished' | 'gated' | 'failed' | 'interrupted' | 'error' | 'skipped';

export interface TriggeredRun {
  /** 1, 2, ... in the order alerts arrived. */
  seq: number;
  pipeline: string;
  model: string | null;
  rule: string;
  alertEventId: string;
  /** When the alert fired (epoch ms) and what it said. */
  firedAt: number;
  message: string;
  /** Alerts that fired while this run was going, and were answered by it. */
  joined: { rule: string; at: number; message: string }[];
  state: TriggeredRunState;
  /** The pipeline run (once it ended; runs that could not start have none). */
  pipelineRunId: string | null;
  error: string | null;
  startedAt: number;
  endedAt: number | null;
  /** The version a `promote` step made champion, if one did. */
  promoted: { model: string; version: number } | null;
  /** The pipeline run as recorded when it ended. */
  record: PipelineRunRecord | null;
}

export interface AutomationLoopOptions {
  /** Store URI the triggered runs are recorded in (the deployment's). */
  store: string;
  /** Local executor concurrency of a triggered run (default 1: a retrain is a chain of steps). */
  concurrency?: number;
  /** After a run ends, alerts for the same pipeline and model within this long are skipped (default 0). */
  cooldownMs?: number;
  log?: (line: string) => void;
  now?: () => number;
}

function keyOf(pipeline: string, model: string | null): string {
  return `${pipeline}\u0000${model ?? ''}`;
}

/** The version a finished run's champion-stage promote step moved `@champion` to. */
export function promotedBy(record: PipelineRunRecord): { model: string; version: number } | null {
  for (const s of record.steps) {
    const o = s.outputs;
    if (s.uses === 'promote' && s.status === 'finished' && o && o['stage'] === 'champion') {
      if (typeof o['model'] === 'string' && typeof o['version'] === 'number')
        return { model: o['model'], version: o['version'] };
    }
  }
  return null;
}

export class AutomationLoop {
  private readonly list: TriggeredRun[] = [];
  private readonly active = new Map<string, TriggeredRun>();
  private readonly lastEnd = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();
  private readonly controller = new AbortController();
  private readonly changed = new Set<() => void>();
  private readonly log: (line: string) => void;
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly options: AutomationLoopOptions) {
    this.log = options.log ?? (() => undefined);
    this.now = options.now ?? Date.now;
  }

  /** The alert engine's `onFire`: starts (or joins) the rule's pipeline. */
  readonly onFire = (request: AlertRunRequest): void => {
    this.trigger(request);
  };

  /** Every alert the loop was given, oldest first. */
  get runs(): readonly TriggeredRun[] {
    return this.list;
  }

  /** Starts the pipeline of a firing alert, or records it on the run already answering it. */
  trigger(request: AlertRunRequest): TriggeredRun {
    const key = keyOf(request.pipeline, request.model);
    const running = this.active.get(key);
    if (running) {
      running.joined.push({ rule: request.rule, at: request.event.at, message: request.event.message });
      this.log(
        `alert ${request.rule} fired on ${request.model ?? '-'}: retrain #${running.seq} is already running`,
      );
      this.notify();
      return running;
    }
    const run: TriggeredRun = {
      seq: this.list.length + 1,
      pipeline: request.pipeline,
      model: request.model,
      rule: request.rule,
      alertEventId: request.event.id,
      firedAt: request.event.at,
      message: request.event.message,
      joined: [],
      state: 'running',
      pipelineRunId: null,
      error: null,
      startedAt: this.now(),
      endedAt: null,
      promoted: null,
      record: null,
    };
    this.list.push(run);
    const cooldown = this.options.cooldownMs ?? 0;
    const last = this.lastEnd.get(key);
    if (this.closed || (last !== undefined && run.startedAt - last < cooldown)) {
      run.state = 'skipped';
      run.endedAt = run.startedAt;
      run.error = this.closed
        ? 'the loop is closed'
        : `within the ${Math.round(cooldown / 1000)} s cooldown after the last run`;
      this.log(`alert ${request.rule} fired on ${request.model ?? '-'}: not retraining (${run.error})`);
      this.notify();
      return run;
    }
    this.active.set(key, run);
    this.log(
      `alert ${request.rule} fired on ${request.model ?? '-'}: starting ${request.pipeline} (#${run.seq})`,
    );
    const p = this.execute(run, request)
      .catch((e: unknown) => {
        run.state = 'error';
        run.error = e instanceof Error ? e.message : String(e);
        this.log(`retrain #${run.seq} could not run: ${run.error}`);
      })
      .finally(() => {
        run.endedAt = this.now();
        this.active.delete(key);
        this.lastEnd.set(key, run.endedAt);
        this.pending.delete(p);
        this.notify();
      });
    this.pending.add(p);
    return run;
  }

  private async execute(run: TriggeredRun, request: AlertRunRequest): Promise<void> {
    // Imported here: the flow layer imports the step types, some of which import this module.
    const { runPipeline } = await import('../flow/api.js');
    const { loadPipeline } = await import('../flow/load.js');
    const declared = loadPipeline(request.pipeline).spec.params;
    const set: Record<string, JsonValue> = { ...request.args };
    const context: Record<(typeof LOOP_PARAMS)[number], JsonValue> = {
      trigger: `alert ${request.rule} fired on ${request.model ?? 'every model'} at ${new Date(request.event.at).toISOString()} (${request.event.message})`,
      alert_rule: request.rule,
      alert_model: request.model,
      alert_at: request.event.at,
    };
    for (const p of LOOP_PARAMS) if (Object.hasOwn(declared, p)) set[p] = context[p];
    const name = request.pipeline.split(/[\\/]/).pop() ?? request.pipeline;
    const { run: record } = await runPipeline(request.pipeline, {
      store: this.options.store,
      set,
      concurrency: this.options.concurrency ?? 1,
      signal: this.controller.signal,
      onEvent: (e) => {
        if (e.type === 'step' && e.status !== 'running') {
          const time = e.seconds !== null ? ` (${e.seconds.toFixed(1)} s)` : '';
          this.log(`[${name} #${run.seq}: ${e.stepId}] ${e.status}${time}${e.error ? `: ${e.error}` : ''}`);
        } else if (e.type === 'log') {
          this.log(`[${name} #${run.seq}${e.stepId ? `: ${e.stepId}` : ''}] ${e.line}`);
        }
      },
    });
    run.record = record;
    run.pipelineRunId = record.id;
    run.state = record.status === 'running' ? 'interrupted' : record.status;
    run.error = record.error;
    run.promoted = promotedBy(record);
    this.log(
      `retrain #${run.seq} (pipeline run ${record.id.slice(0, 8)}) ${record.status}` +
        (run.promoted ? `: ${run.promoted.model}:${run.promoted.version} is @champion` : '') +
        (record.error ? ` — ${record.error}` : ''),
    );
  }

  private notify(): void {
    for (const f of [...this.changed]) f();
  }

  /**
   * Resolves with the first run `match` accepts once it has ended (waiting for an alert to start one,
   * and for it to end); fails after `timeoutMs` or when `signal` aborts.
   */
  async wait(
    match: (run: TriggeredRun) => boolean,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<TriggeredRun> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const done = this.list.find((r) => match(r) && r.state !== 'running');
      if (done) return done;
      if (options.signal?.aborted)
        throw new ModelautoError('INTERRUPTED', 'interrupted while waiting for a retrain');
      const left = deadline - Date.now();
      if (left <= 0) {
        const running = this.list.find((r) => match(r));
        throw new ModelautoError(
          'UNAVAILABLE',
          running
            ? `retrain #${running.seq} did not end within ${Math.round(options.timeoutMs / 1000)} s`
            : `no alert started a retrain within ${Math.round(options.timeoutMs / 1000)} s`,
        );
      }
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.changed.delete(done);
          options.signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 1000));
        this.changed.add(done);
        options.signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** Waits until no triggered run is going. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Stops taking alerts, interrupts the running runs (recorded interrupted) and waits for them. */
  async close(): Promise<void> {
    this.closed = true;
    this.controller.abort();
    await this.idle();
  }
}
