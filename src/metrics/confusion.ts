import { z } from 'zod';
import { checkLabelsOption, indexOfLabels, type Label } from './labels.js';
import { labelsSchema, sampleWeightSchema } from './schemas.js';
import { checkTargets } from './targets.js';
import { checkSampleWeight, invalidArgument, parseOptions } from './validate.js';

export const confusionMatrixOptionsSchema = z
  .object({
    /** Row/column labels and their order. Default: sorted union of yTrue and yPred. Samples with other labels are left out. */
    labels: labelsSchema.optional(),
    sampleWeight: sampleWeightSchema.optional(),
    /** Divide by row sums ('true'), column sums ('pred') or the total ('all'); 0/0 gives 0. Default: counts. */
    normalize: z
      .enum(['true', 'pred', 'all'], { error: "normalize must be one of 'true', 'pred', 'all' (or omitted)" })
      .optional(),
  })
  .strict();

export type ConfusionMatrixOptions = z.input<typeof confusionMatrixOptionsSchema>;

/** C[i][j] = number (or weight) of samples with true label i predicted as label j. */
export function confusionMatrix(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: ConfusionMatrixOptions,
): number[][] {
  const fn = 'confusionMatrix';
  const opts = parseOptions(fn, confusionMatrixOptionsSchema, options);
  const targets = checkTargets(fn, yTrue, yPred);
  const sampleWeight = checkSampleWeight(fn, opts.sampleWeight, yTrue.length);
  let labels: readonly Label[] = targets.present;
  if (opts.labels !== undefined) {
    labels = checkLabelsOption(fn, targets.guard, opts.labels);
    const inTrue = new Set(yTrue);
    if (!labels.some((l) => inTrue.has(l))) {
      throw invalidArgument(fn, 'options.labels', 'at least one label specified must be in yTrue');
    }
  }
  const n = labels.length;
  const index = indexOfLabels(labels);
  const cm = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let s = 0; s < yTrue.length; s++) {
    const i = index.get(yTrue[s] as Label);
    const j = index.get(yPred[s] as Label);
    if (i === undefined || j === undefined) continue;
    const row = cm[i] as number[];
    row[j] = (row[j] as number) + (sampleWeight === undefined ? 1 : (sampleWeight[s] as number));
  }
  if (opts.normalize === undefined) return cm;
  return normalizeMatrix(cm, opts.normalize);
}

function normalizeMatrix(cm: number[][], how: 'true' | 'pred' | 'all'): number[][] {
  const n = cm.length;
  const rowSums = cm.map((row) => row.reduce((a, b) => a + b, 0));
  const colSums = Array.from({ length: n }, (_, j) => cm.reduce((a, row) => a + (row[j] as number), 0));
  const total = rowSums.reduce((a, b) => a + b, 0);
  // numpy divides and then nan_to_num: 0/0 becomes 0.
  const safe = (x: number, d: number): number =>
    d === 0 ? (x === 0 ? 0 : x > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE) : x / d;
  return cm.map((row, i) =>
    row.map((v, j) =>
      safe(v, how === 'true' ? (rowSums[i] as number) : how === 'pred' ? (colSums[j] as number) : total),
    ),
  );
}
