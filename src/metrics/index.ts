/** Evaluation metrics with scikit-learn semantics (camelCase names, options objects instead of keyword arguments). */
export type { Label } from './labels.js';
export type { WarningHandler } from './warnings.js';
export type { ZeroDivision } from './schemas.js';
export { accuracyScore, balancedAccuracyScore } from './accuracy.js';
export type { AccuracyOptions, BalancedAccuracyOptions } from './accuracy.js';
export { precisionRecallFscoreSupport, precisionScore, recallScore, f1Score, fbetaScore } from './prf.js';
export type { Average, PrfOptions, PrfAveraged, PrfPerClass, F1Options } from './prf.js';
export { confusionMatrix } from './confusion.js';
export type { ConfusionMatrixOptions } from './confusion.js';
export { classificationReport } from './report.js';
export type {
  ClassificationReport,
  ClassificationReportOptions,
  ReportRow,
  ReportClassRow,
} from './report.js';
export { formatClassificationReport, formatConfusionMatrix } from './format.js';
export type { FormatConfusionMatrixOptions } from './format.js';
export { rocAucScore } from './roc.js';
export type { RocAucOptions } from './roc.js';
export { logLoss } from './logLoss.js';
export type { LogLossOptions } from './logLoss.js';
export { topKAccuracyScore } from './topK.js';
export type { TopKAccuracyOptions } from './topK.js';
export { meanAbsoluteError, meanSquaredError, rootMeanSquaredError, r2Score } from './regression.js';
export type { RegressionOptions, R2Options } from './regression.js';
export { evaluateClassifier, evaluateRegressor } from './evaluate.js';
export type {
  AveragedScores,
  ClassifierEvaluation,
  EvaluateClassifierInput,
  EvaluateRegressorInput,
  RegressorEvaluation,
} from './evaluate.js';
