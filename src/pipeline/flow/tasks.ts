/**
 * Registers the pipeline's task handlers: `pipeline.step` (one step of a pipeline run) and
 * `search.trial` (one trial of a search step). Every process that runs tasks imports this module:
 * the local executor's children, `modelauto worker`, and the coordinator itself.
 */
import { registerTaskHandler } from '../executor/registry.js';
import { PIPELINE_STEP_TASK, runPipelineStepTask } from './execute-step.js';
import { runSearchTrial, SEARCH_TRIAL_TASK } from './search/trial.js';

export function registerPipelineTasks(): void {
  registerTaskHandler(PIPELINE_STEP_TASK, runPipelineStepTask);
  registerTaskHandler(SEARCH_TRIAL_TASK, runSearchTrial);
}

registerPipelineTasks();
