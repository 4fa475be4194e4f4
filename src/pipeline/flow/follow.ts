/**
 * `followPipeline`: watches a pipeline run that another process (or machine) drives, from its records
 * in the store: every change of a step's status, a step's progress in steps of 10% and its message,
 * and every new log line, until the run ends. `modelauto pipeline status <run> --follow` prints them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultStoreLocation } from '../../store/open.js';
import type { PipelineRunRecord, PipelineStepRecord, StepLogLine } from '../../store/pipeline-types.js';
import type { PipelineStatus } from './api.js';
import { openPipelineStores } from './stores.js';

export type FollowEvent =
  | { kind: 'step'; step: PipelineStepRecord }
  | { kind: 'log'; line: StepLogLine }
  | { kind: 'run'; run: PipelineRunRecord };

export interface FollowOptions {
  store?: string;
  /** Poll period (default 1000 ms). */
  intervalMs?: number;
  /** Log lines shown from before the follow started (default 20). */
  logLines?: number;
  /** Stops following (the run itself goes on). */
  signal?: AbortSignal;
  onEvent: (event: FollowEvent) => void;
}

/** What a step looks like to a reader: progress moves it only in steps of 10%. */
function stepKey(s: PipelineStepRecord): string {
  const decile = s.status === 'running' && s.progress !== null ? Math.floor(s.progress * 10) : -1;
  return `${s.status}|${decile}|${s.status === 'running' ? (s.message ?? '') : ''}|${s.attempt}`;
}

/**
 * Follows until the run is no longer running (or `signal` aborts) and returns its last status. A run
 * already ended reports its steps and log tail once and returns.
 */
export async function followPipeline(runRef: string, options: FollowOptions): Promise<PipelineStatus> {
  const interval = options.intervalMs ?? 1000;
  const stores = await openPipelineStores(options.store ?? defaultStoreLocation());
  try {
    const p = stores.pipelines;
    const id = await p.resolveRunId(runRef);
    const seen = new Map<string, string>();
    let lastSeq = -1;
    let lastStatus = '';
    let tail: StepLogLine[] = [];
    for (;;) {
      const run = await p.getRun(id);
      if (run.status !== lastStatus) {
        lastStatus = run.status;
        options.onEvent({ kind: 'run', run });
      }
      for (const s of run.steps) {
        const key = stepKey(s);
        if (seen.get(s.stepId) !== key) {
          seen.set(s.stepId, key);
          options.onEvent({ kind: 'step', step: s });
        }
      }
      const lines =
        lastSeq < 0
          ? await p.getLogs(id, { limit: options.logLines ?? 20, newest: true })
          : await p.getLogs(id, { afterSeq: lastSeq, limit: 5000 });
      for (const line of lines) options.onEvent({ kind: 'log', line });
      if (lines.length > 0) lastSeq = lines[lines.length - 1]!.seq;
      else if (lastSeq < 0) lastSeq = 0;
      tail = [...tail, ...lines].slice(-(options.logLines ?? 20));
      if (run.status !== 'running' || options.signal?.aborted) {
        return { run, lineage: await p.getLineage(id), logs: tail };
      }
      try {
        await sleep(interval, undefined, options.signal ? { signal: options.signal } : {});
      } catch {
        // aborted: one more pass reports the latest state
      }
    }
  } finally {
    await stores.close();
  }
}
