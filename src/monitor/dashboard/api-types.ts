/**
 * The dashboard's JSON API: what every `GET /api/...` route returns. The browser code imports these
 * types too (type-only, erased by the bundler), so the server and the page cannot drift apart.
 * Nothing here may import Node modules: the dashboard's type check runs with DOM types only.
 *
 * Numbers that can be NaN or ±Infinity in the store (metrics of a diverged run, a ratio over zero
 * requests) are sent as null, which is what JSON can carry.
 */
import type {
  AlertEvent,
  AlertStatus,
  DriftHistogram,
  DriftMethod,
  FeatureDrift,
  QualityPoint,
  TrafficSnapshot,
} from '../types.js';

export type { AlertEvent, AlertStatus, DriftHistogram, FeatureDrift, QualityPoint, TrafficSnapshot };

/** `GET /api/info`: what the page needs before anything else. */
export interface InfoResponse {
  name: 'modelauto';
  version: string;
  /** False when the server runs without the live monitor: traffic, drift, quality and alerts are empty. */
  monitor: boolean;
  /** The server reads pipeline runs (from the same store as the registry). */
  pipelines: boolean;
  /** The server watches a distributed executor's queue. */
  queue: boolean;
  /** How often the page refreshes, in milliseconds. */
  refreshMs: number;
  /** Server time (epoch ms), so the page can show ages without trusting the browser's clock. */
  now: number;
}

/** A metric value as JSON carries it. */
export type Num = number | null;

export interface ModelSummary {
  name: string;
  description: string | null;
  tags: Record<string, string>;
  latestVersion: number | null;
  versionCount: number;
  /** Alias → version. */
  aliases: Record<string, number>;
  createdAt: number;
  updatedAt: number;
  /** The latest version's headline test metric (test_accuracy, else test_r2, ...), null when it has none. */
  headline: { key: string; value: Num } | null;
  /** The live monitor watches this model. */
  monitored: boolean;
}

/** `GET /api/models` */
export interface ModelsResponse {
  models: ModelSummary[];
  /** Models the monitor watches, registered or not. */
  monitored: string[];
}

export interface VersionSummary {
  model: string;
  version: number;
  status: 'ready' | 'deprecated' | 'archived';
  description: string | null;
  sourceRunId: string | null;
  dataFingerprint: string | null;
  metrics: Record<string, Num>;
  parentModel: { name: string; version: number } | null;
  tags: Record<string, string>;
  aliases: string[];
  createdAt: number;
  createdBy: string;
  artifactCount: number;
  /** Sum of the artifacts' sizes. */
  artifactBytes: number;
}

export interface AliasMoveView {
  id: number;
  alias: string;
  action: 'set' | 'delete' | 'rollback';
  fromVersion: number | null;
  toVersion: number | null;
  actor: string;
  time: number;
  reason: string | null;
  undoes: number | null;
}

/** `GET /api/models/:name` */
export interface ModelDetailResponse {
  model: ModelSummary;
  /** Newest first. */
  versions: VersionSummary[];
  /** Every alias move, newest first. */
  aliasHistory: AliasMoveView[];
}

/** One model of an optimization family: the trained source or one optimize candidate of it. */
export interface LineageRow {
  runId: string;
  name: string;
  role: 'source' | 'candidate';
  status: string;
  /** e.g. `prune`, `structured+quantize`; `trained` for the source. */
  technique: string;
  /** Test score (accuracy for classifiers, -MAE for regressors). */
  testScore: Num;
  valScore: Num;
  sizeGzipBytes: Num;
  sizeRawBytes: Num;
  params: Num;
  sparsity: Num;
  latencyB1Ms: Num;
  latencyB128Ms: Num;
  /** Registered versions of this model that point at the run. */
  versions: number[];
  /** The version on display points at this run. */
  current: boolean;
}

export interface EvaluationView {
  task: 'classification' | 'regression';
  n: number;
  classes: string[] | null;
  scalars: Record<string, Num>;
  /** Rows: true class, columns: predicted class. */
  confusionMatrix: number[][] | null;
}

