import { z } from 'zod';
import { checkLabelsOption, formatLabel, formatLabelList, indexOfLabels, type Label } from './labels.js';
import {
  labelSchema,
  labelsSchema,
  onWarningSchema,
  sampleWeightSchema,
  zeroDivisionSchema,
} from './schemas.js';
import type { ZeroDivision } from './schemas.js';
import { checkTargets } from './targets.js';
import { checkSampleWeight, invalidArgument, parseOptions } from './validate.js';
import { emitMetricWarning, type WarningHandler } from './warnings.js';

export const AVERAGES = ['binary', 'micro', 'macro', 'weighted'] as const;
export type Average = (typeof AVERAGES)[number];

const betaSchema = z.custom<number>((v) => typeof v === 'number' && v >= 0, {
  error: 'beta should be >= 0 in the F-beta score (Infinity gives recall)',
});

export const prfOptionsSchema = z
  .object({
    /** Weight of recall in the F-score. Default 1. */
    beta: betaSchema.optional(),
    /** The label set and its order; labels absent from the data still count in macro averages. */
    labels: labelsSchema.optional(),
    /** Positive class when average is 'binary'. Default 1. */
    posLabel: labelSchema.optional(),
    /** 'binary' | 'micro' | 'macro' | 'weighted', or null for per-class arrays. */
    average: z
      .enum(AVERAGES, { error: "average must be one of 'binary', 'micro', 'macro', 'weighted', null" })
      .nullable()
      .optional(),
    /** Value of an ill-defined ratio: 'warn' (0 and a warning, the default), 0, 1 or NaN (left out of averages). */
    zeroDivision: zeroDivisionSchema.optional(),
    sampleWeight: sampleWeightSchema.optional(),
    onWarning: onWarningSchema.optional(),
  })
  .strict();

export type PrfOptions = z.input<typeof prfOptionsSchema>;
/** Options whose average is a string (or absent) give single numbers. */
export type PrfAveragedOptions = PrfOptions & { average?: Average };
/** Options with average null give one value per label. */
export type PrfPerClassOptions = PrfOptions & { average: null };

export interface PrfAveraged {
  precision: number;
  recall: number;
  fScore: number;
  support: null;
}

export interface PrfPerClass {
  labels: Label[];
  precision: number[];
  recall: number[];
  fScore: number[];
  /** Number (or total sample weight) of true samples per label. */
  support: number[];
}

type Metric = 'precision' | 'recall' | 'f-score';

interface Counts {
  labels: Label[];
  tp: number[];
  pred: number[];
  true: number[];
}

/** Per-label true positives, predicted and true totals over the selected labels (multilabel_confusion_matrix). */
function countLabels(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  labels: Label[],
  sampleWeight: readonly number[] | undefined,
): Counts {
  const index = indexOfLabels(labels);
  const tp = new Array<number>(labels.length).fill(0);
  const pred = new Array<number>(labels.length).fill(0);
  const truth = new Array<number>(labels.length).fill(0);
  for (let i = 0; i < yTrue.length; i++) {
    const w = sampleWeight === undefined ? 1 : (sampleWeight[i] as number);
    const t = index.get(yTrue[i] as Label);
    const p = index.get(yPred[i] as Label);
    if (t !== undefined) truth[t] = (truth[t] as number) + w;
    if (p !== undefined) pred[p] = (pred[p] as number) + w;
    if (t !== undefined && t === p) tp[t] = (tp[t] as number) + w;
  }
  return { labels, tp, pred, true: truth };
}

function zeroDivisionValue(zeroDivision: ZeroDivision): number {
  return zeroDivision === 'warn' ? 0 : zeroDivision;
}

interface DivideContext {
  zeroDivision: ZeroDivision;
  warnFor: ReadonlySet<Metric>;
  onWarning: WarningHandler | undefined;
}

/** scikit-learn's _prf_divide: ill-defined entries take the zeroDivision value, with a warning for 'warn'. */
function divide(
  numerator: number[],
  denominator: number[],
  metric: Metric,
  modifier: string,
  ctx: DivideContext,
): number[] {
  let anyZero = false;
  const out = numerator.map((n, i) => {
    const d = denominator[i] as number;
    if (d === 0) {
      anyZero = true;
      return zeroDivisionValue(ctx.zeroDivision);
    }
    return n / d;
  });
  if (anyZero && ctx.zeroDivision === 'warn' && ctx.warnFor.has(metric)) {
    const title = metric === 'precision' ? 'Precision' : 'Recall';
    const start = ctx.warnFor.has('f-score') ? `${title} and F-score are` : `${title} is`;
    warnIllDefined(ctx.onWarning, start, modifier, out.length);
  }
  return out;
}

