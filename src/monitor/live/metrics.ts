/**
 * The Prometheus metrics of a monitored server, on their own prom-client Registry (never the global
 * one: two servers in one process, or an application embedding modelauto, keep separate numbers).
 * Names follow Prometheus conventions: `modelauto_` prefix, base units, counters ending in `_total`.
 *
 * Label cardinality is bounded: `model` and `version` are served ones only; `status` is an HTTP
 * status; `class` is one of the version's classes (models with more than MAX_CLASS_SERIES classes
 * count under `class="_other"` past them); `feature` is set only for the drifted features and the
 * top ranked others (drift.topFeatures), and the series of a previous drift report are removed.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BatchEvent, InferenceEvent } from '../../serve/index.js';
import type { DriftReport, FeatureDrift, QualityPoint } from '../types.js';

export const METRIC_PREFIX = 'modelauto_';
export const MAX_CLASS_SERIES = 100;

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

export interface QueueDepth {
  model: string;
  version: number;
  rows: number;
}

type ModelVersion = 'model' | 'version';

/** How strongly a feature drifted, comparable across methods: > 1 means past its threshold. */
export function driftSeverity(f: FeatureDrift): number {
  if (f.pValue !== null) return f.threshold / Math.max(f.pValue, Number.MIN_VALUE);
  return f.threshold > 0 ? f.score / f.threshold : f.score;
}

/** The features a report publishes: the drifted ones first (most severe first), then the top others. */
export function rankedFeatures(report: DriftReport, top: number): FeatureDrift[] {
  return [...report.features]
    .sort((a, b) => Number(b.drifted) - Number(a.drifted) || driftSeverity(b) - driftSeverity(a))
    .slice(0, top);
}

