/**
 * `uses: search` — hyperparameter search over experiment-spec paths: grid, random, or successive
 * halving (ASHA: configurations start with few epochs, only the best 1/eta are trained further).
 * The search is a tracked run (kind `search`); every trial is a tracked training run whose parent is
 * the search, handed to the executor as a `search.trial` task (local children or BullMQ workers), and
 * recorded once per trial id, so a resumed or retried search never trains or counts a trial twice.
 *
 *   with: { experiment: ../iris.yaml, set?: {...}, data?: {...},
 *           space: { train.optimizer.learningRate: { min: 0.001, max: 0.1, scale: log },
 *                    model.layers[0].units: [8, 16, 32] },
 *           strategy: grid | random | halving, trials?: 8 (random, halving), seed?: 0,
 *           metric?: val_loss, mode?: min | max (required with metric),
 *           halving?: { minEpochs: 1, maxEpochs: <experiment epochs>, eta: 3 }, parallel?: 2 }
 *   outputs: run_id (the search run), best_run_id, best_params, best_metric, trials, results
 */
import { z } from 'zod';
import { ModelautoError } from '../../../core/errors.js';
import type { JsonValue } from '../../../store/types.js';
import type { ExperimentSpec } from '../../../train/experiment.js';
import { dataFingerprint, ExperimentInputShape, resolveExperiment } from '../experiment.js';
import { HalvingScheduler, rungEpochs, type HalvingJob } from '../search/halving.js';
import {
  gridConfigurations,
  randomConfigurations,
  probeConfigurations,
  SpaceSchema,
} from '../search/space.js';
import { SEARCH_TRIAL_TASK, type SearchTrialInput, type TrialOutput } from '../search/trial.js';
import { applyConfiguration } from '../search/apply.js';
import { cancelTask } from '../cancel.js';
import { pipelineTags } from './common.js';
import { defineStep, type StepContext, type StepResult } from './types.js';

export const SEARCH_STRATEGIES = ['grid', 'random', 'halving'] as const;

export const SearchStepInputSchema = z
  .strictObject({
    ...ExperimentInputShape,
    space: SpaceSchema,
    strategy: z.enum(SEARCH_STRATEGIES),
    /** Configurations to draw (random, halving); default 8. */
    trials: z.int().positive().optional(),
    seed: z.int().default(0),
    metric: z.string().min(1).optional(),
    mode: z.enum(['min', 'max']).optional(),
    halving: z
      .strictObject({
        minEpochs: z.int().positive().default(1),
        /** Default: the experiment's train.epochs. */
        maxEpochs: z.int().positive().optional(),
        eta: z.number().gt(1, 'expected eta > 1').default(3),
      })
      .optional(),
    /** Trials in flight at once (the executor may run fewer). */
    parallel: z.int().positive().default(2),
  })
  .superRefine((v, ctx) => {
    if (v.metric !== undefined && v.mode === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['mode'],
        message: `required with metric "${v.metric}": min or max`,
      });
    }
    if (v.strategy === 'grid' && v.trials !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['trials'],
        message: 'grid search tries every combination; remove trials',
      });
    }
    if (v.halving && v.strategy !== 'halving') {
      ctx.addIssue({ code: 'custom', path: ['halving'], message: 'goes with strategy: halving' });
    }
  });
export type SearchStepInput = z.infer<typeof SearchStepInputSchema>;

interface Job {
  config: number;
  rung: number;
  epochs: number;
}

function plan(input: SearchStepInput, spec: ExperimentSpec) {
  const configs =
    input.strategy === 'grid'
      ? gridConfigurations(input.space)
      : randomConfigurations(input.space, input.trials ?? 8, input.seed);
  const maxEpochs = input.halving?.maxEpochs ?? spec.train.epochs;
  const rungs =
    input.strategy === 'halving'
      ? rungEpochs({
          minEpochs: Math.min(input.halving?.minEpochs ?? 1, maxEpochs),
          maxEpochs,
          eta: input.halving?.eta ?? 3,
        })
      : [spec.train.epochs];
  return { configs, rungs };
}

