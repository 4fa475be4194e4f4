/**
 * Records of automated pipelines, kept next to the runs and the registry (same database): a pipeline
 * run with its steps (status, times, resolved inputs, outputs, cache key, error, progress), the log
 * lines of each step, the step-output cache shared by every run, the lineage that links a step to the
 * tracked runs and model versions it produced, and the trials of hyperparameter searches, recorded
 * once per trial id.
 */
import { z } from 'zod';
import { JsonValueSchema, MetricValueSchema, RunIdSchema } from './types.js';

export const PIPELINE_RUN_STATUSES = ['running', 'finished', 'failed', 'gated', 'interrupted'] as const;
export const PipelineRunStatusSchema = z.enum(PIPELINE_RUN_STATUSES);
export type PipelineRunStatus = z.infer<typeof PipelineRunStatusSchema>;
export type TerminalPipelineRunStatus = Exclude<PipelineRunStatus, 'running'>;

/**
 * - pending: not started (or reset by a resume);
 * - running: handed to the executor;
 * - finished: ran and produced its outputs;
 * - cached: outputs reused from an earlier run with the same cache key;
 * - failed: threw; its error says why;
 * - gated: a gate whose conditions did not hold (its outputs say which);
 * - skipped: not run because a step it needs failed, was gated or skipped;
 * - interrupted: stopped by Ctrl-C or shutdown; a resume runs it again.
 */
export const STEP_STATUSES = [
  'pending',
  'running',
  'finished',
  'cached',
  'failed',
  'gated',
  'skipped',
  'interrupted',
] as const;
export const StepStatusSchema = z.enum(STEP_STATUSES);
export type StepStatus = z.infer<typeof StepStatusSchema>;

export const StepIdSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9_-]{0,63}$/,
    'expected a step id of 1-64 characters: lowercase letters, digits, "_" or "-", starting with a letter',
  );

const Text = z.string().min(1, 'expected a non-empty string').max(10_000);

export const PipelineStepRecordSchema = z.object({
  stepId: z.string(),
  /** Topological position: the order `pipeline status` lists steps in. */
  position: z.int().nonnegative(),
  uses: z.string(),
  needs: z.array(z.string()),
  status: StepStatusSchema,
  /** True when the outputs came from the cache (status cached, or gated by a cached verdict). */
  cached: z.boolean(),
  cacheKey: z.string().nullable(),
  /** The step's `with`, every `${{ }}` resolved. */
  inputs: JsonValueSchema.nullable(),
  outputs: z.record(z.string(), JsonValueSchema).nullable(),
  error: z.string().nullable(),
  /** Times the step was handed to an executor (a resume adds one). */
  attempt: z.int().nonnegative(),
  taskId: z.string().nullable(),
  progress: z.number().nullable(),
  message: z.string().nullable(),
  startTime: z.int().nullable(),
  endTime: z.int().nullable(),
});
export type PipelineStepRecord = z.infer<typeof PipelineStepRecordSchema>;

export const PipelineRunRecordSchema = z.object({
  id: RunIdSchema,
  name: z.string(),
  status: PipelineRunStatusSchema,
  error: z.string().nullable(),
  /** The pipeline as it runs: parameters applied, step references still as written. */
  spec: JsonValueSchema,
  params: z.record(z.string(), JsonValueSchema),
  /** Absolute path of the pipeline file; null for a pipeline given as an object. */
  file: z.string().nullable(),
  /** Folder relative paths in the steps are resolved against. */
  baseDir: z.string(),
  executor: z.string(),
  codeVersion: z.string(),
  /** `host:pid` of the process coordinating the run; null once it ended. */
  owner: z.string().nullable(),
  heartbeatAt: z.int().nullable(),
  /** 1 for the first run, +1 per resume. */
  attempts: z.int().positive(),
  startTime: z.int(),
  endTime: z.int().nullable(),
  /** In topological order. */
  steps: z.array(PipelineStepRecordSchema),
});
export type PipelineRunRecord = z.infer<typeof PipelineRunRecordSchema>;

export const CreatePipelineRunInputSchema = z.strictObject({
  name: z.string().min(1, 'expected a non-empty pipeline name').max(256),
  spec: JsonValueSchema,
  params: z.record(z.string(), JsonValueSchema),
  file: z.string().min(1).nullable(),
  baseDir: z.string().min(1),
  executor: z.string().min(1),
  codeVersion: z.string().min(1),
  owner: z.string().min(1),
  steps: z
    .array(z.strictObject({ stepId: StepIdSchema, uses: z.string().min(1), needs: z.array(StepIdSchema) }))
    .min(1, 'expected at least one step'),
});
export type CreatePipelineRunInput = z.input<typeof CreatePipelineRunInputSchema>;

/** Fields of a step that change as it runs; absent fields are left as they are. */
export const StepUpdateSchema = z.strictObject({
  status: StepStatusSchema.optional(),
  cached: z.boolean().optional(),
  cacheKey: z.string().min(1).nullable().optional(),
  inputs: JsonValueSchema.nullable().optional(),
  outputs: z.record(z.string(), JsonValueSchema).nullable().optional(),
  error: Text.nullable().optional(),
  attempt: z.int().nonnegative().optional(),
  taskId: z.string().min(1).nullable().optional(),
  progress: z.number().min(0).max(1).nullable().optional(),
  message: z.string().max(10_000).nullable().optional(),
  startTime: z.int().nullable().optional(),
  endTime: z.int().nullable().optional(),
});
export type StepUpdate = z.input<typeof StepUpdateSchema>;

