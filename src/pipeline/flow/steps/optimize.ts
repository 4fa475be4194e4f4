/**
 * `uses: optimize` — compresses a trained run's model: one candidate plan (prune, structured,
 * distill, quantize, in that order) or the accuracy-budget search over many, each a tracked run.
 *
 *   with: { run: ${{ steps.train.outputs.run_id }}, plan: { prune: { sparsity: 0.8 }, quantize: { dtype: uint8 } } }
 *     or  { run: ..., search: { tolerance: 0.01, objective: size, budget: 4trials } }
 *   outputs: run_id (the candidate, or the search's best), key, metrics, validation, test,
 *            size_gzip_bytes, size_raw_bytes, candidates (search: how many were tried)
 */
import { z } from 'zod';
import { ModelautoError } from '../../../core/errors.js';
import { CandidatePlanSchema } from '../../optimize/plan.js';
import { runOptimizeCandidate, runOptimizeSearch, SearchOptionsSchema } from '../../optimize-job.js';
import { latestMetrics, pipelineTags, RunRefSchema } from './common.js';
import type { StepContext, StepResult } from './types.js';
import { defineStep } from './types.js';

export const OptimizeStepInputSchema = z
  .strictObject({
    run: RunRefSchema,
    plan: CandidatePlanSchema.optional(),
    search: SearchOptionsSchema.optional(),
    /** Use only the first n training rows (a run trained with a limit needs the same). */
    limit: z.int().positive().optional(),
    /** Timed rounds per batch size for latency (default 50). */
    latencyRounds: z.int().positive().optional(),
  })
  .refine((v) => (v.plan === undefined) !== (v.search === undefined), 'expected one of plan or search');
export type OptimizeStepInput = z.infer<typeof OptimizeStepInputSchema>;

async function outputsOf(runId: string, key: string, ctx: StepContext, extra: Record<string, number> = {}) {
  const run = await ctx.stores.tracking.getRun(runId);
  await ctx.stores.tracking.setTags(runId, pipelineTags(ctx));
  const metric = (k: string): number | null => {
    const v = run.metrics[k]?.value;
    return v !== undefined && Number.isFinite(v) ? v : null;
  };
  return {
    run_id: runId,
    key,
    metrics: latestMetrics(run),
    validation: metric('val_score'),
    test: metric('test_score'),
    size_gzip_bytes: metric('size_gzip_bytes'),
    size_raw_bytes: metric('size_raw_bytes'),
    ...extra,
  };
}

export const optimizeStep = defineStep<OptimizeStepInput>({
  uses: 'optimize',
  summary: "compress a trained run's model: one plan, or the accuracy-budget search",
  schema: OptimizeStepInputSchema,
  outputs: [
    'run_id',
    'key',
    'metrics',
    'validation',
    'test',
    'size_gzip_bytes',
    'size_raw_bytes',
    'candidates',
  ],
  placement: 'task',
  async run(input, ctx): Promise<StepResult> {
    const options = {
      store: ctx.stores.tracking,
      log: ctx.log,
      signal: ctx.signal,
      ...(input.limit ? { limit: input.limit } : {}),
      ...(input.latencyRounds ? { latencyRounds: input.latencyRounds } : {}),
    };
    if (input.plan) {
      const r = await runOptimizeCandidate(input.run, input.plan, options);
      if (r.candidate.status === 'interrupted') {
        return {
          outputs: { run_id: r.candidate.runId },
          status: 'interrupted',
          reason: 'fine-tuning interrupted',
        };
      }
      return { outputs: await outputsOf(r.candidate.runId, r.candidate.key, ctx, { candidates: 1 }) };
    }
    const r = await runOptimizeSearch(input.run, input.search ?? {}, options);
    if (r.stopReason === 'interrupted') {
      return { outputs: { run_id: r.run.id }, status: 'interrupted', reason: 'search interrupted' };
    }
    if (!r.best) {
      throw new ModelautoError(
        'CONFLICT',
        `no candidate of ${r.rows.length} tried kept validation accuracy above ${r.floor.toFixed(4)} (search run ${r.run.id.slice(0, 8)})`,
      );
    }
    return { outputs: await outputsOf(r.best.runId, r.best.key, ctx, { candidates: r.rows.length }) };
  },
});
