/**
 * The `search.trial` task: trains one configuration of a search as a tracked run (a child of the
 * search run) and records its result once under the trial id. A retried task (a worker killed
 * mid-trial, a re-submitted job) first looks the trial up: a recorded result is returned as is, so
 * no trial is counted twice; the runs of abandoned attempts are closed as failed.
 */
import { z } from 'zod';
import { toModelautoError } from '../../../core/errors.js';
import { parseExperimentSpec } from '../../../train/experiment.js';
import { JsonValueSchema, RunIdSchema, type JsonValue } from '../../../store/types.js';
import type { TrialRecord } from '../../../store/pipeline-types.js';
import { parseWith } from '../../../optimize/parse.js';
import { runTrainJob } from '../../train-job.js';
import type { TaskContext } from '../../executor/types.js';
import { StepProgress } from '../steps/common.js';
import { withPipelineStores } from '../stores.js';

export const SEARCH_TRIAL_TASK = 'search.trial';

export const SearchTrialInputSchema = z.strictObject({
  searchRunId: RunIdSchema,
  trialId: z.string().min(1).max(256),
  rung: z.int().nonnegative(),
  /** Path → value: what this configuration sets (already applied to `experiment`). */
  params: z.record(z.string(), JsonValueSchema),
  /** The complete experiment spec to train. */
  experiment: z.record(z.string(), z.unknown()),
  /** Folder relative data paths of the experiment are resolved against. */
  baseDir: z.string().min(1),
  /** The run metric the search ranks by, e.g. val_loss. */
  metric: z.string().min(1),
  /** Linking tags. */
  pipelineRunId: z.string().optional(),
  stepId: z.string().optional(),
});
export type SearchTrialInput = z.input<typeof SearchTrialInputSchema>;

export interface TrialOutput {
  trialId: string;
  status: 'finished' | 'failed' | 'interrupted';
  runId: string | null;
  /** The objective's value (null: failed, or the run has no such metric). */
  metric: number | null;
  rung: number;
  epochs: number | null;
  params: Record<string, JsonValue>;
  error: string | null;
  /** True when the result was already recorded (a retried or repeated task). */
  recorded: boolean;
}

function fromRecord(r: TrialRecord, recorded: boolean): TrialOutput {
  const result = (r.result ?? {}) as Record<string, JsonValue>;
  return {
    trialId: r.trialId,
    status: r.status,
    runId: r.runId,
    metric: r.metric,
    rung: r.rung,
    epochs: typeof result['epochs'] === 'number' ? result['epochs'] : null,
    params: r.params,
    error: typeof result['error'] === 'string' ? result['error'] : null,
    recorded,
  };
}

/** Errors a later attempt may not hit (the store or the machine), so the trial is not recorded as failed. */
const RETRYABLE = new Set(['UNAVAILABLE', 'STORE', 'INTERRUPTED', 'IO']);

export async function runSearchTrial(raw: unknown, ctx: TaskContext): Promise<TrialOutput> {
  const input = parseWith(SearchTrialInputSchema, raw, 'task.input');
  return withPipelineStores(ctx.store, async ({ tracking, pipelines }) => {
    const existing = await pipelines.getTrial(input.trialId);
    if (existing) {
      ctx.log(`trial ${input.trialId} already recorded (${existing.status}); not run again`);
      return fromRecord(existing, true);
    }
    const spec = parseExperimentSpec(input.experiment);
    const base = {
      trialId: input.trialId,
      searchRunId: input.searchRunId,
      params: input.params,
      rung: input.rung,
    };
    try {
      const r = await runTrainJob(spec, {
        store: tracking,
        baseDir: input.baseDir,
        parentRunId: input.searchRunId,
        runName: `${spec.name}-${input.trialId.split('-').slice(-2).join('-')}`.slice(0, 256),
        tags: {
          trial_id: input.trialId,
          search_run: input.searchRunId,
          ...(input.pipelineRunId ? { pipeline_run: input.pipelineRunId } : {}),
          ...(input.stepId ? { pipeline_step: input.stepId } : {}),
        },
        signal: ctx.signal,
        callbacks: [new StepProgress(ctx)],
      });
      for (const earlier of await pipelines.addTrialAttempt(input.trialId, r.run.id)) {
        const run = await tracking.getRun(earlier);
        if (run.status === 'running') {
          await tracking
            .finishRun(
              earlier,
              'failed',
              `abandoned: its process stopped; trial ${input.trialId} was retried as run ${r.run.id}`,
            )
            .catch(() => undefined);
        }
      }
      if (r.run.status === 'interrupted') {
        return {
          ...base,
          status: 'interrupted',
          runId: r.run.id,
          metric: null,
          epochs: r.fit.epochsCompleted,
          error: 'interrupted',
          recorded: false,
        };
      }
      const value = r.run.metrics[input.metric]?.value;
      if (value === undefined) {
        const known = Object.keys(r.run.metrics).sort().join(', ');
        ctx.log(
          `trial ${input.trialId}: run ${r.run.id.slice(0, 8)} has no metric "${input.metric}" (it has ${known})`,
        );
      }
      const { record, inserted } = await pipelines.recordTrial({
        ...base,
        status: 'finished',
        runId: r.run.id,
        metric: value ?? null,
        result: {
          epochs: r.fit.epochsCompleted,
          metrics: Object.fromEntries(
            Object.entries(r.run.metrics).map(([k, p]) => [k, Number.isFinite(p.value) ? p.value : null]),
          ),
        },
      });
      return fromRecord(record, !inserted);
    } catch (e) {
      const err = toModelautoError(e);
      if (RETRYABLE.has(err.code)) throw err;
      const { record, inserted } = await pipelines.recordTrial({
        ...base,
        status: 'failed',
        runId: null,
        metric: null,
        result: { error: `${err.code}: ${err.message}` },
      });
      return fromRecord(record, !inserted);
    }
  });
}
