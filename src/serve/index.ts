/**
 * The model server: TF Serving REST and Open Inference Protocol v2 over the model registry, with
 * dynamic batching, alias following (hot swap, rollback), canary and shadow traffic.
 */
export { startServer, type StartServerOptions, type RunningServer } from './server.js';
export { ServeOptionsSchema, type ServeOptions, type ServeOptionsInput } from './options.js';
export {
  ModelManager,
  type ModelState,
  type TrafficSettings,
  type Routed,
  type RouteKind,
} from './manager.js';
export { ServedVersion, type ServedOutputs, type VersionState } from './served-version.js';
export {
  DynamicBatcher,
  BatchTicket,
  QueueFullError,
  type BatcherOptions,
  type BatcherStats,
} from './batcher.js';
export type { ModelRuntime, RuntimeTensor, RuntimeTensorInfo, RuntimeOutputs } from './runtime.js';
export { OnnxModelRuntime } from './onnx-runtime.js';
export {
  loadVersion,
  RUNTIME_CHOICES,
  PRECISIONS,
  type RuntimeChoice,
  type Precision,
  type LoadOptions,
  type LoadedModel,
} from './loader.js';
export type { ServedSignature, ServedInput, ServedOutput } from './signature.js';
export { ShadowRecorder, type ShadowRecord, type ShadowSummary } from './shadow.js';
export { OIP_DATATYPES, type OipDatatype } from './datatypes.js';
export { parseJsonBody, formatFloat32 } from './json.js';
export { ADMIN_TOKEN_ENV } from './http/admin.js';
export { VERSION_HEADER } from './http/context.js';
export {
  REQUEST_ID_HEADER,
  MAX_REQUEST_ID_LENGTH,
  type ServeObserver,
  type InferenceEvent,
  type BatchEvent,
  type ServeProtocol,
} from './observer.js';
export type { DecodedInput, DecodedInputs } from './features.js';
