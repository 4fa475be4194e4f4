import type * as tf from '@tensorflow/tfjs';
import type { Dataset, Target } from '../data/types.js';
import { evaluateClassifier, evaluateRegressor, type ClassifierEvaluation } from '../metrics/index.js';
import type { ClassificationReport } from '../metrics/index.js';
import { predictBatches, type TensorData } from '../train/trainer.js';

/** A model's scores on one split, as stored in `evaluation.json` and printed by the CLI. */
export interface Evaluation {
  task: 'classification' | 'regression';
  n: number;
  classes?: string[];
  /** Flat scores, also logged as run metrics: accuracy, f1_macro, log_loss, r2, ... */
  scalars: Record<string, number>;
  /** Rows: true class, columns: predicted class, in the order of `classes`. */
  confusionMatrix?: number[][];
  report?: ClassificationReport;
  /** Why a score is missing, and scikit-learn-style warnings (ill-defined precision, ...). */
  notes: string[];
}

/** Predicts `data` with the model and scores the predictions against the split's true targets. */
export async function evaluatePredictions(
  model: tf.LayersModel,
  data: TensorData,
  target: Target,
  split: Dataset,
): Promise<Evaluation> {
  const { values, outputShape } = await predictBatches(model, data.x, data.xShape);
  const k = outputShape.reduce((a, b) => a * b, 1);
  const t = split.target;
  if (t.kind === 'regression' || target.kind === 'regression') {
    const yTrue = t.kind === 'regression' ? Array.from(t.y) : [];
    const yPred = Array.from(values);
    const r = evaluateRegressor({ yTrue, yPred });
    const scalars: Record<string, number> = { mae: r.mae, mse: r.mse, rmse: r.rmse };
    const notes = [...r.warnings];
    if (r.r2 === null) notes.push('r2 omitted: undefined for a constant target');
    else scalars['r2'] = r.r2;
    return { task: 'regression', n: split.n, scalars, notes };
  }
  const classes = t.classes;
  const yTrue = Array.from(t.y, (i) => classes[i] as string);
  const yProba: number[][] = [];
  for (let i = 0; i < split.n; i++) {
    if (k === 1) {
      const p = values[i] as number;
      yProba.push([1 - p, p]);
    } else {
      yProba.push(Array.from(values.subarray(i * k, (i + 1) * k)));
    }
  }
  const yPred = yProba.map((row) => classes[argmax(row)] as string);
  const e = evaluateClassifier({ yTrue, yPred, yProba, classes });
  return classifierEvaluation(e, classes);
}

export function classifierEvaluation(e: ClassifierEvaluation, classes: string[]): Evaluation {
  const scalars: Record<string, number> = {
    accuracy: e.accuracy,
    balanced_accuracy: e.balancedAccuracy,
    precision_macro: e.precision.macro,
    recall_macro: e.recall.macro,
    f1_macro: e.f1.macro,
    precision_weighted: e.precision.weighted,
    recall_weighted: e.recall.weighted,
    f1_weighted: e.f1.weighted,
  };
  if (e.logLoss !== undefined) scalars['log_loss'] = e.logLoss;
  if (e.rocAuc !== undefined) scalars['roc_auc'] = e.rocAuc;
  if (e.top2Accuracy !== undefined) scalars['top2_accuracy'] = e.top2Accuracy;
  if (e.top5Accuracy !== undefined) scalars['top5_accuracy'] = e.top5Accuracy;
  return {
    task: 'classification',
    n: e.nSamples,
    classes,
    scalars,
    confusionMatrix: e.confusionMatrix,
    report: e.report,
    notes: [...(e.rocAucOmitted ? [`roc_auc omitted: ${e.rocAucOmitted}`] : []), ...e.warnings],
  };
}

function argmax(row: number[]): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if ((row[j] as number) > (row[best] as number)) best = j;
  return best;
}