function warnIllDefined(
  onWarning: WarningHandler | undefined,
  start: string,
  modifier: string,
  size: number,
): void {
  const where = size === 1 ? 'due to' : 'in labels with';
  emitMetricWarning(
    onWarning,
    `${start} ill-defined and being set to 0.0 ${where} no ${modifier} samples. ` +
      'Use the `zeroDivision` option to control this behavior.',
  );
}

/** Mean leaving NaN out (scikit-learn >= 1.3 _nanaverage); NaN only when every value is NaN. */
function nanAverage(values: number[], weights?: number[]): number {
  const kept: number[] = [];
  const keptWeights: number[] = [];
  values.forEach((v, i) => {
    if (!Number.isNaN(v)) {
      kept.push(v);
      if (weights) keptWeights.push(weights[i] as number);
    }
  });
  if (kept.length === 0) return NaN;
  const plainMean = (): number => kept.reduce((a, b) => a + b, 0) / kept.length;
  if (!weights) return plainMean();
  const total = keptWeights.reduce((a, b) => a + b, 0);
  if (total === 0) return plainMean();
  return kept.reduce((acc, v, i) => acc + v * (keptWeights[i] as number), 0) / total;
}

function fScores(
  counts: Counts,
  precision: number[],
  recall: number[],
  beta: number,
  ctx: DivideContext,
): number[] {
  if (beta === Infinity) return recall;
  if (beta === 0) {
    // The installed scikit-learn (1.2) computes p*r/r and sets it to 0 when recall is 0; its NaN
    // zero_division (>= 1.3) returns precision unchanged, and NaN must survive here.
    return precision.map((p, i) =>
      recall[i] === 0 && !Number.isNaN(zeroDivisionValue(ctx.zeroDivision)) ? 0 : p,
    );
  }
  // (1 + b^2) tp / ((1 + b^2) tp + b^2 fn + fp): equal to the precision/recall form wherever both are defined,
  // and ill-defined only when the label is absent from both y_true and y_pred.
  const b2 = beta * beta;
  const numerator = counts.tp.map((tp) => (1 + b2) * tp);
  const denominator = counts.true.map((t, i) => b2 * t + (counts.pred[i] as number));
  return divide(numerator, denominator, 'f-score', 'true nor predicted', { ...ctx, warnFor: new Set() });
}

/** Shared core of precision/recall/F-scores; `warnFor` picks which ill-defined ratios warn (as scikit-learn). */
export function computePrf(
  fn: string,
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options: PrfOptions | undefined,
  defaultAverage: Average | null,
  warnFor: ReadonlySet<Metric>,
): PrfAveraged | PrfPerClass {
  const opts = parseOptions(fn, prfOptionsSchema, options);
  const targets = checkTargets(fn, yTrue, yPred);
  const sampleWeight = checkSampleWeight(fn, opts.sampleWeight, yTrue.length);
  const average = opts.average === undefined ? defaultAverage : opts.average;
  const beta = opts.beta ?? 1;
  const zeroDivision = opts.zeroDivision ?? 'warn';
  const posLabel = opts.posLabel === undefined ? 1 : targets.guard.one('options.posLabel', opts.posLabel);
  let labels = opts.labels === undefined ? undefined : [...checkLabelsOption(fn, targets.guard, opts.labels)];

  if (average === 'binary') {
    if (targets.type !== 'binary') {
      throw invalidArgument(
        fn,
        'options.average',
        "target is multiclass but average is 'binary'; choose another average, one of 'micro', 'macro', 'weighted', null",
      );
    }
    if (!targets.present.includes(posLabel) && targets.present.length >= 2) {
      throw invalidArgument(
        fn,
        'options.posLabel',
        `posLabel=${formatLabel(posLabel)} is not a valid label: it should be one of ${formatLabelList(targets.present)}`,
      );
    }
    labels = [posLabel];
  } else if (opts.posLabel !== undefined && opts.posLabel !== 1) {
    emitMetricWarning(
      opts.onWarning,
      `posLabel (set to ${formatLabel(opts.posLabel)}) is ignored when average is not 'binary' ` +
        `(got ${average === null ? 'null' : `'${average}'`}); use labels: [posLabel] to score a single class`,
    );
  }

  let counts = countLabels(yTrue, yPred, labels ?? targets.present, sampleWeight);
  if (average === 'micro') {
    const sum = (a: number[]): number[] => [a.reduce((x, y) => x + y, 0)];
    counts = { labels: counts.labels, tp: sum(counts.tp), pred: sum(counts.pred), true: sum(counts.true) };
  }
  const ctx: DivideContext = { zeroDivision, warnFor, onWarning: opts.onWarning };
  const precision = divide(counts.tp, counts.pred, 'precision', 'predicted', ctx);
  const recall = divide(counts.tp, counts.true, 'recall', 'true', ctx);
  if (zeroDivision === 'warn' && warnFor.size === 1 && warnFor.has('f-score')) {
    if (counts.true.some((t, i) => t === 0 && counts.pred[i] === 0)) {
      warnIllDefined(opts.onWarning, 'F-score is', 'true nor predicted', counts.true.length);
    }
  }
  const fScore = fScores(counts, precision, recall, beta, ctx);

  if (average === null) {
    return { labels: counts.labels, precision, recall, fScore, support: counts.true };
  }
  if (average === 'weighted') {
    const totalTrue = counts.true.reduce((a, b) => a + b, 0);
    if (totalTrue === 0) {
      // No true samples of any selected label: scikit-learn 1.2 answers from zeroDivision directly.
      const z = zeroDivisionValue(zeroDivision);
      const anyPredicted = counts.pred.reduce((a, b) => a + b, 0) !== 0;
      return anyPredicted
        ? { precision: 0, recall: z, fScore: 0, support: null }
        : { precision: z, recall: z, fScore: z, support: null };
    }
    return {
      precision: nanAverage(precision, counts.true),
      recall: nanAverage(recall, counts.true),
      fScore: nanAverage(fScore, counts.true),
      support: null,
    };
  }
  return {
    precision: nanAverage(precision),
    recall: nanAverage(recall),
    fScore: nanAverage(fScore),
    support: null,
  };
}