/** `GET /api/models/:name/versions/:version` */
export interface VersionDetailResponse {
  version: VersionSummary;
  /** The run the version was registered from (null when it was registered without one, or the run is gone). */
  run: RunSummary | null;
  evaluation: EvaluationView | null;
  /** The version this one was derived from, when registered with a parent. */
  parent: VersionSummary | null;
  lineage: {
    /** The trained run the candidates derive from. */
    sourceRunId: string | null;
    /** Source first, then candidates newest first. */
    rows: LineageRow[];
  };
}

export interface RunSummary {
  id: string;
  name: string;
  kind: string;
  status: string;
  error: string | null;
  parentRunId: string | null;
  startTime: number;
  endTime: number | null;
  tags: Record<string, string>;
  /** Latest value of every metric. */
  metrics: Record<string, Num>;
  /** The metric the list shows: test accuracy, test score, validation accuracy, or the last loss. */
  headline: { key: string; value: Num } | null;
}

/** `GET /api/runs` */
export interface RunsResponse {
  runs: RunSummary[];
  /** Distinct kinds among the listed runs, for the filter. */
  kinds: string[];
}

export interface MetricCurve {
  key: string;
  /** [step, value] ordered by step. */
  points: [number, Num][];
}

/** `GET /api/runs/:id` */
export interface RunDetailResponse {
  run: RunSummary;
  params: Record<string, unknown>;
  /** Metrics logged at more than one step (per-epoch history), for the training curves. */
  curves: MetricCurve[];
  /** Runs whose parent is this run (evaluations, optimize candidates), newest first. */
  children: RunSummary[];
  artifacts: { name: string; size: number }[];
}

/** `GET /api/live`: the latest numbers of every monitored model (the overview). */
export interface LiveOverviewResponse {
  available: boolean;
  models: {
    model: string;
    latest: TrafficSnapshot | null;
    quality: QualityPoint | null;
    driftShare: Num;
    datasetDrift: boolean | null;
  }[];
  alerts: AlertStatus[];
}

/** `GET /api/live/:model` */
export interface LiveModelResponse {
  available: boolean;
  model: string;
  traffic: TrafficSnapshot[];
  quality: QualityPoint[];
}

export interface DriftFeatureRow {
  feature: string;
  kind: 'numeric' | 'categorical';
  method: DriftMethod;
  score: Num;
  pValue: Num;
  statistic: Num;
  threshold: number;
  drifted: boolean;
  psi: Num;
  /**
   * How far past its threshold the feature is, comparable across methods: 1 is the threshold, above 1
   * is drift. Distances: score / threshold; p-values: log(p) / log(threshold).
   */
  severity: Num;
}

export interface DriftSummary {
  version: number | null;
  windowStart: number | null;
  windowEnd: number | null;
  referenceRows: number;
  currentRows: number;
  driftShare: number;
  datasetDrift: boolean;
  correction: 'none' | 'bonferroni' | 'fdr';
  computedAt: number;
  featureCount: number;
  driftedCount: number;
  /** The most drifted features first (at most `top` of them). */
  features: DriftFeatureRow[];
  /** Severity of every feature in the report's order, for the feature map (e.g. 28x28 for MNIST pixels). */
  severities: Num[];
  /** Feature names in the report's order (same indices as severities). */
  featureNames: string[];
  /** Columns the monitor left out of the comparison (constant, all missing, ...) and why. */
  skipped: { feature: string; reason: string }[];
  prediction: FeatureDrift | null;
}

/** `GET /api/drift/:model` */
export interface DriftResponse {
  available: boolean;
  model: string;
  report: DriftSummary | null;
  history: { t: number; driftShare: number; datasetDrift: boolean }[];
}

/** `GET /api/drift/:model/feature?name=...`: one feature with its reference and current histograms. */
export interface DriftFeatureResponse {
  available: boolean;
  model: string;
  feature: FeatureDrift | null;
}

/** `GET /api/alerts` */
export interface AlertsResponse {
  available: boolean;
  status: AlertStatus[];
  /** Newest first. */
  events: AlertEvent[];
}

/** Every error: the status code says what kind, the message says what to do. */
export interface ErrorResponse {
  error: string;
}

