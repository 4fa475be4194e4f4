/**
 * Running a pipeline unattended (`pipeline run --watch`): run it, then wait for a trigger, run it
 * again (unchanged steps are cached), until stopped. The built-in trigger is a change to the files the
 * pipeline reads (the pipeline file, experiment files, data files); other triggers (a monitoring
 * alert) are functions that resolve with a reason when the pipeline should run.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadExperimentSpec } from '../../train/experiment.js';
import type { JsonValue } from '../../store/types.js';
import { runPipeline, type PipelineRunResult, type RunPipelineOptions } from './api.js';
import { absoluteData } from './experiment.js';
import { loadPipeline, type LoadedPipeline } from './load.js';

/** Resolves with why the pipeline should run again, or undefined once `signal` aborts. */
export type PipelineTrigger = (signal: AbortSignal) => Promise<string | undefined>;

export interface WatchPipelineOptions extends RunPipelineOptions {
  /** How often files are checked (default 5 s). */
  intervalMs?: number;
  /** Triggers besides file changes. */
  triggers?: PipelineTrigger[];
  /** Called after every run with what started it. */
  onRun?: (result: PipelineRunResult, reason: string) => void;
  /** Stop after this many runs (default: until aborted). */
  maxRuns?: number;
  /**
   * A run that could not start (the pipeline file no longer loads, the store is down): reported here and
   * the watch goes on waiting for the next change; without onError it ends the watch.
   */
  onError?: (error: Error) => void;
}

/** Files a pipeline reads: itself, files named in step inputs, and the data files of experiment files. */
export function watchedFiles(loaded: LoadedPipeline): string[] {
  const files = new Set<string>(loaded.file ? [loaded.file] : []);
  const isFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();
  const visit = (v: JsonValue): void => {
    if (typeof v === 'string' && !v.includes('${{')) {
      const p = resolve(loaded.baseDir, v);
      if (v.length < 4096 && isFile(p)) {
        files.add(p);
        if (/\.(ya?ml|json)$/i.test(p)) {
          try {
            const data = absoluteData(loadExperimentSpec(p).data, resolve(p, '..'));
            if ('csv' in data) files.add(data.csv);
            if ('jsonl' in data) files.add(data.jsonl);
            if ('idx' in data) {
              files.add(data.idx.images);
              files.add(data.idx.labels);
            }
          } catch {
            // Not an experiment file: watching the file itself is enough.
          }
        }
      }
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(visit);
  };
  for (const step of Object.values(loaded.spec.steps)) visit(step.with);
  return [...files].filter(isFile).sort();
}

/** A trigger that fires when any of the files changes (size or modification time), checked every `intervalMs`. */
export function fileChangeTrigger(files: string[], intervalMs = 5_000): PipelineTrigger {
  const snapshot = (): string =>
    files
      .map((f) => {
        const s = statSync(f, { throwIfNoEntry: false });
        return s ? `${f}:${s.size}:${s.mtimeMs}` : `${f}:missing`;
      })
      .join('\n');
  return (signal) =>
    new Promise((done) => {
      const before = snapshot();
      const timer = setInterval(() => {
        const now = snapshot();
        if (now === before) return;
        const changed = files.filter((f, i) => now.split('\n')[i] !== before.split('\n')[i]);
        stop();
        done(`changed: ${changed.join(', ')}`);
      }, intervalMs);
      const stop = (): void => {
        clearInterval(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        stop();
        done(undefined);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
}

export async function watchPipeline(
  source: string,
  options: WatchPipelineOptions = {},
): Promise<PipelineRunResult[]> {
  const results: PipelineRunResult[] = [];
  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let reason = 'started';
  let files = typeof source === 'string' ? [resolve(source)] : [];
  try {
    for (;;) {
      try {
        const result = await runPipeline(source, options);
        results.push(result);
        options.onRun?.(result, reason);
        files = watchedFiles(loadPipeline(source, options));
      } catch (e) {
        if (!options.onError) throw e;
        options.onError(e as Error);
      }
      if (controller.signal.aborted || (options.maxRuns !== undefined && results.length >= options.maxRuns))
        break;
      const round = new AbortController();
      const stopRound = (): void => round.abort();
      controller.signal.addEventListener('abort', stopRound, { once: true });
      const triggers = [fileChangeTrigger(files, options.intervalMs), ...(options.triggers ?? [])];
      const next = await Promise.race(triggers.map((t) => t(round.signal)));
      round.abort();
      controller.signal.removeEventListener('abort', stopRound);
      if (next === undefined) break;
      reason = next;
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  return results;
}
