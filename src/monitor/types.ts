/**
 * The shapes the monitor's parts exchange: drift results (stats → live windows, batch reports,
 * dashboard), live traffic and quality series, alert events, and the read model the dashboard's
 * JSON API is built on. Kept in one place so the drift engine, the live monitor and the dashboard
 * can be written against the same contract.
 */

/** Epoch milliseconds and a value. */
export interface TimePoint {
  t: number;
  value: number;
}

export type DriftMethod = 'ks' | 'wasserstein' | 'psi' | 'chisquare' | 'jensenshannon' | 'ztest';

/** Counts over shared bins: numeric features by histogram edges, categorical by labels. */
export interface DriftHistogram {
  /** Numeric: bin edges (length counts+1). */
  edges?: number[];
  /** Categorical: one label per count. */
  labels?: string[];
  counts: number[];
}

export interface FeatureDrift {
  feature: string;
  kind: 'numeric' | 'categorical';
  method: DriftMethod;
  /** The statistic the decision uses: p-value for tests, distance for ks-free methods. */
  score: number;
  /** p-value for statistical tests (after any multiple-testing correction), null for distances. */
  pValue: number | null;
  /** Raw test statistic (KS D, chi-square, z, ...) or the distance itself. */
  statistic: number;
  threshold: number;
  drifted: boolean;
  /** Population stability index over the reference bins, reported for every numeric/categorical feature. */
  psi: number | null;
  reference: DriftHistogram;
  current: DriftHistogram;
  /** Optional detail: the p-value before multiple-testing correction (tests only). */
  pValueRaw?: number | null;
  /** Optional detail: non-missing values compared on each side. */
  counts?: { reference: number; current: number };
}

export interface DriftReport {
  /** Null for batch reports that compare two files. */
  model: string | null;
  version: number | null;
  /** Window of the current data (epoch ms), null for batch reports. */
  windowStart: number | null;
  windowEnd: number | null;
  referenceRows: number;
  currentRows: number;
  features: FeatureDrift[];
  /** Drift of the predicted-class distribution against the training label distribution. */
  prediction: FeatureDrift | null;
  /** Fraction of features that drifted. */
  driftShare: number;
  /** driftShare >= the dataset threshold (default 0.5). */
  datasetDrift: boolean;
  correction: 'none' | 'bonferroni' | 'fdr';
  computedAt: number;
  /** Optional detail: columns left out of the comparison and why (all missing, too few values, maxFeatures). */
  skipped?: { feature: string; reason: string }[];
  /** Optional detail: rows actually held by the reference when it is a sample standing for referenceRows. */
  referenceSampleRows?: number;
}

export interface TrafficSnapshot {
  t: number;
  requestsPerSec: number;
  /** Seconds. */
  p50: number;
  p99: number;
  errorRate: number;
}

export interface QualityPoint {
  t: number;
  /** Labelled predictions in the window. */
  n: number;
  accuracy: number;
  precisionMacro: number;
  recallMacro: number;
  f1Macro: number;
}

export type AlertState = 'inactive' | 'pending' | 'firing';

export interface AlertEvent {
  id: string;
  rule: string;
  /** Transitions that are recorded: fired and resolved. */
  kind: 'firing' | 'resolved';
  model: string | null;
  value: number;
  threshold: number;
  message: string;
  at: number;
}

export interface AlertStatus {
  rule: string;
  state: AlertState;
  model: string | null;
  value: number | null;
  since: number | null;
}

/** What the dashboard reads from a running monitor (everything is in-memory or from the store). */
export interface MonitorReadModel {
  modelNames(): string[];
  traffic(model: string): TrafficSnapshot[];
  drift(model: string): DriftReport | null;
  driftHistory(model: string): { t: number; driftShare: number; datasetDrift: boolean }[];
  quality(model: string): QualityPoint[];
  alerts(limit: number): Promise<AlertEvent[]>;
  alertStatus(): AlertStatus[];
}