export const searchStep = defineStep<SearchStepInput>({
  uses: 'search',
  summary: 'hyperparameter search (grid, random, successive halving); every trial a tracked run',
  schema: SearchStepInputSchema,
  outputs: ['run_id', 'best_run_id', 'best_params', 'best_metric', 'trials', 'results'],
  placement: 'coordinator',
  check(input, ctx) {
    const { spec } = resolveExperiment(input, ctx.baseDir, 'with');
    for (const c of probeConfigurations(input.space)) applyConfiguration(spec, c, undefined, 'with.space');
    plan(input, spec);
  },
  async fingerprint(input, ctx) {
    const { spec, baseDir } = resolveExperiment(input, ctx.baseDir, 'with');
    return { experiment: JSON.parse(JSON.stringify(spec)), data: await dataFingerprint(spec.data, baseDir) };
  },
  async run(input, ctx) {
    if (!ctx.executor)
      throw new ModelautoError('INTERNAL', 'the search step runs in the coordinator, with an executor');
    return runSearch(input, ctx);
  },
});

async function runSearch(input: SearchStepInput, ctx: StepContext): Promise<StepResult> {
  const executor = ctx.executor!;
  const { tracking, pipelines } = ctx.stores;
  const { spec, baseDir } = resolveExperiment(input, ctx.baseDir, 'with');
  const metric = input.metric ?? 'val_loss';
  const mode = input.mode ?? 'min';
  const { configs, rungs } = plan(input, spec);
  const prefix = `search-${ctx.cacheKey.slice(0, 16)}`;
  const trialId = (j: Job): string => `${prefix}-c${j.config}-r${j.rung}`;
  const search = await tracking.createRun({
    name: `${spec.name}-search`.slice(0, 256),
    kind: 'search',
    params: {
      strategy: input.strategy,
      space: input.space as JsonValue,
      metric,
      mode,
      configurations: configs.length,
      rungs,
      seed: input.seed,
      trial_prefix: prefix,
    },
    tags: { ...pipelineTags(ctx), search_key: prefix },
  });
  ctx.log(
    `search ${search.id.slice(0, 8)}: ${input.strategy}, ${configs.length} configuration(s)` +
      `${rungs.length > 1 ? `, rungs ${rungs.join('/')} epochs` : ''}, ranked by ${metric} (${mode})`,
  );

  const scheduler =
    input.strategy === 'halving'
      ? new HalvingScheduler(configs.length, rungs, input.halving?.eta ?? 3, mode)
      : undefined;
  let nextPlain = 0;
  const nextJob = (): Job | undefined => {
    if (scheduler) {
      const j: HalvingJob | undefined = scheduler.next();
      return j && { ...j, epochs: rungs[j.rung] as number };
    }
    return nextPlain < configs.length
      ? { config: nextPlain++, rung: 0, epochs: rungs[0] as number }
      : undefined;
  };
  const results: TrialOutput[] = [];
  const maxJobs = scheduler ? configs.length * rungs.length : configs.length;
  let interrupted = false;

  const runJob = async (job: Job): Promise<TrialOutput> => {
    const id = trialId(job);
    const recorded = await pipelines.getTrial(id);
    if (recorded) {
      return {
        trialId: id,
        status: recorded.status,
        runId: recorded.runId,
        metric: recorded.metric,
        rung: recorded.rung,
        epochs: job.epochs,
        params: recorded.params,
        error: null,
        recorded: true,
      };
    }
    const params = configs[job.config] as Record<string, JsonValue>;
    const experiment = applyConfiguration(spec, params, job.epochs, 'with.space');
    const task: SearchTrialInput = {
      searchRunId: search.id,
      trialId: id,
      rung: job.rung,
      params,
      experiment: JSON.parse(JSON.stringify(experiment)) as Record<string, unknown>,
      baseDir,
      metric,
      pipelineRunId: ctx.pipelineRunId,
      stepId: ctx.stepId,
    };
    return (await executor.run({
      id,
      kind: SEARCH_TRIAL_TASK,
      input: task,
      store: ctx.stores.uri,
    })) as TrialOutput;
  };

  const inFlight = new Map<string, Promise<{ job: Job; out?: TrialOutput; error?: Error }>>();
  const cancelAll = (): void => {
    for (const key of inFlight.keys()) {
      const [config, rung] = key.split('@').map(Number);
      cancelTask(executor, trialId({ config: config as number, rung: rung as number, epochs: 0 }));
    }
  };
  ctx.signal.addEventListener('abort', cancelAll, { once: true });
  try {
    for (;;) {
      while (!interrupted && !ctx.signal.aborted && inFlight.size < input.parallel) {
        const job = nextJob();
        if (!job) break;
        const key = `${job.config}@${job.rung}`;
        inFlight.set(
          key,
          runJob(job).then(
            (out) => ({ job, out }),
            (error: Error) => ({ job, error }),
          ),
        );
      }
      if (inFlight.size === 0) break;
      const done = await Promise.race(inFlight.values());
      inFlight.delete(`${done.job.config}@${done.job.rung}`);
      const out: TrialOutput = done.out ?? {
        trialId: trialId(done.job),
        status: 'failed',
        runId: null,
        metric: null,
        rung: done.job.rung,
        epochs: done.job.epochs,
        params: configs[done.job.config] as Record<string, JsonValue>,
        error: done.error?.message ?? 'unknown error',
        recorded: false,
      };
      if (out.status === 'interrupted' || ctx.signal.aborted) interrupted = true;
      if (out.status !== 'interrupted') {
        scheduler?.report(done.job, out.status === 'finished' ? out.metric : null);
        results.push(out);
      }
      const shown = Object.entries(out.params)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(', ');
      ctx.log(
        `trial ${out.trialId} (${shown}; ${done.job.epochs} epoch(s)): ${out.status}` +
          `${out.metric !== null ? `, ${metric} ${out.metric.toFixed(4)}` : ''}${out.error ? ` — ${out.error}` : ''}${out.recorded ? ' (recorded earlier)' : ''}`,
      );
      ctx.progress(Math.min(1, results.length / maxJobs), `${results.length} trial(s) done`);
    }
  } catch (e) {
    await tracking.finishRun(search.id, 'failed', (e as Error).message).catch(() => undefined);
    throw e;
  } finally {
    ctx.signal.removeEventListener('abort', cancelAll);
  }
  return finishSearch(ctx, search.id, results, { metric, mode, rungs: rungs.length, interrupted });
}

