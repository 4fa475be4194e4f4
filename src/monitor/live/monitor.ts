/**
 * The live monitor inside a model server: it observes every inference request and batch (through the
 * server's observer hook), and keeps
 * - the Prometheus metrics (metrics.ts),
 * - traffic per model: requests/s, latency p50/p99, error rate (traffic.ts),
 * - the prediction log, sampled and written off the request path (prediction-logger.ts),
 * - live quality per version from the labels clients send back (quality.ts),
 * - live drift per version against its training reference (drift-tracker.ts),
 * - the alert rules, evaluated on all of the above (src/monitor/alerts).
 *
 * It is the dashboard's read model (MonitorReadModel) and the alert engine's metric source. Per-model
 * figures (read model, alerts) are those of the version answering the model's requests now (its
 * primary, usually `@champion`); /metrics has every version.
 */
import { ModelautoError } from '../../core/errors.js';
import type { BatchEvent, InferenceEvent, ModelManager, ServedSignature } from '../../serve/index.js';
import type { AlertEventStore } from '../../store/alert-events.js';
import type { FeedbackLabel, LabelledPrediction, PredictionLog } from '../../store/prediction-log.js';
import type { AlertWindow } from '../alerts/duration.js';
import { AlertEngine, type AlertEngineOptions, type AlertMetricSource } from '../alerts/engine.js';
import type { AlertMetric, AlertRule } from '../alerts/rule.js';
import type {
  AlertEvent,
  AlertStatus,
  DriftReport,
  MonitorReadModel,
  QualityPoint,
  TrafficSnapshot,
} from '../types.js';
import type { MonitorConfig } from './config.js';
import { DriftTracker, type DriftEngine } from './drift-tracker.js';
import { InlineLogWriter, type LogWriter } from './log-writer.js';
import { MonitorMetrics, type QueueDepth } from './metrics.js';
import { PredictionLogger } from './prediction-logger.js';
import { QualityTracker, type QualityWindow } from './quality.js';
import { decodeLoggedInputs, predictedClasses } from './record.js';
import { TrafficTracker } from './traffic.js';

/** Default window of the traffic metrics in alert rules without one. */
export const DEFAULT_TRAFFIC_ALERT_WINDOW_MS = 60_000;

const DRIFT_METRICS: readonly AlertMetric[] = ['drift_share', 'dataset_drift', 'feature_drift'];
const QUALITY_METRICS: readonly AlertMetric[] = ['live_accuracy', 'live_f1'];

export interface LiveMonitorOptions<R> {
  config: MonitorConfig;
  /** Read by feedback, quality and restarts; written through `writer` (default: on this thread). */
  predictionLog: PredictionLog;
  /** Where the prediction log's writes run (log-writer.ts); default inline on `predictionLog`. */
  writer?: LogWriter;
  drift: DriftEngine<R>;
  /** Where alert events are recorded (needed for alert rules and the alert history). */
  alertEvents?: AlertEventStore;
  /** Epoch milliseconds; default Date.now (tests inject a clock). */
  now?: () => number;
  /** Status lines; default silent. */
  log?: (line: string) => void;
  /** Starts the pipeline of a firing alert rule with `run:`. */
  onFire?: AlertEngineOptions['onFire'];
}

export class LiveMonitor<R = unknown> implements MonitorReadModel, AlertMetricSource {
  readonly metrics: MonitorMetrics;
  readonly config: MonitorConfig;
  private readonly trafficTracker: TrafficTracker;
  private readonly qualityTracker: QualityTracker;
  private readonly driftTracker: DriftTracker<R>;
  private readonly logger: PredictionLogger;
  private alertEngine: AlertEngine | undefined;
  private readonly alertEvents: AlertEventStore | undefined;
  /** The monitor's clock (epoch ms). */
  readonly now: () => number;
  private readonly log: (line: string) => void;
  private manager: ModelManager | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly busy = new Set<string>();
  private closed = false;

