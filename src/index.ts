/**
 * modelauto's public API. The CLI calls only what is exported here, so a program can do all the CLI does.
 */
export { VERSION } from './version.js';

// core
export { ModelautoError, ERROR_CODES, isModelautoError, toModelautoError } from './core/errors.js';
export type { ErrorCode, ErrorLocation } from './core/errors.js';
export { formatZodError } from './core/zod-error.js';
export { Rng } from './core/rng.js';

// data
export * from './data/index.js';

// model
export {
  ModelSpecSchema,
  LayerSpecSchema,
  LAYER_TYPES,
  ACTIVATIONS,
  INITIALIZERS,
  type ModelSpec,
  type ModelSpecInput,
  type LayerSpec,
  type LayerSpecInput,
} from './model/spec.js';
export { buildModel, parseModelSpec, needsConvGradients, type BuildOptions } from './model/build.js';
export { saveModel, loadModel, loadModelFrom } from './model/io.js';

// metrics
export * from './metrics/index.js';

// engine
export {
  setupBackend,
  backendInfo,
  BACKENDS,
  type BackendChoice,
  type BackendInfo,
} from './engine/backend.js';

// train
export { fit, predictBatches, LOSSES, TRAIN_METRICS } from './train/trainer.js';
export type { FitOptions, FitResult, TensorData, LossName, TrainMetricName } from './train/trainer.js';
export { BaseCallback, CallbackList } from './train/callbacks.js';
export type { Callback, Logs, TrainingContext, TrainingParams } from './train/callbacks.js';
export { EarlyStopping, EarlyStoppingSpecSchema, type EarlyStoppingOptions } from './train/early-stopping.js';
export { ModelCheckpoint, CheckpointSpecSchema, type CheckpointSpec } from './train/checkpoint.js';
export { ProgressLogger, type ProgressOptions } from './train/progress.js';
export { TensorBoardCallback } from './train/tensorboard-callback.js';
export {
  OptimizerSpecSchema,
  AdamWOptimizer,
  createOptimizer,
  setLearningRate,
  getLearningRate,
  type OptimizerSpec,
} from './train/optimizers.js';
export { LrScheduleSchema, scheduledLearningRate, type LrSchedule } from './train/schedules.js';
export { TrainSpecSchema, type TrainSpec, type TrainSpecInput } from './train/spec.js';
export {
  ExperimentSpecSchema,
  loadExperimentSpec,
  parseExperimentSpec,
  type ExperimentSpec,
  type ExperimentSpecInput,
} from './train/experiment.js';
export {
  SummaryWriter,
  tensorBoardWriters,
  writeLogs,
  readEventFile,
  listEventFiles,
  type TensorBoardEvent,
} from './train/tensorboard/index.js';

// optimize
export * from './optimize/index.js';
export {
  CandidatePlanSchema,
  DistillPlanSchema,
  PrunePlanSchema,
  QUANTIZE_TARGETS,
  QuantizePlanSchema,
  StructuredPlanSchema,
  parseCandidatePlan,
  planKey,
  type CandidatePlan,
  type CandidatePlanInput,
  type QuantizeTarget,
} from './pipeline/optimize/plan.js';
export { TECHNIQUES, type CandidateResult, type Technique } from './pipeline/optimize/candidate.js';
export type { SearchResult, SearchRow } from './pipeline/optimize/search.js';
export { defaultSpace, type SpaceEntry } from './pipeline/optimize/space.js';
export {
  runOptimizeCandidate,
  runPruneJob,
  runStructuredPruneJob,
  runDistillJob,
  runQuantizeJob,
  runOptimizeSearch,
  SearchOptionsSchema,
  type OptimizeSearchResult,
  type CandidateJobResult,
  type OptimizeJobOptions,
  type SearchOptions,
} from './pipeline/optimize-job.js';

// export
export * from './export/index.js';

// serve
export * from './serve/index.js';

// store
export * from './store/index.js';

// monitor
export * from './monitor/stats/index.js';
export * from './monitor/drift/index.js';
export * from './monitor/report/index.js';
export type * from './monitor/types.js';
export * from './monitor/alerts/index.js';
export * from './monitor/live/index.js';
export { startMonitoredServer, type MonitoredServerOptions, type MonitoredServer } from './monitor/server.js';
export {
  registerDashboard,
  DEFAULT_DASHBOARD_DIR,
  type DashboardDeps,
  type QueueReadModel,
} from './monitor/dashboard/index.js';
export {
  startDashboard,
  DEFAULT_DASHBOARD_PORT,
  type StartDashboardOptions,
  type RunningDashboard,
} from './monitor/dashboard/standalone.js';

// jobs (pipeline layer)
export { runTrainJob, type TrainJobOptions, type TrainJobResult } from './pipeline/train-job.js';
export {
  runEvaluateJob,
  EVAL_SPLITS,
  type EvaluateJobOptions,
  type EvaluateJobResult,
} from './pipeline/evaluate-job.js';
export { evaluatePredictions, type Evaluation } from './pipeline/evaluation.js';
export { loadBundle, saveBundle, ARTIFACTS, type LoadedBundle } from './pipeline/bundle.js';
export {
  listRuns,
  showRun,
  compareRuns,
  withStore,
  type RunComparison,
  type StoreOption,
} from './pipeline/runs.js';
export {
  runExportJob,
  variantName,
  QAT_RANGES_ARTIFACT,
  type ExportJobOptions,
  type ExportJobResult,
  type ExportedFile,
} from './pipeline/export-job.js';
export {
  runQuickstart,
  QUICKSTART_SPEC,
  LIFECYCLE_PIPELINE,
  type QuickstartOptions,
} from './pipeline/quickstart.js';
export type { QuickstartSummary, StepSummary } from './pipeline/quickstart-summary.js';
// the automation loop: deployments, traffic, retraining on alerts, canary and promotion
export * from './pipeline/automation/index.js';
export { diagnose, type DoctorReport, type DoctorCheck } from './pipeline/doctor.js';

// distributed executor (BullMQ + Redis) and the task results it records
export { registerTaskHandler, getTaskHandler, taskKinds } from './pipeline/executor/registry.js';
export type {
  Executor,
  TaskSpec,
  TaskContext,
  TaskHandler,
  TaskProgress,
} from './pipeline/executor/types.js';
export { BullmqExecutor, type BullmqExecutorOptions } from './pipeline/executor/bullmq-executor.js';
export {
  runWorker,
  type WorkerOptions,
  type RunningWorker,
  type StopMode,
} from './pipeline/executor/bullmq-worker.js';
export {
  queueStatus,
  openQueueMonitor,
  JOB_STATES,
  type QueueStatus,
  type QueueJobStatus,
  type QueueMonitor,
  type QueueStatusOptions,
  type JobState,
} from './pipeline/executor/bullmq-status.js';
export {
  REDIS_ENV_VAR,
  DEFAULT_QUEUE,
  DEFAULT_PREFIX,
  parseRedisUrl,
  type QueueLocation,
} from './pipeline/executor/bullmq-connection.js';
export {
  TaskResultSchema,
  RecordTaskResultInputSchema,
  type TaskResult,
  type TaskResultStore,
  type RecordTaskResultInput,
  type RecordTaskResultOutcome,
  type ListTaskResultsFilter,
} from './store/task-results.js';
export { openTaskResultStore } from './store/task-results-open.js';
export { SqliteTaskResultStore } from './store/task-results-sqlite.js';
export { PostgresTaskResultStore } from './store/task-results-postgres.js';

// pipelines (declarative steps, cache, gates, search, local executor)
export * from './pipeline/flow/index.js';
