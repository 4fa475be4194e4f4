import { z } from 'zod';
import { balancedAccuracyScore, accuracyScore } from './accuracy.js';
import { confusionMatrix } from './confusion.js';
import {
  checkLabelsOption,
  formatLabel,
  formatLabelList,
  LabelKindGuard,
  sortLabels,
  type Label,
} from './labels.js';
import { logLoss } from './logLoss.js';
import { precisionRecallFscoreSupport } from './prf.js';
import { meanAbsoluteError, meanSquaredError, r2Score, rootMeanSquaredError } from './regression.js';
import { classificationReport, type ClassificationReport } from './report.js';
import { rocAucScore } from './roc.js';
import { labelSchema, labelsSchema, sampleWeightSchema } from './schemas.js';
import { topKAccuracyScore } from './topK.js';
import { checkNonEmpty, checkSameLength, invalidArgument, parseOptions } from './validate.js';

const evaluateClassifierInputSchema = z
  .object({
    yTrue: z.array(labelSchema).readonly(),
    yPred: z.array(labelSchema).readonly(),
    /** Class probabilities, one row per sample, columns in the order of `classes`. */
    yProba: z
      .array(z.array(z.number({ error: 'probabilities must be finite numbers' })).readonly())
      .readonly()
      .optional(),
    /** Every class the model knows, in the order of the yProba columns. */
    classes: labelsSchema,
  })
  .strict();
export type EvaluateClassifierInput = z.input<typeof evaluateClassifierInputSchema>;

export interface AveragedScores {
  macro: number;
  weighted: number;
}

/** JSON-friendly summary of a classifier's predictions. */
export interface ClassifierEvaluation {
  nSamples: number;
  classes: Label[];
  accuracy: number;
  balancedAccuracy: number;
  precision: AveragedScores;
  recall: AveragedScores;
  f1: AveragedScores;
  /** Rows: true class, columns: predicted class, both in the order of `classes`. */
  confusionMatrix: number[][];
  report: ClassificationReport;
  logLoss?: number;
  rocAuc?: number;
  /** 'binary' (two classes) or 'ovr-macro' (one-vs-rest, macro average). */
  rocAucMethod?: 'binary' | 'ovr-macro';
  /** Why rocAuc (or all probability metrics) is missing although yProba was given. */
  rocAucOmitted?: string;
  top2Accuracy?: number;
  top5Accuracy?: number;
  /** Ill-defined scores met on the way (set to 0), as scikit-learn's warnings. */
  warnings: string[];
}

/**
 * Accuracy, balanced accuracy, macro/weighted precision, recall and F1, the confusion matrix and the report over
 * `classes`; with yProba also log loss, ROC AUC and top-2/top-5 accuracy (when k < number of classes).
 */
export function evaluateClassifier(input: EvaluateClassifierInput): ClassifierEvaluation {
  const fn = 'evaluateClassifier';
  const { yTrue, yPred, yProba, classes } = parseOptions(fn, evaluateClassifierInputSchema, input, 'input');
  const guard = new LabelKindGuard(fn);
  checkLabelsOption(fn, guard, classes, 'input.classes');
  guard.array('input.yTrue', yTrue);
  guard.array('input.yPred', yPred);
  checkSameLength(fn, ['input.yTrue', yTrue], ['input.yPred', yPred]);
  checkNonEmpty(fn, 'input.yTrue', yTrue);
  const known = new Set(classes);
  for (const [name, ys] of [
    ['input.yTrue', yTrue],
    ['input.yPred', yPred],
  ] as const) {
    ys.forEach((y, i) => {
      if (!known.has(y)) {
        throw invalidArgument(
          fn,
          `${name}[${i}]`,
          `${formatLabel(y)} is not one of the classes ${formatLabelList(classes)}`,
        );
      }
    });
  }
  const warnings = new Set<string>();
  const onWarning = (m: string): void => void warnings.add(m);
  const labels = [...classes];
  const macro = precisionRecallFscoreSupport(yTrue, yPred, { labels, average: 'macro', onWarning });
  const weighted = precisionRecallFscoreSupport(yTrue, yPred, { labels, average: 'weighted', onWarning });
  const result: ClassifierEvaluation = {
    nSamples: yTrue.length,
    classes: labels,
    accuracy: accuracyScore(yTrue, yPred),
    balancedAccuracy: balancedAccuracyScore(yTrue, yPred, { onWarning }),
    precision: { macro: macro.precision, weighted: weighted.precision },
    recall: { macro: macro.recall, weighted: weighted.recall },
    f1: { macro: macro.fScore, weighted: weighted.fScore },
    confusionMatrix: confusionMatrix(yTrue, yPred, { labels }),
    report: classificationReport(yTrue, yPred, { labels, onWarning }),
    warnings: [],
  };
  if (yProba !== undefined) Object.assign(result, probabilityMetrics(fn, yTrue, yProba, labels, onWarning));
  result.warnings = [...warnings];
  return result;
}

