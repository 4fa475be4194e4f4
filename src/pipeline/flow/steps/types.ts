/**
 * What a step type is: the schema of its `with`, the outputs it declares (what `${{ steps.<id>.outputs.* }}`
 * may name), where it runs, what besides its inputs decides whether it can be reused (file contents,
 * data), and the work itself. A new step type (deploy, monitor, ...) is one file that exports a
 * StepDefinition and one line in steps/index.ts.
 */
import type { z } from 'zod';
import type { ModelRegistry } from '../../../store/registry.js';
import type { PipelineStore } from '../../../store/pipeline-types.js';
import type { TrackingStore } from '../../../store/tracking-store.js';
import type { JsonValue } from '../../../store/types.js';
import type { Executor } from '../../executor/types.js';

export type StepOutputs = Record<string, JsonValue>;

export interface StepResult {
  outputs: StepOutputs;
  /** finished (default); gated: a gate whose conditions failed (downstream steps are skipped); interrupted. */
  status?: 'finished' | 'gated' | 'interrupted';
  /** Why a step was gated or interrupted, shown in the run's status. */
  reason?: string;
}

export interface StepStores {
  uri: string;
  tracking: TrackingStore;
  registry: ModelRegistry;
  pipelines: PipelineStore;
}

export interface StepContext {
  pipelineRunId: string;
  stepId: string;
  /** Folder relative paths in `with` are resolved against (the pipeline file's). */
  baseDir: string;
  cacheKey: string;
  stores: StepStores;
  signal: AbortSignal;
  log(line: string): void;
  progress(fraction: number, message?: string): void;
  /** Only for steps that run in the coordinator: the executor to hand their own tasks to. */
  executor?: Executor;
}

export interface FingerprintContext {
  baseDir: string;
}

export interface CheckContext {
  baseDir: string;
}

export interface StepDefinition<I = unknown> {
  uses: string;
  /** One line for `pipeline --help`-style listings and errors. */
  summary: string;
  /** Validates `with` (after `${{ params.* }}` are applied); its output is what `run` gets. */
  schema: z.ZodType<I>;
  /** Output names; `${{ steps.<id>.outputs.<name>.more }}` may go deeper into an object output. */
  outputs: readonly string[];
  /**
   * task: handed to the executor as a `pipeline.step` task (a child process, a BullMQ worker);
   * coordinator: runs in the process that drives the pipeline (steps that hand out tasks of their own).
   */
  placement: 'task' | 'coordinator';
  /** False for steps whose effect must happen every time; default true. */
  cacheable?: boolean;
  /**
   * Checks before anything runs, on inputs without step references (e.g. loads a referenced experiment
   * file, so its errors point at its own lines). Throws ModelautoError.
   */
  check?(input: I, ctx: CheckContext): void;
  /** What the resolved inputs do not say but the result depends on: file contents, data fingerprints. */
  fingerprint?(input: I, ctx: FingerprintContext): Promise<JsonValue>;
  run(input: I, ctx: StepContext): Promise<StepResult>;
  /** The status that outputs taken from the cache stand for (a gate's failed verdict); default finished. */
  verdict?(outputs: StepOutputs): { status: 'gated'; reason: string } | undefined;
}

/** A step definition with its input type erased, as kept in the registry. */
export type AnyStepDefinition = StepDefinition<never> & {
  schema: z.ZodType;
  check?(input: unknown, ctx: CheckContext): void;
  fingerprint?(input: unknown, ctx: FingerprintContext): Promise<JsonValue>;
  run(input: unknown, ctx: StepContext): Promise<StepResult>;
};

export function defineStep<I>(definition: StepDefinition<I>): AnyStepDefinition {
  return definition as unknown as AnyStepDefinition;
}