/** A pipeline run's headline: status, timing and how far its steps got. */
export interface PipelineRunSummary {
  id: string;
  name: string;
  /** running, finished, failed, gated, interrupted. */
  status: string;
  error: string | null;
  executor: string;
  /** 1 for the first run, +1 per resume. */
  attempts: number;
  startTime: number;
  endTime: number | null;
  /** End (or now, while running) minus start. */
  durationMs: number;
  /** Last sign of life of the process running it; null once it ended. */
  heartbeatAt: number | null;
  /** Steps by status (pending, running, finished, cached, failed, gated, skipped, interrupted). */
  stepCounts: Record<string, number>;
  stepTotal: number;
  /** Done steps (finished, cached, failed, gated, skipped) plus the progress of running ones, over all. */
  progress: number;
  /** Steps running now. */
  running: string[];
  /** Why it runs, when an alert started it (the automation loop's `trigger` param). */
  trigger: string | null;
}

/** `GET /api/pipelines` */
export interface PipelinesResponse {
  /** False when the server has no pipeline store (the list is then empty). */
  available: boolean;
  runs: PipelineRunSummary[];
}

export interface PipelineStepView {
  stepId: string;
  uses: string;
  needs: string[];
  status: string;
  cached: boolean;
  /** 0..1 while running, as the step (or its job on a worker) reports it. */
  progress: Num;
  message: string | null;
  error: string | null;
  /** Times the step was handed to an executor. */
  attempt: number;
  /** The executor's task id (the BullMQ job id on the distributed executor). */
  taskId: string | null;
  startTime: number | null;
  endTime: number | null;
  durationMs: Num;
  /** The step's outputs (metrics, run ids, paths, a gate's verdict); null until it ends. */
  outputs: Record<string, unknown> | null;
}

export interface PipelineTrialView {
  stepId: string | null;
  searchRunId: string;
  trialId: string;
  params: Record<string, unknown>;
  rung: number;
  status: string;
  metric: Num;
  runId: string | null;
  recordedAt: number;
}

/** `GET /api/pipelines/:id` */
export interface PipelineDetailResponse {
  run: PipelineRunSummary;
  params: Record<string, unknown>;
  /** The pipeline file's base name (the path stays on the server). */
  file: string | null;
  /** In topological order. */
  steps: PipelineStepView[];
  /** Tracked runs and model versions the steps produced. */
  lineage: { stepId: string; kind: string; ref: string }[];
  /** Tracked runs opened by the steps (trainings, evaluations, searches, trials), newest first. */
  runs: RunSummary[];
  /** Trials of the pipeline's searches, as recorded (once per trial). */
  trials: PipelineTrialView[];
  /** The newest log lines of every step, oldest first. */
  logs: PipelineLogLine[];
}

export interface PipelineLogLine {
  seq: number;
  stepId: string;
  time: number;
  line: string;
}

/** `GET /api/pipelines/:id/logs?step=&after=&limit=`: tailing a run's log. */
export interface PipelineLogsResponse {
  lines: PipelineLogLine[];
  /** Pass as `after` to get only newer lines. */
  lastSeq: number;
}

export const QUEUE_JOB_STATES = [
  'active',
  'waiting',
  'prioritized',
  'delayed',
  'failed',
  'completed',
] as const;
export type QueueJobState = (typeof QUEUE_JOB_STATES)[number];

/** One job of the distributed executor's queue: a pipeline step or a search trial. */
export interface QueueJobView {
  taskId: string;
  jobId: string;
  kind: string;
  state: QueueJobState;
  progress: { fraction: number; message?: string } | null;
  /** Failed attempts so far. */
  attemptsMade: number;
  /** Times the job was started (retries and stalled-job recoveries included). */
  attemptsStarted: number;
  attempts: number;
  /** Times the job lost its worker and was put back on the queue. */
  stalls: number;
  /** The worker that ran it last. */
  worker: string | null;
  /** Why it failed (final failure, or the last failed attempt while it waits for a retry). */
  failedReason: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/** What the distributed executor's queue holds (also what `modelauto worker status` prints). */
export interface QueueStatusView {
  queue: string;
  prefix: string;
  /** Redis location without its password. */
  redis: string;
  counts: Record<QueueJobState, number>;
  /** Names of the workers connected to the queue now. */
  workers: string[];
  /** Per state, newest first. */
  jobs: QueueJobView[];
}

/** `GET /api/queue` */
export interface QueueResponse {
  /** False when the dashboard was started without a queue to watch. */
  available: boolean;
  status: QueueStatusView | null;
  /** Why the queue could not be read (Redis down, ...) while it is configured. */
  error: string | null;
}