const ALL_METRICS: ReadonlySet<Metric> = new Set(['precision', 'recall', 'f-score']);

/**
 * Precision, recall, F-beta and support, like scikit-learn's precision_recall_fscore_support.
 * As there, the default average is null (per-label arrays), unlike precisionScore & co. whose default is 'binary'.
 */
export function precisionRecallFscoreSupport(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: PrfOptions & { average?: null },
): PrfPerClass;
export function precisionRecallFscoreSupport(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options: PrfOptions & { average: Average },
): PrfAveraged;
export function precisionRecallFscoreSupport(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: PrfOptions,
): PrfAveraged | PrfPerClass;
export function precisionRecallFscoreSupport(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: PrfOptions,
): PrfAveraged | PrfPerClass {
  return computePrf('precisionRecallFscoreSupport', yTrue, yPred, options, null, ALL_METRICS);
}

type Pick1 = 'precision' | 'recall' | 'fScore';

function single(
  fn: string,
  pick: Pick1,
  warnFor: Metric,
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options: PrfOptions | undefined,
): number | number[] {
  const result = computePrf(fn, yTrue, yPred, options, 'binary', new Set([warnFor]));
  return result[pick];
}

/** Precision tp / (tp + fp); default average 'binary' with posLabel 1. */
export function precisionScore(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options: PrfPerClassOptions,
): number[];
export function precisionScore(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: PrfAveragedOptions,
): number;
export function precisionScore(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: PrfOptions,
): number | number[];
export function precisionScore(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: PrfOptions,
): number | number[] {
  return single('precisionScore', 'precision', 'precision', yTrue, yPred, options);
}

/** Recall tp / (tp + fn); default average 'binary' with posLabel 1. */
export function recallScore(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options: PrfPerClassOptions,
): number[];
export function recallScore(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: PrfAveragedOptions,
): number;
export function recallScore(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: PrfOptions,
): number | number[];
export function recallScore(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: PrfOptions,
): number | number[] {
  return single('recallScore', 'recall', 'recall', yTrue, yPred, options);
}

/** F-beta score; `beta` defaults to 1. Default average 'binary' with posLabel 1. */
export function fbetaScore(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options: PrfPerClassOptions,
): number[];
export function fbetaScore(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: PrfAveragedOptions,
): number;
export function fbetaScore(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: PrfOptions,
): number | number[];
export function fbetaScore(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: PrfOptions,
): number | number[] {
  return single('fbetaScore', 'fScore', 'f-score', yTrue, yPred, options);
}

export type F1Options = Omit<PrfOptions, 'beta'>;

/** F1 = harmonic mean of precision and recall; default average 'binary' with posLabel 1. */
export function f1Score(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options: F1Options & { average: null },
): number[];
export function f1Score(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: F1Options & { average?: Average },
): number;
export function f1Score(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: F1Options,
): number | number[];
export function f1Score(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options?: F1Options,
): number | number[] {
  if (options && 'beta' in options) {
    throw invalidArgument('f1Score', 'options.beta', 'f1Score has no beta option; use fbetaScore');
  }
  return single('f1Score', 'fScore', 'f-score', yTrue, yPred, options);
}