function probabilityMetrics(
  fn: string,
  yTrue: readonly Label[],
  yProba: readonly (readonly number[])[],
  classes: Label[],
  onWarning: (m: string) => void,
): Partial<ClassifierEvaluation> {
  checkSameLength(fn, ['input.yTrue', yTrue], ['input.yProba', yProba]);
  yProba.forEach((row, i) => {
    if (row.length !== classes.length) {
      throw invalidArgument(
        fn,
        `input.yProba[${i}]`,
        `expected ${classes.length} probabilities (one per class), got ${row.length}`,
      );
    }
  });
  if (classes.length < 2) return { rocAucOmitted: 'probability metrics need at least two classes' };
  // The scikit-learn functions read columns in sorted label order; `classes` may be in any order.
  const sorted = sortLabels(classes);
  const order = sorted.map((l) => classes.indexOf(l));
  const proba = yProba.map((row) => order.map((j) => row[j] as number));
  const out: Partial<ClassifierEvaluation> = { logLoss: logLoss(yTrue, proba, { labels: sorted }) };

  const seen = new Set(yTrue);
  const absent = sorted.filter((l) => !seen.has(l));
  if (absent.length > 0) {
    out.rocAucOmitted = `ROC AUC is undefined: class${absent.length > 1 ? 'es' : ''} ${formatLabelList(absent)} absent from yTrue`;
  } else if (sorted.length === 2) {
    out.rocAuc = rocAucScore(
      yTrue,
      proba.map((r) => r[1] as number),
    );
    out.rocAucMethod = 'binary';
  } else {
    const bad = proba.findIndex((r) => Math.abs(1 - r.reduce((a, b) => a + b, 0)) > 1e-8 + 1e-5);
    if (bad >= 0) {
      out.rocAucOmitted = `one-vs-rest ROC AUC needs probabilities: yProba[${bad}] does not sum to 1`;
    } else {
      out.rocAuc = rocAucScore(yTrue, proba, { multiClass: 'ovr', average: 'macro', labels: sorted });
      out.rocAucMethod = 'ovr-macro';
    }
  }
  for (const k of [2, 5] as const) {
    if (k < sorted.length) {
      const value = topKAccuracyScore(yTrue, proba, { k, labels: sorted, onWarning });
      if (k === 2) out.top2Accuracy = value;
      else out.top5Accuracy = value;
    }
  }
  return out;
}

const evaluateRegressorInputSchema = z
  .object({
    yTrue: z.array(z.number({ error: 'targets must be finite numbers' })).readonly(),
    yPred: z.array(z.number({ error: 'predictions must be finite numbers' })).readonly(),
    sampleWeight: sampleWeightSchema.optional(),
  })
  .strict();
export type EvaluateRegressorInput = z.input<typeof evaluateRegressorInputSchema>;

export interface RegressorEvaluation {
  nSamples: number;
  mae: number;
  mse: number;
  rmse: number;
  /** null when undefined (fewer than two samples). */
  r2: number | null;
  warnings: string[];
}

/** Mean absolute error, mean squared error, its root and R^2. */
export function evaluateRegressor(input: EvaluateRegressorInput): RegressorEvaluation {
  const { yTrue, yPred, sampleWeight } = parseOptions(
    'evaluateRegressor',
    evaluateRegressorInputSchema,
    input,
    'input',
  );
  const opts = sampleWeight ? { sampleWeight } : {};
  const warnings: string[] = [];
  const r2 = r2Score(yTrue, yPred, { ...opts, onWarning: (m) => void warnings.push(m) });
  return {
    nSamples: yTrue.length,
    mae: meanAbsoluteError(yTrue, yPred, opts),
    mse: meanSquaredError(yTrue, yPred, opts),
    rmse: rootMeanSquaredError(yTrue, yPred, opts),
    r2: Number.isNaN(r2) ? null : r2,
    warnings,
  };
}