export class MonitorMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<ModelVersion | 'protocol' | 'status'>;
  private readonly requestSeconds: Histogram<ModelVersion | 'protocol'>;
  private readonly inferenceSeconds: Histogram<ModelVersion>;
  private readonly batchRows: Histogram<ModelVersion>;
  private readonly batchSeconds: Histogram<ModelVersion>;
  private readonly predictions: Counter<ModelVersion | 'class'>;
  private readonly driftShare: Gauge<ModelVersion>;
  private readonly datasetDrift: Gauge<ModelVersion>;
  private readonly featureDrift: Gauge<ModelVersion | 'feature'>;
  private readonly predictionDrift: Gauge<ModelVersion>;
  private readonly driftRows: Gauge<ModelVersion>;
  private readonly quality: Record<
    'accuracy' | 'precision' | 'recall' | 'f1' | 'labelled',
    Gauge<ModelVersion>
  >;
  private readonly feedback: Counter<ModelVersion>;
  private readonly logRecords: Counter<'outcome'>;
  /** Feature series currently set, per model:version, so the next report can remove them. */
  private readonly featureSeries = new Map<string, string[]>();

  constructor(queueDepths: () => QueueDepth[]) {
    const registers = [this.registry];
    const p = METRIC_PREFIX;
    this.requests = new Counter({
      name: `${p}requests_total`,
      help: 'Inference requests answered, by model, version, protocol and HTTP status.',
      labelNames: ['model', 'version', 'protocol', 'status'],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: `${p}request_duration_seconds`,
      help: 'Inference request duration from arrival to response, in seconds.',
      labelNames: ['model', 'version', 'protocol'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.inferenceSeconds = new Histogram({
      name: `${p}inference_duration_seconds`,
      help: 'Time a request spends in preprocessing, the batch queue and the model, in seconds.',
      labelNames: ['model', 'version'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.batchRows = new Histogram({
      name: `${p}batch_size`,
      help: 'Rows per inference batch run by the dynamic batcher.',
      labelNames: ['model', 'version'],
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.batchSeconds = new Histogram({
      name: `${p}batch_duration_seconds`,
      help: 'Time the model takes to run one batch, in seconds.',
      labelNames: ['model', 'version'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    new Gauge({
      name: `${p}queue_rows`,
      help: 'Rows waiting in the batch queue of each loaded model version.',
      labelNames: ['model', 'version'],
      registers,
      collect() {
        this.reset();
        for (const q of queueDepths()) this.set({ model: q.model, version: String(q.version) }, q.rows);
      },
    });
    this.predictions = new Counter({
      name: `${p}predictions_total`,
      help: 'Rows predicted by classifiers, by predicted class.',
      labelNames: ['model', 'version', 'class'],
      registers,
    });
    this.driftShare = new Gauge({
      name: `${p}drift_share`,
      help: 'Share of input features that drifted in the latest drift window (0..1).',
      labelNames: ['model', 'version'],
      registers,
    });
    this.datasetDrift = new Gauge({
      name: `${p}dataset_drift`,
      help: '1 when the latest drift window shows dataset drift, else 0.',
      labelNames: ['model', 'version'],
      registers,
    });
    this.featureDrift = new Gauge({
      name: `${p}feature_drift_score`,
      help: 'Drift score of a feature in the latest window (p-value for tests, distance otherwise); drifted and top-ranked features only.',
      labelNames: ['model', 'version', 'feature'],
      registers,
    });
    this.predictionDrift = new Gauge({
      name: `${p}prediction_drift_score`,
      help: 'Drift score of the predicted-class distribution against the training labels (p-value or distance).',
      labelNames: ['model', 'version'],
      registers,
    });
    this.driftRows = new Gauge({
      name: `${p}drift_window_rows`,
      help: 'Input rows in the latest drift window.',
      labelNames: ['model', 'version'],
      registers,
    });
    const gauge = (name: string, help: string) =>
      new Gauge({ name: `${p}${name}`, help, labelNames: ['model', 'version'], registers });
    this.quality = {
      accuracy: gauge('live_accuracy', 'Accuracy of the labelled predictions in the live quality window.'),
      precision: gauge('live_precision_macro', 'Macro precision of the labelled predictions in the window.'),
      recall: gauge('live_recall_macro', 'Macro recall of the labelled predictions in the window.'),
      f1: gauge('live_f1_macro', 'Macro F1 of the labelled predictions in the live quality window.'),
      labelled: gauge('live_labelled_rows', 'Labelled predictions in the live quality window.'),
    };
    this.feedback = new Counter({
      name: `${p}feedback_total`,
      help: 'Ground-truth labels received (feedback), by the version that made the prediction.',
      labelNames: ['model', 'version'],
      registers,
    });
    this.logRecords = new Counter({
      name: `${p}prediction_log_records_total`,
      help: 'Prediction log records by outcome: written, failed (the store refused them) or dropped (queue full).',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['written', 'failed', 'dropped']) this.logRecords.inc({ outcome }, 0);
    collectDefaultMetrics({ register: this.registry, prefix: p });
    // prom-client also names three gauges `..._total`, which Prometheus reserves for counters
    // (promtool refuses them); the same numbers are the sums of nodejs_active_{handles,requests,resources}.
    for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total']) {
      this.registry.removeSingleMetric(`${p}nodejs_${name}`);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  request(e: InferenceEvent, predicted: string[] | null): void {
    const version = e.version === null ? 'none' : String(e.version);
    this.requests.inc({ model: e.model, version, protocol: e.protocol, status: String(e.status) });
    this.requestSeconds.observe({ model: e.model, version, protocol: e.protocol }, e.totalSeconds);
    if (e.inferenceSeconds !== null)
      this.inferenceSeconds.observe({ model: e.model, version }, e.inferenceSeconds);
    if (!predicted) return;
    const labels = e.signature?.labels ?? [];
    const allowed = labels.length <= MAX_CLASS_SERIES ? null : new Set(labels.slice(0, MAX_CLASS_SERIES));
    const counts = new Map<string, number>();
    for (const c of predicted) {
      const cls = allowed && !allowed.has(c) ? '_other' : c;
      counts.set(cls, (counts.get(cls) ?? 0) + 1);
    }
    for (const [cls, n] of counts) this.predictions.inc({ model: e.model, version, class: cls }, n);
  }

  batch(e: BatchEvent): void {
    const labels = { model: e.model, version: String(e.version) };
    this.batchRows.observe(labels, e.rows);
    this.batchSeconds.observe(labels, e.runSeconds);
  }

  drift(model: string, version: number, report: DriftReport, top: number): void {
    const labels = { model, version: String(version) };
    this.driftShare.set(labels, report.driftShare);
    this.datasetDrift.set(labels, report.datasetDrift ? 1 : 0);
    this.driftRows.set(labels, report.currentRows);
    if (report.prediction) this.predictionDrift.set(labels, report.prediction.score);
    else this.predictionDrift.remove(labels);
    const key = `${model}:${version}`;
    for (const feature of this.featureSeries.get(key) ?? []) this.featureDrift.remove({ ...labels, feature });
    const shown = rankedFeatures(report, top);
    for (const f of shown) this.featureDrift.set({ ...labels, feature: f.feature }, f.score);
    this.featureSeries.set(
      key,
      shown.map((f) => f.feature),
    );
  }

  qualityPoint(model: string, version: number, point: QualityPoint | null): void {
    const labels = { model, version: String(version) };
    if (!point) {
      for (const g of Object.values(this.quality)) g.remove(labels);
      return;
    }
    this.quality.accuracy.set(labels, point.accuracy);
    this.quality.precision.set(labels, point.precisionMacro);
    this.quality.recall.set(labels, point.recallMacro);
    this.quality.f1.set(labels, point.f1Macro);
    this.quality.labelled.set(labels, point.n);
  }

  feedbackReceived(model: string, version: number, n: number): void {
    this.feedback.inc({ model, version: String(version) }, n);
  }

  logOutcome(outcome: 'written' | 'failed' | 'dropped', n: number): void {
    this.logRecords.inc({ outcome }, n);
  }

  /** Stops the default collectors' observers and forgets every series. */
  close(): void {
    this.registry.clear();
  }
}
