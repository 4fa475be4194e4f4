import { z } from 'zod';
import { onWarningSchema, sampleWeightSchema } from './schemas.js';
import {
  checkNonEmpty,
  checkNumberArray,
  checkSampleWeight,
  checkSameLength,
  parseOptions,
  weightedMean,
} from './validate.js';
import { emitMetricWarning } from './warnings.js';

export const regressionOptionsSchema = z.object({ sampleWeight: sampleWeightSchema.optional() }).strict();
export type RegressionOptions = z.input<typeof regressionOptionsSchema>;

function regressionInputs(
  fn: string,
  yTrue: readonly number[],
  yPred: readonly number[],
  sampleWeight: readonly number[] | undefined,
): readonly number[] | undefined {
  checkNumberArray(fn, 'yTrue', yTrue);
  checkNumberArray(fn, 'yPred', yPred);
  checkSameLength(fn, ['yTrue', yTrue], ['yPred', yPred]);
  checkNonEmpty(fn, 'yTrue', yTrue);
  return checkSampleWeight(fn, sampleWeight, yTrue.length);
}

/** Mean of |yTrue - yPred| (weighted mean when sampleWeight is given). */
export function meanAbsoluteError(
  yTrue: readonly number[],
  yPred: readonly number[],
  options?: RegressionOptions,
): number {
  const fn = 'meanAbsoluteError';
  const opts = parseOptions(fn, regressionOptionsSchema, options);
  const w = regressionInputs(fn, yTrue, yPred, opts.sampleWeight);
  return weightedMean(
    fn,
    yTrue.map((t, i) => Math.abs((yPred[i] as number) - t)),
    w,
  );
}

/** Mean of (yTrue - yPred)^2 (weighted mean when sampleWeight is given). */
export function meanSquaredError(
  yTrue: readonly number[],
  yPred: readonly number[],
  options?: RegressionOptions,
): number {
  const fn = 'meanSquaredError';
  const opts = parseOptions(fn, regressionOptionsSchema, options);
  const w = regressionInputs(fn, yTrue, yPred, opts.sampleWeight);
  return weightedMean(
    fn,
    yTrue.map((t, i) => (t - (yPred[i] as number)) ** 2),
    w,
  );
}

/** Square root of meanSquaredError (scikit-learn's mean_squared_error(squared=False)). */
export function rootMeanSquaredError(
  yTrue: readonly number[],
  yPred: readonly number[],
  options?: RegressionOptions,
): number {
  const fn = 'rootMeanSquaredError';
  const opts = parseOptions(fn, regressionOptionsSchema, options);
  const w = regressionInputs(fn, yTrue, yPred, opts.sampleWeight);
  return Math.sqrt(
    weightedMean(
      fn,
      yTrue.map((t, i) => (t - (yPred[i] as number)) ** 2),
      w,
    ),
  );
}

export const r2OptionsSchema = z
  .object({
    sampleWeight: sampleWeightSchema.optional(),
    /**
     * Default true: constant yTrue gives 1 for perfect predictions and 0 otherwise instead of NaN / -Infinity.
     */
    forceFinite: z.boolean({ error: 'forceFinite must be true or false' }).optional(),
    onWarning: onWarningSchema.optional(),
  })
  .strict();
export type R2Options = z.input<typeof r2OptionsSchema>;

/** Coefficient of determination 1 - SS_res / SS_tot. Fewer than two samples: NaN with a warning. */
export function r2Score(yTrue: readonly number[], yPred: readonly number[], options?: R2Options): number {
  const fn = 'r2Score';
  const opts = parseOptions(fn, r2OptionsSchema, options);
  const w = regressionInputs(fn, yTrue, yPred, opts.sampleWeight);
  if (yTrue.length < 2) {
    emitMetricWarning(opts.onWarning, 'R^2 score is not well-defined with less than two samples.');
    return NaN;
  }
  const weight = (i: number): number => (w === undefined ? 1 : (w[i] as number));
  const mean = weightedMean(fn, yTrue, w);
  let numerator = 0;
  let denominator = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] as number;
    numerator += weight(i) * (t - (yPred[i] as number)) ** 2;
    denominator += weight(i) * (t - mean) ** 2;
  }
  if (opts.forceFinite === false) return 1 - numerator / denominator;
  if (numerator === 0) return 1;
  if (denominator === 0) return 0;
  return 1 - numerator / denominator;
}