  constructor(private readonly options: LiveMonitorOptions<R>) {
    const { config } = options;
    this.config = config;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
    this.metrics = new MonitorMetrics(() => this.queueDepths());
    this.trafficTracker = new TrafficTracker(config.traffic);
    const rules = config.alerts.rules;
    const ruleRows = (metrics: readonly AlertMetric[]) =>
      rules.flatMap((r) => (metrics.includes(r.metric) && r.window?.kind === 'rows' ? [r.window.rows] : []));
    this.qualityTracker = new QualityTracker(
      options.predictionLog,
      config.quality,
      Math.max(10_000, config.quality.windowRows ?? 0, ...ruleRows(QUALITY_METRICS)),
    );
    const driftWindows = new Map<string, AlertWindow>();
    for (const r of rules) {
      if (DRIFT_METRICS.includes(r.metric) && r.window) driftWindows.set(JSON.stringify(r.window), r.window);
    }
    this.driftTracker = new DriftTracker(config.drift, options.drift, [...driftWindows.values()], this.log);
    this.logger = new PredictionLogger({
      log: options.writer ?? new InlineLogWriter(options.predictionLog),
      config: config.predictionLog,
      now: this.now,
      report: this.log,
      count: (outcome, n) => this.metrics.logOutcome(outcome, n),
    });
    this.alertEvents = options.alertEvents;
    if (rules.length > 0 && !options.alertEvents) {
      throw new ModelautoError(
        'USAGE',
        'the monitor has alert rules but no alert event store to record them in',
      );
    }
  }

  // ---- the server's observer ----

  /** Connects the monitor to the server's model manager (from the observer's setup). */
  attach(manager: ModelManager): void {
    this.manager = manager;
  }

  onInference(e: InferenceEvent): void {
    const predicted = e.outputs ? predictedClasses(e.outputs, e.signature) : null;
    this.metrics.request(e, e.status === 200 ? predicted : null);
    this.trafficTracker.record(e.model, e.receivedAt, e.totalSeconds, e.status);
    this.logger.offer(e, predicted);
    this.driftTracker.observe(e, predicted);
  }

  onBatch(e: BatchEvent): void {
    this.metrics.batch(e);
  }

