/**
 * `uses: retrain` — trains a registered model version again on fresh data, starting from its weights
 * (a warm start: the champion's architecture and what it learned, fine-tuned on the training data plus
 * the labelled feedback). The run is a child of the version's source run, tagged with where it started.
 *
 *   with: { model: mnist, from?: champion | 3, data: ${{ steps.data.outputs.spec }}, epochs?: 3,
 *           learningRate?: 0.001, batchSize?: 32, name?: run name }
 *   outputs: run_id, status, metrics, warm_start (model:version), source_run_id
 */
import { z } from 'zod';
import { ModelautoError } from '../../../core/errors.js';
import { DataSpecSchema } from '../../../data/spec.js';
import { AliasSchema, ModelNameSchema, VersionNumberSchema } from '../../../store/registry.js';
import type { ExperimentSpec } from '../../../train/experiment.js';
import { loadBundle } from '../../bundle.js';
import { runTrainJob } from '../../train-job.js';
import { formatIssues } from '../zod.js';
import { latestMetrics, pipelineTags, StepProgress } from './common.js';
import { defineStep } from './types.js';

export const RetrainStepInputSchema = z.strictObject({
  model: ModelNameSchema,
  /** The version to start from: an alias (default champion) or a version number. */
  from: z.union([AliasSchema, VersionNumberSchema]).default('champion'),
  /** The `data:` section to train on (usually a feedback-data step's `spec`). */
  data: z.record(z.string(), z.unknown()),
  epochs: z.int().positive().default(3),
  learningRate: z.number().positive().optional(),
  batchSize: z.int().positive().optional(),
  name: z.string().min(1).max(256).optional(),
});
export type RetrainStepInput = z.infer<typeof RetrainStepInputSchema>;

export const retrainStep = defineStep<RetrainStepInput>({
  uses: 'retrain',
  summary: "fine-tune a registered version's model (warm start) on fresh data",
  schema: RetrainStepInputSchema,
  outputs: ['run_id', 'status', 'metrics', 'warm_start', 'source_run_id'],
  placement: 'task',
  // What `from` names moves with the registry; the fresh data changes with every feedback.
  cacheable: false,
  check(input) {
    const r = DataSpecSchema.safeParse(input.data);
    if (!r.success) throw new ModelautoError('INVALID_SPEC', formatIssues(r.error, 'with.data'));
  },
  async run(input, ctx) {
    const parsed = DataSpecSchema.safeParse(input.data);
    if (!parsed.success) throw new ModelautoError('INVALID_SPEC', formatIssues(parsed.error, 'with.data'));
    const { tracking, registry } = ctx.stores;
    const ref =
      typeof input.from === 'number' ? `${input.model}:${input.from}` : `${input.model}@${input.from}`;
    const version = await registry.resolve(ref);
    const sourceRunId = version.sourceRunId;
    if (!sourceRunId) {
      throw new ModelautoError(
        'CONFLICT',
        `${version.model}:${version.version} has no source run: there are no weights to start from`,
      );
    }
    const start = await loadBundle(tracking, sourceRunId);
    const { checkpoint: _checkpoint, ...train } = start.spec.train;
    const spec: ExperimentSpec = {
      ...start.spec,
      name: `${start.spec.name}-retrain`.slice(0, 256),
      description: `${ref} (${version.model}:${version.version}) fine-tuned on fresh data`,
      data: parsed.data,
      train: {
        ...train,
        epochs: input.epochs,
        ...(input.batchSize ? { batchSize: input.batchSize } : {}),
        ...(input.learningRate
          ? { optimizer: { ...train.optimizer, learningRate: input.learningRate } }
          : {}),
      },
    };
    const warmStart = `${version.model}:${version.version}`;
    ctx.log(`warm start from ${warmStart} (run ${sourceRunId.slice(0, 8)}), ${input.epochs} epoch(s)`);
    const result = await runTrainJob(spec, {
      store: tracking,
      baseDir: ctx.baseDir,
      model: start.model,
      signal: ctx.signal,
      log: ctx.log,
      callbacks: [new StepProgress(ctx)],
      parentRunId: sourceRunId,
      tags: { ...pipelineTags(ctx), warm_start: warmStart },
      ...(input.name ? { runName: input.name } : {}),
    });
    const run = result.run;
    const outputs = {
      run_id: run.id,
      status: run.status,
      metrics: latestMetrics(run),
      warm_start: warmStart,
      source_run_id: sourceRunId,
    };
    if (run.status === 'interrupted')
      return { outputs, status: 'interrupted', reason: 'training interrupted' };
    return { outputs };
  },
});
