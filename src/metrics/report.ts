import { z } from 'zod';
import { checkLabelsOption, labelName, type Label } from './labels.js';
import { computePrf, type Average, type PrfAveraged, type PrfPerClass } from './prf.js';
import { labelsSchema, onWarningSchema, sampleWeightSchema, zeroDivisionSchema } from './schemas.js';
import { checkTargets } from './targets.js';
import { invalidArgument, parseOptions } from './validate.js';

export const classificationReportOptionsSchema = z
  .object({
    /** Labels to report, in order. Default: sorted union of yTrue and yPred. */
    labels: labelsSchema.optional(),
    /** Display names, one per label. */
    targetNames: z
      .array(z.string({ error: 'target names must be strings' }))
      .readonly()
      .optional(),
    /** Decimal places used by formatClassificationReport. Default 2. */
    digits: z.number().int().min(0, { error: 'digits must be an integer >= 0' }).optional(),
    zeroDivision: zeroDivisionSchema.optional(),
    sampleWeight: sampleWeightSchema.optional(),
    onWarning: onWarningSchema.optional(),
  })
  .strict();
export type ClassificationReportOptions = z.input<typeof classificationReportOptionsSchema>;

export interface ReportRow {
  precision: number;
  recall: number;
  f1Score: number;
  /** Number of true samples (total sample weight when weights were given). */
  support: number;
}

export interface ReportClassRow extends ReportRow {
  label: Label;
  name: string;
}

/** scikit-learn's classification_report(output_dict=True) as a typed object. */
export interface ClassificationReport {
  classes: ReportClassRow[];
  /** Present when the report covers every label seen: micro-averaged scores then all equal accuracy. */
  accuracy?: number;
  /** Present instead of `accuracy` when `labels` selects a different label set. */
  microAvg?: ReportRow;
  macroAvg: ReportRow;
  weightedAvg: ReportRow;
  /** Decimal places for formatting. */
  digits: number;
  /**
   * Print supports as floats ("12.0"), as scikit-learn does when sample weights are given, and also (a numpy
   * dtype artefact kept for identical text) when no sample at all is predicted correctly.
   */
  supportAsFloat: boolean;
}

/** Per-label precision, recall, F1 and support plus micro (or accuracy), macro and weighted averages. */
export function classificationReport(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: ClassificationReportOptions,
): ClassificationReport {
  const fn = 'classificationReport';
  const opts = parseOptions(fn, classificationReportOptionsSchema, options);
  const targets = checkTargets(fn, yTrue, yPred);
  const labels =
    opts.labels === undefined ? targets.present : [...checkLabelsOption(fn, targets.guard, opts.labels)];
  const labelsGiven = opts.labels !== undefined;
  const presentSet = new Set(targets.present);
  const microIsAccuracy =
    !labelsGiven || (new Set(labels).size === presentSet.size && labels.every((l) => presentSet.has(l)));
  if (opts.targetNames !== undefined && opts.targetNames.length !== labels.length) {
    // scikit-learn only warns (and drops rows) when labels are given; a silent mismatch is refused here.
    throw invalidArgument(
      fn,
      'options.targetNames',
      `number of classes, ${labels.length}, does not match size of targetNames, ${opts.targetNames.length}` +
        (labelsGiven ? '' : '; try specifying the labels option'),
    );
  }
  const names = opts.targetNames ?? labels.map(labelName);
  const prfOptions = {
    labels,
    ...(opts.sampleWeight ? { sampleWeight: opts.sampleWeight } : {}),
    ...(opts.zeroDivision !== undefined ? { zeroDivision: opts.zeroDivision } : {}),
    ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
  };
  const all = new Set(['precision', 'recall', 'f-score'] as const);
  const perClass = computePrf(fn, yTrue, yPred, { ...prfOptions, average: null }, null, all) as PrfPerClass;
  const totalSupport = perClass.support.reduce((a, b) => a + b, 0);
  const averaged = (average: Average): ReportRow => {
    const r = computePrf(fn, yTrue, yPred, { ...prfOptions, average }, null, all) as PrfAveraged;
    return { precision: r.precision, recall: r.recall, f1Score: r.fScore, support: totalSupport };
  };
  const micro = averaged('micro');
  return {
    classes: labels.map((label, i) => ({
      label,
      name: names[i] as string,
      precision: perClass.precision[i] as number,
      recall: perClass.recall[i] as number,
      f1Score: perClass.fScore[i] as number,
      support: perClass.support[i] as number,
    })),
    ...(microIsAccuracy ? { accuracy: micro.precision } : { microAvg: micro }),
    macroAvg: averaged('macro'),
    weightedAvg: averaged('weighted'),
    digits: opts.digits ?? 2,
    supportAsFloat: opts.sampleWeight !== undefined || yTrue.every((y, i) => y !== yPred[i]),
  };
}
