import { z } from 'zod';
import {
  LabelKindGuard,
  formatLabel,
  formatLabelList,
  indexOfLabels,
  uniqueSorted,
  type Label,
} from './labels.js';
import { labelsSchema, sampleWeightSchema } from './schemas.js';
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

export const logLossOptionsSchema = z
  .object({
    /** All class labels; yProba columns follow their sorted order. Default: sorted labels of yTrue. */
    labels: labelsSchema.optional(),
    sampleWeight: sampleWeightSchema.optional(),
    /** true (default): mean loss per sample; false: the sum. */
    normalize: z.boolean({ error: 'normalize must be true or false' }).optional(),
  })
  .strict();
export type LogLossOptions = z.input<typeof logLossOptionsSchema>;

/** scikit-learn's eps='auto' for float64 probabilities. */
const EPS = Number.EPSILON;

/**
 * Cross-entropy of the true labels under yProba. yProba is samples x classes (columns in sorted label order) or,
 * for two classes, one probability per sample for the greater label. Probabilities are clipped to
 * [eps, 1 - eps] and each row is then divided by its sum, as scikit-learn 1.2 does.
 */
export function logLoss(
  yTrue: readonly Label[],
  yProba: readonly number[] | readonly (readonly number[])[],
  options?: LogLossOptions,
): number {
  const fn = 'logLoss';
  const opts = parseOptions(fn, logLossOptionsSchema, options);
  const guard = new LabelKindGuard(fn);
  guard.array('yTrue', yTrue);
  checkNonEmpty(fn, 'yTrue', yTrue);
  const proba = checkScores(fn, 'yProba', yProba);
  checkSameLength(fn, ['yTrue', yTrue], ['yProba', yProba]);
  const weights = checkSampleWeight(fn, opts.sampleWeight, yTrue.length);
  const classes = uniqueSorted(
    opts.labels === undefined ? yTrue : guard.array('options.labels', opts.labels),
  );
  if (classes.length === 1) {
    throw invalidArgument(
      fn,
      opts.labels === undefined ? 'yTrue' : 'options.labels',
      opts.labels === undefined
        ? `yTrue contains only one label (${formatLabel(classes[0] as Label)}); provide the true labels explicitly through the labels option`
        : `the labels option needs to contain at least two labels for logLoss, got ${formatLabelList(classes)}`,
    );
  }
  const index = indexOfLabels(classes);
  const clip = (p: number): number => Math.min(Math.max(p, EPS), 1 - EPS);
  const columns = proba.kind === '1d' ? 2 : proba.columns === 1 ? 2 : proba.columns;
  if (columns !== classes.length) {
    throw invalidArgument(
      fn,
      'yProba',
      opts.labels === undefined
        ? `yTrue and yProba contain different numbers of classes, ${classes.length} and ${columns}; ` +
            `provide the true labels explicitly through the labels option (classes found in yTrue: ${formatLabelList(classes)})`
        : `the number of classes in labels is different from that in yProba (${columns}); labels: ${formatLabelList(classes)}`,
    );
  }
  const losses = yTrue.map((label, i) => {
    const c = index.get(label);
    if (c === undefined) {
      // scikit-learn silently scores such a row as zero loss; refuse instead.
      throw invalidArgument(
        fn,
        `yTrue[${i}]`,
        `${formatLabel(label)} is not one of the labels ${formatLabelList(classes)}`,
      );
    }
    let row: number[];
    if (proba.kind === '1d') {
      const p = clip(proba.values[i] as number);
      row = [1 - p, p];
    } else {
      const raw = proba.rows[i] as readonly number[];
      row = raw.length === 1 ? [1 - clip(raw[0] as number), clip(raw[0] as number)] : raw.map(clip);
    }
    const sum = row.reduce((a, b) => a + b, 0);
    return -Math.log((row[c] as number) / sum);
  });
  return opts.normalize === false ? weightedSum(losses, weights) : weightedMean(fn, losses, weights);
}
