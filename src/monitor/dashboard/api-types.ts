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
