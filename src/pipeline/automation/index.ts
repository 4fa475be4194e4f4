/** The automation loop and the lifecycle steps' building blocks: the public API (re-exported from src/index.ts). */
export {
  startDeployment,
  getDeployment,
  requireDeployment,
  listDeployments,
  stopDeployment,
  closeDeployments,
  type Deployment,
  type DeploymentSettings,
} from './deployments.js';
export {
  AutomationLoop,
  LOOP_PARAMS,
  promotedBy,
  type AutomationLoopOptions,
  type TriggeredRun,
  type TriggeredRunState,
} from './loop.js';
export { onAutomationLog, type AutomationListener } from './events.js';
export { InProcessControl, AdminApiControl, type DeploymentControl, type ServedState } from './control.js';
export { ServerClient, type OipModelMetadata, type OipInferResponse } from './client.js';
export {
  sendTraffic,
  observeMonitor,
  type SendTrafficOptions,
  type TrafficResult,
  type VersionTally,
  type MonitorObservation,
  type ObservedAlert,
  type ObserveOptions,
} from './traffic.js';
export {
  SHIFTS,
  ShiftSchema,
  shiftImages,
  mnistTestDigits,
  runSplitImages,
  type Shift,
  type ShiftKind,
  type LabelledImages,
} from './digits.js';
export {
  collectFreshData,
  type CollectFeedbackOptions,
  type FreshData,
  type FeedbackSelection,
} from './feedback-data.js';
export { checkCanary, type CanaryCheck, type CanaryVerdict, type VersionQuality } from './canary.js';
export { resolveMonitor, type ResolvedMonitor } from './monitor-config.js';
export { parseMetricSamples, metricValue, type MetricSample } from './prometheus.js';
export { scoreVersions, type VersionScore } from './holdout.js';
export { startWebhookReceiver, type WebhookReceiver, type ReceivedWebhook } from './webhook-receiver.js';
export { DeployStepInputSchema } from '../flow/steps/deploy.js';
export { TrafficStepInputSchema } from '../flow/steps/traffic.js';
export { FeedbackDataStepInputSchema } from '../flow/steps/feedback-data.js';
export { RetrainStepInputSchema } from '../flow/steps/retrain.js';
export { PromoteStepInputSchema, PROMOTE_STAGES } from '../flow/steps/promote.js';
export { AwaitRetrainStepInputSchema } from '../flow/steps/await-retrain.js';