export const ListPipelineRunsFilterSchema = z.strictObject({
  status: PipelineRunStatusSchema.optional(),
  name: z.string().min(1).optional(),
  limit: z.int().positive('expected a positive limit').optional(),
});
export type ListPipelineRunsFilter = z.input<typeof ListPipelineRunsFilterSchema>;

export interface StepLogLine {
  seq: number;
  stepId: string;
  time: number;
  line: string;
}

export const CacheEntrySchema = z.object({
  cacheKey: z.string(),
  uses: z.string(),
  outputs: z.record(z.string(), JsonValueSchema),
  /** The pipeline run and step that produced the outputs. */
  runId: z.string(),
  stepId: z.string(),
  createdAt: z.int(),
});
export type CacheEntry = z.infer<typeof CacheEntrySchema>;

export const LINEAGE_KINDS = ['run', 'model_version', 'file'] as const;
export const LineageRefSchema = z.strictObject({
  kind: z.enum(LINEAGE_KINDS),
  /** A tracking run id, `model:version`, or an absolute file path. */
  ref: z.string().min(1),
});
export type LineageRef = z.infer<typeof LineageRefSchema>;
export interface LineageRecord extends LineageRef {
  stepId: string;
}

export const TRIAL_STATUSES = ['finished', 'failed'] as const;
export const TrialRecordSchema = z.object({
  trialId: z.string(),
  /** The tracking run of the search; trials are its children. */
  searchRunId: RunIdSchema,
  params: z.record(z.string(), JsonValueSchema),
  /** Successive-halving rung (0 for grid and random). */
  rung: z.int().nonnegative(),
  status: z.enum(TRIAL_STATUSES),
  /** The trial's tracked training run (null when it failed before one was opened). */
  runId: RunIdSchema.nullable(),
  /** The objective's value; null when failed or not reported (NaN is stored as null). */
  metric: MetricValueSchema.nullable(),
  result: JsonValueSchema,
  recordedAt: z.int(),
});
export type TrialRecord = z.infer<typeof TrialRecordSchema>;
export const RecordTrialInputSchema = TrialRecordSchema.omit({ recordedAt: true }).strict();
export type RecordTrialInput = z.input<typeof RecordTrialInputSchema>;

export interface ClaimOptions {
  /** Take the run over even when its owner looks alive (another machine, fresh heartbeat). */
  force?: boolean;
  /** A heartbeat older than this means the owner is gone (default 60 s). */
  staleAfterMs?: number;
}

/**
 * Storage of pipeline runs. Errors follow the tracking store: INVALID_ARGUMENT, NOT_FOUND, CONFLICT
 * (a finished run claimed again, a live owner), STORE.
 */
export interface PipelineStore {
  readonly location: string;

  /** A new run with status running, its steps pending, owned by `input.owner`. */
  createRun(input: CreatePipelineRunInput): Promise<PipelineRunRecord>;
  getRun(runId: string): Promise<PipelineRunRecord>;
  /** A full id or a unique prefix of at least 4 hex characters. */
  resolveRunId(prefixOrId: string): Promise<string>;
  /** Newest first. */
  listRuns(filter?: ListPipelineRunsFilter): Promise<PipelineRunRecord[]>;

  /**
   * Takes a run over to resume it: allowed when it is interrupted or failed, or running with an owner
   * that is gone (same host and the process no longer exists, or a stale heartbeat). Sets it running
   * under `owner` and counts the attempt; CONFLICT otherwise (finished, gated, a live owner).
   */
  claimRun(runId: string, owner: string, options?: ClaimOptions): Promise<PipelineRunRecord>;
  /** Refreshes the heartbeat; CONFLICT when `owner` no longer owns the run. */
  heartbeat(runId: string, owner: string): Promise<void>;
  /** Ends a running run; CONFLICT when it is not running. `error` only with failed, gated, interrupted. */
  finishRun(runId: string, status: TerminalPipelineRunStatus, error?: string): Promise<PipelineRunRecord>;

  updateStep(runId: string, stepId: string, update: StepUpdate): Promise<PipelineStepRecord>;
  appendLogs(runId: string, stepId: string, lines: string[]): Promise<void>;
  /**
   * Oldest first; `afterSeq` for tailing. With `newest`, the last `limit` lines (still oldest first):
   * what a log view shows first.
   */
  getLogs(
    runId: string,
    options?: { stepId?: string; afterSeq?: number; limit?: number; newest?: boolean },
  ): Promise<StepLogLine[]>;

  getCached(cacheKey: string): Promise<CacheEntry | undefined>;
  /**
   * Keeps the first entry written under a key and returns the stored one (two runs of one step agree on
   * its outputs); `replace` overwrites it instead (a step run again on purpose, without the cache).
   */
  putCached(entry: Omit<CacheEntry, 'createdAt'>, options?: { replace?: boolean }): Promise<CacheEntry>;

  addLineage(runId: string, stepId: string, refs: LineageRef[]): Promise<void>;
  getLineage(runId: string): Promise<LineageRecord[]>;

  /**
   * Records a trial's result once: the first record under a trial id wins, later ones (a retried
   * job) are ignored. Returns the stored record and whether this call wrote it.
   */
  recordTrial(input: RecordTrialInput): Promise<{ record: TrialRecord; inserted: boolean }>;
  getTrial(trialId: string): Promise<TrialRecord | undefined>;
  /** By trial id. */
  listTrials(searchRunId: string): Promise<TrialRecord[]>;
  /** Notes that `runId` started working on the trial; returns the runs of earlier attempts. */
  addTrialAttempt(trialId: string, runId: string): Promise<string[]>;

  close(): Promise<void>;
}