async function finishSearch(
  ctx: StepContext,
  searchRunId: string,
  results: TrialOutput[],
  o: { metric: string; mode: 'min' | 'max'; rungs: number; interrupted: boolean },
): Promise<StepResult> {
  const { tracking } = ctx.stores;
  const finished = results.filter(
    (r) => r.status === 'finished' && r.metric !== null && Number.isFinite(r.metric),
  );
  // The best of the highest rung reached: a trial trained longer is judged against its peers only.
  const top = Math.max(-1, ...finished.map((r) => r.rung));
  const sign = o.mode === 'min' ? 1 : -1;
  const best = finished
    .filter((r) => r.rung === top)
    .sort((a, b) => sign * ((a.metric as number) - (b.metric as number)))[0];
  // By configuration, then rung: the order the space lists them in, whatever order they finished in.
  const order = (r: TrialOutput): number[] => (/-c(\d+)-r(\d+)$/.exec(r.trialId) ?? []).slice(1).map(Number);
  const sorted = [...results].sort((a, b) => order(a)[0]! - order(b)[0]! || order(a)[1]! - order(b)[1]!);
  const table = sorted.map((r) => ({
    trial_id: r.trialId,
    params: r.params,
    rung: r.rung,
    epochs: r.epochs,
    status: r.status,
    run_id: r.runId,
    metric: r.metric,
    error: r.error,
  }));
  await tracking.logArtifact(searchRunId, {
    name: 'trials.json',
    data: JSON.stringify(table, null, 2) + '\n',
  });
  await tracking.logMetrics(searchRunId, [
    { key: 'trials_finished', value: finished.length, step: 0 },
    { key: 'trials_failed', value: results.filter((r) => r.status === 'failed').length, step: 0 },
    ...(best ? [{ key: `best_${o.metric}`, value: best.metric as number, step: 0 }] : []),
  ]);
  if (best?.runId) await tracking.setTags(searchRunId, { best_run: best.runId });
  const outputs = {
    run_id: searchRunId,
    best_run_id: best?.runId ?? null,
    best_params: best?.params ?? null,
    best_metric: best?.metric ?? null,
    trials: results.length,
    results: table as unknown as JsonValue,
  };
  if (o.interrupted) {
    await tracking.finishRun(
      searchRunId,
      'interrupted',
      'interrupted; resume the pipeline to continue the search',
    );
    return { outputs, status: 'interrupted', reason: 'search interrupted' };
  }
  if (!best) {
    const why = results.find((r) => r.error)?.error ?? `no trial reported ${o.metric}`;
    await tracking.finishRun(searchRunId, 'failed', `no trial finished: ${why}`);
    throw new ModelautoError(
      'INTERNAL',
      `search: no trial finished with a ${o.metric} (${results.length} tried): ${why}`,
    );
  }
  await tracking.finishRun(searchRunId, 'finished');
  ctx.log(
    `best: ${best.trialId} ${o.metric} ${(best.metric as number).toFixed(4)} (run ${best.runId?.slice(0, 8)})`,
  );
  return { outputs };
}
