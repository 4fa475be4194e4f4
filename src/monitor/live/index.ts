/** The live monitor inside the model server: metrics, prediction log, feedback, live quality and drift. */
export {
  MonitorConfigSchema,
  PredictionLogConfigSchema,
  TrafficConfigSchema,
  QualityConfigSchema,
  DriftConfigSchema,
  type MonitorConfig,
  type MonitorConfigInput,
  type PredictionLogConfig,
  type TrafficConfig,
  type QualityConfig,
  type DriftConfig,
} from './config.js';
export { parseMonitorConfig, loadMonitorConfig } from './config-file.js';
export { LiveMonitor, DEFAULT_TRAFFIC_ALERT_WINDOW_MS, type LiveMonitorOptions } from './monitor.js';
export { MonitorMetrics, METRIC_PREFIX, MAX_CLASS_SERIES, driftSeverity, rankedFeatures } from './metrics.js';
export { registerMonitorRoutes, METRICS_PATH, FEEDBACK_PATH } from './routes.js';
export {
  FeedbackBodySchema,
  MAX_FEEDBACK_LABELS,
  parseFeedbackBody,
  feedbackBody,
  readFeedbackCsv,
  type FeedbackBody,
} from './feedback.js';
export { submitFeedback, type SubmitFeedbackOptions, type SubmitFeedbackResult } from './submit-feedback.js';
export { qualityOf, QualityTracker, type QualityWindow } from './quality.js';
export { TrafficTracker, quantileSorted, type TrafficWindow } from './traffic.js';
export { PredictionLogger, inSample, type LogOutcome } from './prediction-logger.js';
export { InputWindow, type WindowData, type WindowSlice } from './input-window.js';
export { DriftTracker, type DriftEngine } from './drift-tracker.js';
export { storeDriftEngine } from './drift-engine.js';
export {
  encodeInputs,
  encodeOutputs,
  encodeTensor,
  decodeLoggedTensor,
  predictedClasses,
  type LoggedInput,
  type LoggedOutput,
  type TensorSummary,
} from './record.js';
export { versionArtifacts, type VersionArtifacts } from './version-artifacts.js';
