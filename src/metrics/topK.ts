import { z } from 'zod';
import { LabelKindGuard, indexOfLabels, uniqueSorted, type Label } from './labels.js';
import { multiclassLabels } from './roc.js';
import { labelsSchema, onWarningSchema, sampleWeightSchema } from './schemas.js';
import {
  checkNonEmpty,
  checkSampleWeight,
  checkSameLength,
  checkScores,
  invalidArgument,
  parseOptions,
  weightedMean,
  weightedSum,
} from './validate.js';
import { emitMetricWarning } from './warnings.js';

export const topKAccuracyOptionsSchema = z
  .object({
    /** How many of the highest-scored classes count as a hit. Default 2. */
    k: z
      .number()
      .int({ error: 'k must be an integer >= 1' })
      .min(1, { error: 'k must be an integer >= 1' })
      .optional(),
    /** All class labels, sorted; yScore columns follow them. Default: sorted labels of yTrue. */
    labels: labelsSchema.optional(),
    /** true (default): fraction of hits; false: their number (or total weight). */
    normalize: z.boolean({ error: 'normalize must be true or false' }).optional(),
    sampleWeight: sampleWeightSchema.optional(),
    onWarning: onWarningSchema.optional(),
  })
  .strict();
export type TopKAccuracyOptions = z.input<typeof topKAccuracyOptionsSchema>;

/**
 * Fraction of samples whose true label is among the k highest scores. Ties rank the later column first
 * (scikit-learn's reversed stable argsort). Binary targets take 1-D scores of the greater label.
 */
export function topKAccuracyScore(
  yTrue: readonly Label[],
  yScore: readonly number[] | readonly (readonly number[])[],
  options?: TopKAccuracyOptions,
): number {
  const fn = 'topKAccuracyScore';
  const opts = parseOptions(fn, topKAccuracyOptionsSchema, options);
  const k = opts.k ?? 2;
  const guard = new LabelKindGuard(fn);
  guard.array('yTrue', yTrue);
  checkNonEmpty(fn, 'yTrue', yTrue);
  const scores = checkScores(fn, 'yScore', yScore);
  checkSameLength(fn, ['yTrue', yTrue], ['yScore', yScore]);
  const weights = checkSampleWeight(fn, opts.sampleWeight, yTrue.length);
  const present = uniqueSorted(yTrue);
  const binary = present.length <= 2 && !(opts.labels !== undefined && opts.labels.length > 2);

  let values1d: readonly number[] | undefined;
  if (binary) {
    if (scores.kind === '2d' && scores.columns !== 1) {
      throw invalidArgument(
        fn,
        'yScore',
        `yTrue is binary while yScore is 2-D with ${scores.columns} classes; ` +
          'if yTrue does not contain all the labels, the labels option must be provided',
      );
    }
    values1d = scores.kind === '1d' ? scores.values : scores.rows.map((r) => r[0] as number);
  }
  const columns = scores.kind === '2d' && !binary ? scores.columns : 2;
  const classes = multiclassLabels(fn, guard, opts.labels, present, columns);
  if (k >= classes.length) {
    emitMetricWarning(
      opts.onWarning,
      `'k' (${k}) greater than or equal to 'n_classes' (${classes.length}) will result in a perfect score and is therefore meaningless`,
    );
  }
  const index = indexOfLabels(classes);
  const encoded = yTrue.map((y) => index.get(y) as number);
  let hits: number[];
  if (values1d !== undefined) {
    if (k === 1) {
      const lo = values1d.reduce((a, b) => Math.min(a, b), Infinity);
      const hi = values1d.reduce((a, b) => Math.max(a, b), -Infinity);
      const threshold = lo >= 0 && hi <= 1 ? 0.5 : 0;
      hits = values1d.map((s, i) => ((s > threshold ? 1 : 0) === encoded[i] ? 1 : 0));
    } else {
      hits = encoded.map(() => 1);
    }
  } else {
    if (scores.kind !== '2d') {
      throw invalidArgument(
        fn,
        'yScore',
        'multiclass targets need a samples x classes matrix of scores, got 1-D scores',
      );
    }
    hits = scores.rows.map((row, i) => {
      const t = encoded[i] as number;
      const st = row[t] as number;
      let ahead = 0;
      row.forEach((s, j) => {
        if (s > st || (s === st && j > t)) ahead++;
      });
      return ahead < k ? 1 : 0;
    });
  }
  return opts.normalize === false ? weightedSum(hits, weights) : weightedMean(fn, hits, weights);
}
