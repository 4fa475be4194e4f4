/**
 * `uses: train` — trains an experiment (a file or inline, with `data` replaced and fields `set`) as a
 * tracked run, evaluated on its test split.
 *
 *   with: { experiment: ../iris.yaml, set: { train.epochs: 3, data.limit: 1000 }, data?: {...}, name?: run name }
 *   outputs: run_id, status, metrics (the run's latest metrics: test_accuracy, val_loss, ...)
 */
import { z } from 'zod';
import { runTrainJob } from '../../train-job.js';
import { dataFingerprint, ExperimentInputShape, resolveExperiment } from '../experiment.js';
import { latestMetrics, pipelineTags, StepProgress } from './common.js';
import { defineStep } from './types.js';

export const TrainStepInputSchema = z.strictObject({
  ...ExperimentInputShape,
  /** Run name (default: the experiment's name). */
  name: z.string().min(1).max(256).optional(),
});
export type TrainStepInput = z.infer<typeof TrainStepInputSchema>;

export const trainStep = defineStep<TrainStepInput>({
  uses: 'train',
  summary: 'train an experiment and evaluate it on its test split',
  schema: TrainStepInputSchema,
  outputs: ['run_id', 'status', 'metrics'],
  placement: 'task',
  check(input, ctx) {
    resolveExperiment(input, ctx.baseDir, 'with');
  },
  async fingerprint(input, ctx) {
    const { spec, baseDir } = resolveExperiment(input, ctx.baseDir, 'with');
    return { experiment: JSON.parse(JSON.stringify(spec)), data: await dataFingerprint(spec.data, baseDir) };
  },
  async run(input, ctx) {
    const { spec, baseDir } = resolveExperiment(input, ctx.baseDir, 'with');
    const result = await runTrainJob(spec, {
      store: ctx.stores.tracking,
      baseDir,
      signal: ctx.signal,
      log: ctx.log,
      callbacks: [new StepProgress(ctx)],
      tags: pipelineTags(ctx),
      ...(input.name ? { runName: input.name } : {}),
    });
    const run = result.run;
    const outputs = { run_id: run.id, status: run.status, metrics: latestMetrics(run) };
    if (run.status === 'interrupted')
      return { outputs, status: 'interrupted', reason: 'training interrupted' };
    return { outputs };
  },
});
