import { z } from 'zod';
import type { Label } from './labels.js';
import { confusionMatrix } from './confusion.js';
import { onWarningSchema, sampleWeightSchema } from './schemas.js';
import { checkTargets } from './targets.js';
import { checkSampleWeight, parseOptions, weightedMean, weightedSum } from './validate.js';
import { emitMetricWarning } from './warnings.js';

export const accuracyOptionsSchema = z
  .object({
    /** true (default): fraction of correct samples; false: their number (or total weight). */
    normalize: z.boolean({ error: 'normalize must be true or false' }).optional(),
    sampleWeight: sampleWeightSchema.optional(),
  })
  .strict();
export type AccuracyOptions = z.input<typeof accuracyOptionsSchema>;

/** Fraction (or count) of samples whose predicted label equals the true label. */
export function accuracyScore(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: AccuracyOptions,
): number {
  const fn = 'accuracyScore';
  const opts = parseOptions(fn, accuracyOptionsSchema, options);
  checkTargets(fn, yTrue, yPred);
  const sampleWeight = checkSampleWeight(fn, opts.sampleWeight, yTrue.length);
  const hits = yTrue.map((t, i) => (t === yPred[i] ? 1 : 0));
  return opts.normalize === false ? weightedSum(hits, sampleWeight) : weightedMean(fn, hits, sampleWeight);
}

export const balancedAccuracyOptionsSchema = z
  .object({
    /** Rescale so that chance scores 0 and perfect scores 1. Default false. */
    adjusted: z.boolean({ error: 'adjusted must be true or false' }).optional(),
    sampleWeight: sampleWeightSchema.optional(),
    onWarning: onWarningSchema.optional(),
  })
  .strict();
export type BalancedAccuracyOptions = z.input<typeof balancedAccuracyOptionsSchema>;

/** Mean recall over the classes present in yTrue (classes only predicted are left out, with a warning). */
export function balancedAccuracyScore(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: BalancedAccuracyOptions,
): number {
  const fn = 'balancedAccuracyScore';
  const opts = parseOptions(fn, balancedAccuracyOptionsSchema, options);
  checkTargets(fn, yTrue, yPred);
  checkSampleWeight(fn, opts.sampleWeight, yTrue.length);
  const cm = confusionMatrix(yTrue, yPred, opts.sampleWeight ? { sampleWeight: opts.sampleWeight } : {});
  const perClass: number[] = [];
  cm.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    if (total !== 0) perClass.push((row[i] as number) / total);
  });
  if (perClass.length < cm.length) emitMetricWarning(opts.onWarning, 'yPred contains classes not in yTrue');
  let score = perClass.reduce((a, b) => a + b, 0) / perClass.length;
  if (opts.adjusted) {
    const chance = 1 / perClass.length;
    score = (score - chance) / (1 - chance);
  }
  return score;
}
