/**
 * Row shapes of the pipeline tables and their mapping to records, shared by both dialects (JSON in
 * TEXT columns, booleans as 0/1, NaN metrics as NULL).
 */
import type {
  CacheEntry,
  PipelineRunRecord,
  PipelineRunStatus,
  PipelineStepRecord,
  StepStatus,
  TrialRecord,
} from './pipeline-types.js';
import type { JsonValue } from './types.js';

export const RUN_COLUMNS =
  'id, name, status, error, spec_json, params_json, file, base_dir, executor, code_version, owner, heartbeat_at, attempts, start_time, end_time';
export const STEP_COLUMNS =
  'run_id, step_id, position, uses, needs_json, status, cached, cache_key, inputs_json, outputs_json, error, attempt, task_id, progress, message, start_time, end_time';

export interface PipelineRunRow {
  id: string;
  name: string;
  status: PipelineRunStatus;
  error: string | null;
  spec_json: string;
  params_json: string;
  file: string | null;
  base_dir: string;
  executor: string;
  code_version: string;
  owner: string | null;
  heartbeat_at: number | null;
  attempts: number;
  start_time: number;
  end_time: number | null;
}

export interface PipelineStepRow {
  run_id: string;
  step_id: string;
  position: number;
  uses: string;
  needs_json: string;
  status: StepStatus;
  cached: number;
  cache_key: string | null;
  inputs_json: string | null;
  outputs_json: string | null;
  error: string | null;
  attempt: number;
  task_id: string | null;
  progress: number | null;
  message: string | null;
  start_time: number | null;
  end_time: number | null;
}

export interface CacheRow {
  cache_key: string;
  uses: string;
  outputs_json: string;
  run_id: string;
  step_id: string;
  created_at: number;
}

export interface TrialRow {
  trial_id: string;
  search_run_id: string;
  params_json: string;
  rung: number;
  status: 'finished' | 'failed';
  run_id: string | null;
  metric: number | null;
  result_json: string;
  recorded_at: number;
}

const parse = (text: string): JsonValue => JSON.parse(text) as JsonValue;
const parseObject = (text: string): Record<string, JsonValue> =>
  JSON.parse(text) as Record<string, JsonValue>;

export function stepFromRow(r: PipelineStepRow): PipelineStepRecord {
  return {
    stepId: r.step_id,
    position: r.position,
    uses: r.uses,
    needs: JSON.parse(r.needs_json) as string[],
    status: r.status,
    cached: Number(r.cached) === 1,
    cacheKey: r.cache_key,
    inputs: r.inputs_json === null ? null : parse(r.inputs_json),
    outputs: r.outputs_json === null ? null : parseObject(r.outputs_json),
    error: r.error,
    attempt: r.attempt,
    taskId: r.task_id,
    progress: r.progress,
    message: r.message,
    startTime: r.start_time,
    endTime: r.end_time,
  };
}

export function runFromRow(r: PipelineRunRow, steps: PipelineStepRow[]): PipelineRunRecord {
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    error: r.error,
    spec: parse(r.spec_json),
    params: parseObject(r.params_json),
    file: r.file,
    baseDir: r.base_dir,
    executor: r.executor,
    codeVersion: r.code_version,
    owner: r.owner,
    heartbeatAt: r.heartbeat_at,
    attempts: r.attempts,
    startTime: r.start_time,
    endTime: r.end_time,
    steps: steps.filter((s) => s.run_id === r.id).map(stepFromRow),
  };
}

export function cacheFromRow(r: CacheRow): CacheEntry {
  return {
    cacheKey: r.cache_key,
    uses: r.uses,
    outputs: parseObject(r.outputs_json),
    runId: r.run_id,
    stepId: r.step_id,
    createdAt: r.created_at,
  };
}

export function trialFromRow(r: TrialRow): TrialRecord {
  return {
    trialId: r.trial_id,
    searchRunId: r.search_run_id,
    params: parseObject(r.params_json),
    rung: r.rung,
    status: r.status,
    runId: r.run_id,
    metric: r.metric === null ? null : Number(r.metric),
    result: parse(r.result_json),
    recordedAt: r.recorded_at,
  };
}