  /**
   * Starts the periodic work: traffic snapshots, quality refreshes, drift, log writes and pruning, and
   * the alert rules. `externalUrl` (the server's URL, known once it listens) goes into alert payloads.
   */
  async start(externalUrl?: string): Promise<void> {
    if (this.alertEvents) {
      this.alertEngine = new AlertEngine({
        config: this.config.alerts,
        source: this,
        store: this.alertEvents,
        clock: { now: this.now },
        log: this.log,
        ...(this.options.onFire ? { onFire: this.options.onFire } : {}),
        ...(externalUrl ? { externalUrl } : {}),
      });
    }
    this.logger.start();
    await this.refreshQuality();
    if (this.config.drift.enabled) await this.replayDriftWindows();
    const every = (ms: number, name: string, work: () => Promise<unknown> | void) => {
      const timer = setInterval(() => {
        // A slow run (drift of a wide model, a slow database) makes the next one skipped, not queued.
        if (this.busy.has(name) || this.closed) return;
        this.busy.add(name);
        Promise.resolve()
          .then(work)
          .catch((e: unknown) =>
            this.log(`monitor: ${name} failed: ${e instanceof Error ? e.message : String(e)}`),
          )
          .finally(() => this.busy.delete(name));
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.config.traffic.interval, 'traffic snapshot', () => this.snapshotTraffic());
    every(this.config.quality.interval, 'quality refresh', () => this.refreshQuality());
    if (this.config.drift.enabled) every(this.config.drift.interval, 'drift', () => this.runDrift());
    await this.alertEngine?.start();
  }

  /** Stops the timers, writes the queued log records, lets pending webhooks finish (within their limit). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    await this.alertEngine?.close();
    await this.logger.close();
    await this.options.drift.close?.();
    this.metrics.close();
  }

  // ---- periodic work, also callable on demand (tests drive them with an injected clock) ----

  /** Appends a traffic snapshot of the last interval for every served model. */
  snapshotTraffic(): void {
    this.trafficTracker.snapshot(this.now(), this.modelNames());
  }

  /** Re-reads the labels of every loaded version (or of one model) and recomputes live quality. */
  async refreshQuality(model?: string, versions?: readonly number[]): Promise<void> {
    const now = this.now();
    for (const [m, v] of this.loadedVersions()) {
      if (model !== undefined && (m !== model || (versions && !versions.includes(v)))) continue;
      const point = await this.qualityTracker.refresh(m, v, now);
      this.metrics.qualityPoint(m, v, point);
    }
  }

  /**
   * Fills the drift windows of the loaded versions from the prediction log, so that drift is computed
   * over recent traffic right after a restart (the windows themselves live in memory). Requests whose
   * inputs were logged as a summary are skipped.
   */
  private async replayDriftWindows(): Promise<void> {
    const manager = this.manager;
    if (!manager || !this.config.predictionLog.enabled) return;
    for (const [model, version] of this.loadedVersions()) {
      let signature: ServedSignature;
      try {
        signature = manager.peek(model, { version }).signature;
      } catch {
        continue;
      }
      const records = await this.options.predictionLog.list(model, {
        version,
        limit: this.driftTracker.capacity,
      });
      for (const r of records.reverse()) {
        const inputs = decodeLoggedInputs(r.inputs);
        if (inputs) this.driftTracker.add(model, version, signature, inputs, r.rows, r.time, r.predicted);
      }
    }
  }

  /** Computes drift now (every version, or one model's); returns the default-window reports made. */
  async runDrift(model?: string): Promise<DriftReport[]> {
    this.driftTracker.retain(new Set(this.loadedVersions().map(([m, v]) => `${m}:${v}`)));
    const reports = await this.driftTracker.run(this.now(), model);
    for (const r of reports) {
      this.metrics.drift(r.model as string, r.version as number, r, this.config.drift.topFeatures);
    }
    return reports;
  }

  /** Writes the queued prediction log records now. */
  flushPredictionLog(): Promise<void> {
    return this.logger.flush();
  }

  /** Applies the prediction log's retention limits now; returns the records dropped. */
  prunePredictionLog(): Promise<number> {
    return this.logger.prune();
  }

  /** Evaluates the alert rules now (undefined without an alert engine). */
  evaluateAlerts(): Promise<unknown> | undefined {
    return this.alertEngine?.evaluate();
  }

  // ---- feedback ----

  /**
   * Attaches ground-truth labels to logged predictions (all or nothing; see PredictionLog.label) and
   * recomputes the quality of the versions they belong to.
   */
  async feedback(model: string, labels: readonly FeedbackLabel[]): Promise<LabelledPrediction[]> {
    if (!this.config.predictionLog.enabled) {
      throw new ModelautoError(
        'CONFLICT',
        'the prediction log is off (predictionLog.enabled: false): there are no logged predictions to attach labels to',
      );
    }
    // A request answered a moment ago may still be queued, or on its way to the store.
    await this.logger.flush();
    const joined = await this.options.predictionLog.label(model, labels, this.now());
    const byVersion = new Map<number, number>();
    for (const j of joined) byVersion.set(j.version, (byVersion.get(j.version) ?? 0) + 1);
    for (const [v, n] of byVersion) this.metrics.feedbackReceived(model, v, n);
    await this.refreshQuality(model, [...byVersion.keys()]);
    return joined;
  }

  // ---- versions ----

  private loadedVersions(): [string, number][] {
    const manager = this.manager;
    if (!manager) return [];
    const out: [string, number][] = [];
    for (const m of manager.modelNames) {
      try {
        for (const v of manager.versions(m)) if (v.state === 'AVAILABLE') out.push([m, v.version]);
      } catch {
        // Unloaded between listing and reading: nothing to report for it.
      }
    }
    return out;
  }

  /** The version answering a model's requests now, or null. */
  primaryVersion(model: string): number | null {
    try {
      return this.manager?.peek(model).version ?? null;
    } catch {
      return null;
    }
  }

  private queueDepths(): QueueDepth[] {
    const manager = this.manager;
    if (!manager) return [];
    const out: QueueDepth[] = [];
    for (const m of manager.modelNames) {
      try {
        for (const v of manager.describe(m).versions)
          out.push({ model: m, version: v.version, rows: v.queuedRows });
      } catch {
        // Unloaded meanwhile.
      }
    }
    return out;
  }

  // ---- MonitorReadModel ----

  modelNames(): string[] {
    return this.manager ? [...this.manager.modelNames] : [];
  }

  traffic(model: string): TrafficSnapshot[] {
    return this.trafficTracker.snapshots(model);
  }

  drift(model: string): DriftReport | null {
    const v = this.primaryVersion(model);
    return v === null ? null : this.driftTracker.latest(model, v);
  }

  driftHistory(model: string): { t: number; driftShare: number; datasetDrift: boolean }[] {
    const v = this.primaryVersion(model);
    if (v === null) return [];
    return this.driftTracker
      .history(model, v)
      .map((r) => ({ t: r.computedAt, driftShare: r.driftShare, datasetDrift: r.datasetDrift }));
  }

  quality(model: string): QualityPoint[] {
    const v = this.primaryVersion(model);
    return v === null ? [] : this.qualityTracker.points(model, v);
  }

  /** Quality series of one version (the read model's `quality` is the answering version's). */
  versionQuality(model: string, version: number): QualityPoint[] {
    return this.qualityTracker.points(model, version);
  }

  /** Drift-share history of one version. */
  versionDrift(model: string, version: number): DriftReport[] {
    return this.driftTracker.history(model, version);
  }

  async alerts(limit: number): Promise<AlertEvent[]> {
    if (!this.alertEvents) return [];
    const events = await this.alertEvents.recentEvents({ limit });
    return events.map((e) => ({
      id: e.id,
      rule: e.rule,
      kind: e.kind,
      model: e.model,
      value: e.value,
      threshold: e.threshold,
      message: e.message,
      at: e.at,
    }));
  }

  alertStatus(): AlertStatus[] {
    return this.alertEngine?.alertStatus() ?? [];
  }

  // ---- AlertMetricSource ----

  models(): readonly string[] {
    return this.modelNames();
  }

  value(metric: AlertMetric, model: string, rule: AlertRule): number | null {
    const version = this.primaryVersion(model);
    if (version === null) return null;
    const now = this.now();
    switch (metric) {
      case 'drift_share':
      case 'dataset_drift':
      case 'feature_drift': {
        const report = this.driftTracker.latest(model, version, rule.window);
        if (!report) return null;
        if (metric === 'drift_share') return report.driftShare;
        if (metric === 'dataset_drift') return report.datasetDrift ? 1 : 0;
        return report.features.find((f) => f.feature === rule.feature)?.score ?? null;
      }
      case 'live_accuracy':
      case 'live_f1': {
        const w: QualityWindow = rule.window
          ? rule.window.kind === 'rows'
            ? { rows: rule.window.rows, ageMs: null }
            : { rows: null, ageMs: rule.window.ms }
          : this.qualityTracker.window;
        const point = this.qualityTracker.value(model, version, w, now);
        if (!point) return null;
        return metric === 'live_accuracy' ? point.accuracy : point.f1Macro;
      }
      case 'p99_latency_seconds':
      case 'error_rate':
      case 'requests_per_second': {
        const ms = rule.window?.kind === 'duration' ? rule.window.ms : DEFAULT_TRAFFIC_ALERT_WINDOW_MS;
        const w = this.trafficTracker.window(model, ms, now);
        if (metric === 'requests_per_second') return w.requestsPerSec;
        if (w.requests === 0) return null;
        return metric === 'p99_latency_seconds' ? w.p99 : w.errorRate;
      }
    }
  }
}
