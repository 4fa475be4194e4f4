/**
 * `uses: feedback-data` — fresh training data for a retrain: the training data (a `data:` section)
 * plus every labelled prediction the model's servers logged (inputs from the prediction log, labels
 * from feedback), written as an IDX pair in a tracked `data` run's folder. Its `spec` output is a
 * `data:` section for a train or retrain step; the split (seeded) makes a holdout that mixes training
 * and feedback rows, so the gate judges the candidate and the champion on the traffic that drifted too.
 *
 *   with: { model: mnist, base: { source: mnist, limit: 10000 },
 *           feedback?: { limit: 10000, minRows: 0, timeout: 60s, recent: null | 24h },
 *           split?: { validation: 0.1, test: 0.2, seed: 1 } }
 *   outputs: run_id, spec, fingerprint, rows ({base, feedback, skipped, total}), feedback_by_version,
 *            mispredicted, classes
 */
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { ModelautoError } from '../../../core/errors.js';
import { fingerprintDataset } from '../../../data/fingerprint.js';
import { loadIdx } from '../../../data/idx.js';
import { DataSpecSchema, SplitSpecSchema, type DataSpec } from '../../../data/spec.js';
import { DurationSchema } from '../../../monitor/alerts/duration.js';
import { openPredictionLog } from '../../../store/prediction-log-open.js';
import { ModelNameSchema } from '../../../store/registry.js';
import type { JsonValue } from '../../../store/types.js';
import { collectFreshData } from '../../automation/feedback-data.js';
import { formatIssues } from '../zod.js';
import { pipelineTags } from './common.js';
import { defineStep } from './types.js';

export const FeedbackDataStepInputSchema = z.strictObject({
  model: ModelNameSchema,
  /** The training data: a `data:` section of an image data set (relative paths: the pipeline file's). */
  base: z.record(z.string(), z.unknown()),
  feedback: z
    .strictObject({
      /** The most recent labelled rows taken at most. */
      limit: z.int().positive().max(1_000_000).default(10_000),
      /** Wait until at least this many labelled rows are there. */
      minRows: z.int().nonnegative().default(0),
      timeout: DurationSchema.default(60_000),
      /** Only rows predicted within this long before now; null: no age limit. */
      recent: DurationSchema.nullable().default(null),
    })
    .prefault({}),
  split: SplitSpecSchema.prefault({ validation: 0.1, test: 0.2, seed: 1 }),
});
export type FeedbackDataStepInput = z.infer<typeof FeedbackDataStepInputSchema>;

function baseSpec(input: FeedbackDataStepInput, baseDir: string): DataSpec {
  const parsed = DataSpecSchema.safeParse(input.base);
  if (!parsed.success) throw new ModelautoError('INVALID_SPEC', formatIssues(parsed.error, 'with.base'));
  const spec = parsed.data;
  if ('idx' in spec) {
    const at = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
    return { ...spec, idx: { images: at(spec.idx.images), labels: at(spec.idx.labels) } };
  }
  if (!('source' in spec)) {
    throw new ModelautoError(
      'INVALID_SPEC',
      'with.base: expected image data (a built-in image set such as mnist, or idx files); feedback rows are written as IDX',
    );
  }
  return spec;
}

export const feedbackDataStep = defineStep<FeedbackDataStepInput>({
  uses: 'feedback-data',
  summary: 'training data plus the labelled feedback rows from the prediction log, as fresh data',
  schema: FeedbackDataStepInputSchema,
  outputs: ['run_id', 'spec', 'fingerprint', 'rows', 'feedback_by_version', 'mispredicted', 'classes'],
  placement: 'task',
  // The prediction log changes under it: every run reads it again.
  cacheable: false,
  check(input, ctx) {
    baseSpec(input, ctx.baseDir);
  },
  async run(input, ctx) {
    const base = baseSpec(input, ctx.baseDir);
    const { tracking } = ctx.stores;
    const run = await tracking.createRun({
      name: `${input.model}-fresh-data`,
      kind: 'data',
      params: {
        model: input.model,
        base: JSON.parse(JSON.stringify(base)) as JsonValue,
        feedback: JSON.parse(JSON.stringify(input.feedback)) as JsonValue,
        split: input.split,
      },
      tags: pipelineTags(ctx),
    });
    const log = await openPredictionLog(ctx.stores.uri);
    try {
      const fresh = await collectFreshData({
        model: input.model,
        base,
        baseDir: ctx.baseDir,
        feedback: {
          limit: input.feedback.limit,
          minRows: input.feedback.minRows,
          timeoutMs: input.feedback.timeout,
          recentMs: input.feedback.recent,
        },
        split: input.split,
        outDir: join(await tracking.runDir(run.id), 'fresh'),
        predictionLog: log,
        signal: ctx.signal,
        log: ctx.log,
      });
      const dataset = await loadIdx(fresh.files.images, fresh.files.labels, { name: `${input.model}-fresh` });
      const fingerprint = fingerprintDataset(dataset);
      await tracking.logMetrics(run.id, [
        { key: 'rows_base', value: fresh.rows.base, step: 0 },
        { key: 'rows_feedback', value: fresh.rows.feedback, step: 0 },
        { key: 'rows_feedback_mispredicted', value: fresh.feedbackMispredicted, step: 0 },
        { key: 'rows_skipped', value: fresh.rows.skipped, step: 0 },
      ]);
      await tracking.finishRun(run.id, 'finished');
      return {
        outputs: {
          run_id: run.id,
          spec: JSON.parse(JSON.stringify(fresh.spec)) as JsonValue,
          fingerprint,
          rows: fresh.rows,
          feedback_by_version: fresh.feedbackByVersion,
          mispredicted: fresh.feedbackMispredicted,
          classes: dataset.target.kind === 'classification' ? dataset.target.classes : null,
        },
      };
    } catch (e) {
      const err = e as Error;
      await tracking
        .finishRun(run.id, ctx.signal.aborted ? 'interrupted' : 'failed', err.message)
        .catch(() => undefined);
      throw e;
    } finally {
      await log.close();
    }
  },
});
