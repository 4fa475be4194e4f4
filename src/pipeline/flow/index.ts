/** Declarative pipelines: the public API (re-exported from src/index.ts). */
export {
  runPipeline,
  resumePipeline,
  getPipelineStatus,
  listPipelineRuns,
  validatePipeline,
  pipelineStoreUri,
  type PipelineExecutionOptions,
  type RunPipelineOptions,
  type ResumePipelineOptions,
  type PipelineRunResult,
  type PipelineStatus,
} from './api.js';
export {
  watchPipeline,
  watchedFiles,
  fileChangeTrigger,
  type PipelineTrigger,
  type WatchPipelineOptions,
} from './watch.js';
export { loadPipeline, type LoadedPipeline, type LoadPipelineOptions } from './load.js';
export { followPipeline, type FollowEvent, type FollowOptions } from './follow.js';
export {
  PipelineSpecSchema,
  PipelineStepSpecSchema,
  type PipelineSpec,
  type PipelineSpecInput,
  type PipelineStepSpec,
} from './spec.js';
export { PipelineRunner, lineageOf, type PipelineEvent, type RunnerOptions } from './runner.js';
export { cacheKey, codeVersion, type CacheKeyParts } from './cache.js';
export { createExecutor, EXECUTORS, type ExecutorChoice, type ExecutorSettings } from './executors.js';
export { cancelTask } from './cancel.js';
export { registerStepType, getStepDefinition, requireStepDefinition, stepTypes } from './steps/index.js';
export {
  defineStep,
  type StepDefinition,
  type AnyStepDefinition,
  type StepContext,
  type StepResult,
  type StepOutputs,
  type StepStores,
} from './steps/types.js';
export { TrainStepInputSchema } from './steps/train.js';
export { DataStepInputSchema } from './steps/data.js';
export { EvaluateStepInputSchema } from './steps/evaluate.js';
export { OptimizeStepInputSchema } from './steps/optimize.js';
export { ExportStepInputSchema } from './steps/export.js';
export { GateStepInputSchema } from './steps/gate.js';
export { RegisterStepInputSchema } from './steps/register.js';
export { SearchStepInputSchema, SEARCH_STRATEGIES } from './steps/search.js';
export {
  parseCondition,
  evaluateCondition,
  metricNames,
  COMPARATORS,
  type Condition,
  type ConditionResult,
} from './gate/conditions.js';
export { HalvingScheduler, rungEpochs, type HalvingSettings } from './search/halving.js';
export { gridConfigurations, randomConfigurations, SpaceSchema, type Space } from './search/space.js';
export { parsePath, getPath, setPath, formatPath } from './paths.js';
export { parseRef, findRefs, resolveRefs, type Ref } from './refs.js';
export { registerPipelineTasks } from './tasks.js';
export {
  PIPELINE_STEP_TASK,
  PipelineStepTaskInputSchema,
  executeStep,
  type PipelineStepTaskInput,
  type PipelineStepTaskOutput,
} from './execute-step.js';
export {
  SEARCH_TRIAL_TASK,
  SearchTrialInputSchema,
  runSearchTrial,
  type SearchTrialInput,
  type TrialOutput,
} from './search/trial.js';
export { openPipelineStores, type OpenedStores } from './stores.js';
export { LocalExecutor, PIPELINE_TASK_MODULE, type LocalExecutorOptions } from '../executor/local.js';
export { openPipelineStore } from '../../store/pipeline-open.js';
export { processOwner } from '../../store/pipeline-sql.js';
export * from '../../store/pipeline-types.js';
