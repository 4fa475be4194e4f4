/**
 * `uses: evaluate` — scores a trained run's model on a split of its data (re-created from the recorded
 * seed) or on a CSV / JSON Lines file, as a tracked `evaluate` run.
 *
 *   with: { run: ${{ steps.train.outputs.run_id }}, split?: test | validation | train, data?: file }
 *   outputs: run_id, source_run_id, split, metrics (accuracy, f1_macro, ... of the evaluation)
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { sha256File } from '../../../core/hash.js';
import { EVAL_SPLITS, runEvaluateJob } from '../../evaluate-job.js';
import { pipelineTags, RunRefSchema } from './common.js';
import { defineStep } from './types.js';

export const EvaluateStepInputSchema = z
  .strictObject({
    run: RunRefSchema,
    split: z.enum(EVAL_SPLITS).optional(),
    /** A file with the training data's columns (relative to the pipeline file), scored whole. */
    data: z.string().min(1).optional(),
  })
  .refine((v) => !(v.split && v.data), 'give either split or data, not both');
export type EvaluateStepInput = z.infer<typeof EvaluateStepInputSchema>;

export const evaluateStep = defineStep<EvaluateStepInput>({
  uses: 'evaluate',
  summary: "score a trained run's model on a split of its data or on a file",
  schema: EvaluateStepInputSchema,
  outputs: ['run_id', 'source_run_id', 'split', 'metrics'],
  placement: 'task',
  async fingerprint(input, ctx) {
    return input.data ? { data: await sha256File(resolve(ctx.baseDir, input.data)) } : null;
  },
  async run(input, ctx) {
    const r = await runEvaluateJob(input.run, {
      store: ctx.stores.tracking,
      ...(input.split ? { split: input.split } : {}),
      ...(input.data ? { data: resolve(ctx.baseDir, input.data) } : {}),
    });
    await ctx.stores.tracking.setTags(r.run.id, pipelineTags(ctx));
    const metrics = Object.fromEntries(
      Object.entries(r.evaluation.scalars).map(([k, v]) => [k, Number.isFinite(v) ? v : null]),
    );
    ctx.log(`evaluated ${r.sourceRunId.slice(0, 8)} on the ${r.split}: ${JSON.stringify(metrics)}`);
    return { outputs: { run_id: r.run.id, source_run_id: r.sourceRunId, split: r.split, metrics } };
  },
});
