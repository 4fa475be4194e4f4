/** Alert rules, their evaluation and webhook delivery; the event log itself lives in the store layer. */
export {
  ALERT_METRICS,
  ALERT_METRIC_NAMES,
  ALERT_OPS,
  RESERVED_LABELS,
  AlertRuleSchema,
  AlertRunSchema,
  AlertingSchema,
  WebhookDeliverySchema,
  compare as compareAlertValue,
  type AlertMetric,
  type AlertOp,
  type AlertRule,
  type AlertRuleInput,
  type AlertRun,
  type AlertingConfig,
  type AlertingInput,
  type WebhookDelivery,
} from './rule.js';
export {
  DurationSchema,
  WindowSchema as AlertWindowSchema,
  parseDuration,
  formatDuration,
  parseWindow as parseAlertWindow,
  formatWindow as formatAlertWindow,
  type AlertWindow,
} from './duration.js';
export { parseAlerting, loadAlertingFile, type AlertingSource } from './config.js';
export {
  stepAlert,
  INACTIVE as INACTIVE_ALERT,
  type SeriesState as AlertSeriesState,
  type Step as AlertStep,
  type Transition as AlertTransition,
} from './state.js';
export {
  webhookPayload,
  alertLabels,
  fingerprint as alertFingerprint,
  type AlertWebhookPayload,
  type WebhookAlert,
} from './payload.js';
export {
  WebhookDispatcher,
  retryDelay as webhookRetryDelay,
  type WebhookJob,
  type WebhookDispatcherOptions,
  type DeliveryStats as WebhookDeliveryStats,
} from './webhook.js';
export {
  AlertEngine,
  type AlertEngineOptions,
  type AlertMetricSource,
  type AlertClock,
  type AlertRunRequest,
  type AlertEventListener,
  type AlertStatusDetail,
} from './engine.js';
