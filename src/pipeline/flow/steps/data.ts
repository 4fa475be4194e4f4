/**
 * `uses: data` — loads and checks a data set, profiles its training split and fingerprints it, as a
 * tracked `data` run (profile.json). Its `spec` output (paths made absolute) can be handed to a train
 * step's `data`, so a retraining pipeline reads fresh data in one place.
 *
 *   with: { data: { csv: data/churn.csv, label: churned, ... } }  or  { experiment: ../iris.yaml }
 *   outputs: run_id, fingerprint, spec, samples ({train, validation, test}), classes
 */
import { z } from 'zod';
import { ModelautoError } from '../../../core/errors.js';
import { formatIssues } from '../zod.js';
import { fingerprintDataset } from '../../../data/fingerprint.js';
import { loadDataset } from '../../../data/load.js';
import { profileDataset } from '../../../data/profile.js';
import { DataSpecSchema, type DataSpec } from '../../../data/spec.js';
import { splitDataset } from '../../../data/split.js';
import type { JsonValue } from '../../../store/types.js';
import { absoluteData, dataFingerprint, ExperimentSourceSchema, resolveExperiment } from '../experiment.js';
import { pipelineTags } from './common.js';
import { defineStep } from './types.js';

export const DataStepInputSchema = z
  .strictObject({
    /** A `data:` section, as in an experiment spec (relative paths are the pipeline file's). */
    data: z.record(z.string(), z.unknown()).optional(),
    /** Or the `data:` of an experiment file / inline experiment. */
    experiment: ExperimentSourceSchema.optional(),
  })
  .refine(
    (v) => (v.data === undefined) !== (v.experiment === undefined),
    'expected one of data or experiment',
  );
export type DataStepInput = z.infer<typeof DataStepInputSchema>;

function dataSpecOf(input: DataStepInput, baseDir: string): DataSpec {
  if (input.experiment !== undefined) {
    const r = resolveExperiment({ experiment: input.experiment }, baseDir, 'with');
    return absoluteData(r.spec.data, r.baseDir);
  }
  const parsed = DataSpecSchema.safeParse(input.data);
  if (!parsed.success) throw new ModelautoError('INVALID_SPEC', formatIssues(parsed.error, 'with.data'));
  return absoluteData(parsed.data, baseDir);
}

export const dataStep = defineStep<DataStepInput>({
  uses: 'data',
  summary: 'load, check, profile and fingerprint a data set',
  schema: DataStepInputSchema,
  outputs: ['run_id', 'fingerprint', 'spec', 'samples', 'classes'],
  placement: 'task',
  check(input, ctx) {
    dataSpecOf(input, ctx.baseDir);
  },
  async fingerprint(input, ctx) {
    const spec = dataSpecOf(input, ctx.baseDir);
    return { spec: spec as unknown as JsonValue, content: await dataFingerprint(spec, ctx.baseDir) };
  },
  async run(input, ctx) {
    const spec = dataSpecOf(input, ctx.baseDir);
    const dataset = await loadDataset(spec, { baseDir: ctx.baseDir });
    const splits = splitDataset(dataset, spec.split);
    const fingerprint = fingerprintDataset(dataset);
    const samples = { train: splits.train.n, validation: splits.validation.n, test: splits.test.n };
    const classes = dataset.target.kind === 'classification' ? dataset.target.classes : null;
    ctx.log(
      `data: ${dataset.name} — train ${samples.train}, validation ${samples.validation}, test ${samples.test}`,
    );
    const { tracking } = ctx.stores;
    const run = await tracking.createRun({
      name: `${dataset.name}-data`.slice(0, 256),
      kind: 'data',
      params: { data: JSON.parse(JSON.stringify(spec)) as JsonValue, dataset: dataset.name, classes },
      tags: pipelineTags(ctx),
      dataFingerprint: fingerprint,
    });
    try {
      await tracking.logArtifact(run.id, {
        name: 'profile.json',
        data: JSON.stringify(profileDataset(splits.train), null, 2) + '\n',
      });
      await tracking.logMetrics(
        run.id,
        Object.entries(samples).map(([k, v]) => ({ key: `samples_${k}`, value: v, step: 0 })),
      );
      await tracking.finishRun(run.id, 'finished');
    } catch (e) {
      await tracking.finishRun(run.id, 'failed', (e as Error).message).catch(() => undefined);
      throw e;
    }
    return {
      outputs: {
        run_id: run.id,
        fingerprint,
        spec: JSON.parse(JSON.stringify(spec)) as JsonValue,
        samples,
        classes,
      },
    };
  },
});
