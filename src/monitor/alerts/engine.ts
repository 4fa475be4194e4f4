/**
 * Evaluates the alert rules against the live monitor's metrics every `interval`, and turns the
 * transitions (see state.ts) into events: each firing and resolved event is recorded in the alert
 * event store, logged, passed to the `onEvent` listeners, POSTed to the rule's webhooks in the
 * background (webhook.ts), and, for a firing rule with `run:`, handed to `onFire` so the pipeline
 * layer can start the run.
 *
 * A rule with a `model` is one alert series; a rule without one is a series per model the source
 * lists, each firing and resolving on its own. A series whose model leaves the list is dropped (and
 * resolved if it was firing). On start, the alerts the event log says are firing are restored, so a
 * restart neither fires them again nor forgets to resolve them.
 */
import { randomUUID } from 'node:crypto';
import { ModelautoError } from '../../core/errors.js';
import type { AlertEventRecord, AlertEventStore } from '../../store/alert-events.js';
import type { AlertStatus } from '../types.js';
import { formatDuration, formatWindow } from './duration.js';
import { webhookPayload } from './payload.js';
import type { AlertingConfig, AlertMetric, AlertRule } from './rule.js';
import { INACTIVE, stepAlert, type SeriesState, type Transition } from './state.js';
import { WebhookDispatcher, type DeliveryStats } from './webhook.js';

/**
 * Where rule values come from (the live monitor implements it). Calls are synchronous and should be
 * cheap: they read the monitor's current windows.
 */
export interface AlertMetricSource {
  /**
   * The models monitored now: rules without a `model` are evaluated on each. A firing alert of a
   * model that leaves this list is resolved, so list every served model, with traffic or not.
   */
  models(): readonly string[];
  /**
   * The value of `metric` for `model` over `rule.window` (null: the monitor's default window for the
   * metric), as described in ALERT_METRICS. Null (or NaN) when there is no data: not enough rows,
   * no labelled feedback yet, no drift reference. No data never fires nor resolves an alert.
   */
  value(metric: AlertMetric, model: string, rule: AlertRule): number | null;
}

export interface AlertClock {
  /** Epoch milliseconds. */
  now(): number;
}

/** What `onFire` receives for a rule with `run:`: the pipeline to start and why. */
export interface AlertRunRequest {
  rule: string;
  model: string | null;
  pipeline: string;
  args: Record<string, string | number | boolean>;
  event: AlertEventRecord;
}

export type AlertEventListener = (event: AlertEventRecord) => void;

/** AlertStatus (the dashboard contract) with what the rule says, for display. */
export interface AlertStatusDetail extends AlertStatus {
  metric: AlertMetric;
  feature: string | null;
  op: AlertRule['op'];
  threshold: number;
  severity: string;
  /** Pending: since when its condition holds. */
  pendingSince: number | null;
  /** Firing: when it fired. */
  firedAt: number | null;
}

export interface AlertEngineOptions {
  /** The validated `alerts:` config (parseAlerting / loadAlertingFile / AlertingSchema.parse). */
  config: AlertingConfig;
  source: AlertMetricSource;
  /** Where events and delivery outcomes are recorded; the caller opens and closes it. */
  store: AlertEventStore;
  /** Default: the system clock. Tests pass a fake one and call evaluate() themselves. */
  clock?: AlertClock;
  /** One line per event and per problem; default: stderr. */
  log?: (line: string) => void;
  /** Starts the pipeline of a firing `run:` rule; required when a rule has `run:`. Errors are logged. */
  onFire?: (request: AlertRunRequest) => void | Promise<void>;
  /** The monitor's base URL, sent as the payload's externalURL and generatorURL. */
  externalUrl?: string;
  /** Uniform in [0, 1), for the retry jitter. */
  random?: () => number;
}

interface Series {
  rule: AlertRule;
  model: string;
  state: SeriesState;
}

interface Pending {
  event: AlertEventRecord;
  rule: AlertRule | undefined;
}

const SYSTEM_CLOCK: AlertClock = { now: () => Date.now() };

export class AlertEngine {
  readonly rules: readonly AlertRule[];
  readonly intervalMs: number;
  private readonly source: AlertMetricSource;
  private readonly store: AlertEventStore;
  private readonly clock: AlertClock;
  private readonly log: (line: string) => void;
  private readonly onFire: AlertEngineOptions['onFire'];
  private readonly externalUrl: string;
  private readonly dispatcher: WebhookDispatcher;
  private readonly series = new Map<string, Series>();
  private readonly listeners = new Set<AlertEventListener>();
  private timer: NodeJS.Timeout | undefined;
  /** The evaluation running now; evaluations never overlap. */
  private current: Promise<unknown> = Promise.resolve();
  private busy = false;
  private state: 'new' | 'started' | 'closed' = 'new';

  constructor(options: AlertEngineOptions) {
    const { config } = options;
    config.rules.forEach((rule, i) => {
      if (rule.run && !options.onFire) {
        throw new ModelautoError(
          'INVALID_SPEC',
          `rule "${rule.name}" runs the pipeline ${rule.run.pipeline} when it fires, but this monitor has no pipeline runner (onFire)`,
          { location: { path: `alerts.rules[${i}].run` } },
        );
      }
    });
    this.rules = config.rules;
    this.intervalMs = config.interval;
    this.source = options.source;
    this.store = options.store;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.onFire = options.onFire;
    this.externalUrl = options.externalUrl ?? '';
    this.dispatcher = new WebhookDispatcher({
      ...config.delivery,
      record: (d) => this.store.recordDelivery(d),
      log: this.log,
      now: () => this.clock.now(),
      ...(options.random ? { random: options.random } : {}),
    });
  }

  /** Calls `listener` with every event after it is recorded; returns the unsubscribe function. */
  onEvent(listener: AlertEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Restores the alerts the event log says are firing, then evaluates every `interval`. An
   * evaluation still running when the next is due makes that one skipped, not queued.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') {
      throw new ModelautoError(
        'CONFLICT',
        `the alert engine was already ${this.state === 'started' ? 'started' : 'closed'}`,
      );
    }
    this.state = 'started';
    await this.serialized(() => this.restore());
    if (this.rules.length === 0) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    // The server keeps the process alive; a forgotten engine must not.
    this.timer.unref();
  }

  /** Evaluates every rule once now; returns the events it produced (after they are recorded). */
  evaluate(): Promise<AlertEventRecord[]> {
    if (this.state === 'closed') {
      return Promise.reject(new ModelautoError('CONFLICT', 'the alert engine is closed'));
    }
    return this.serialized(() => this.evaluateOnce());
  }

  /** Every series' state now; a rule without a model and with no series yet shows as one inactive entry. */
  alertStatus(): AlertStatusDetail[] {
    const out: AlertStatusDetail[] = [];
    for (const rule of this.rules) {
      const mine = [...this.series.values()].filter((s) => s.rule === rule);
      if (mine.length === 0) out.push(status(rule, rule.model, INACTIVE));
      for (const s of mine) out.push(status(rule, s.model, s.state));
    }
    return out;
  }

  /** The latest events from the store, newest first. */
  recentEvents(limit = 50): Promise<AlertEventRecord[]> {
    return this.store.recentEvents({ limit });
  }

  deliveryStats(): DeliveryStats {
    return this.dispatcher.stats();
  }

  /**
   * Stops evaluating, waits for the evaluation in progress, and gives pending webhook deliveries up
   * to the configured flush timeout. Does not close the store (the caller owns it).
   */
  async close(): Promise<DeliveryStats> {
    if (this.state === 'closed') return this.dispatcher.stats();
    this.state = 'closed';
    clearInterval(this.timer);
    this.timer = undefined;
    await this.current.catch(() => undefined);
    return this.dispatcher.close();
  }

  private tick(): void {
    if (this.busy || this.state !== 'started') return;
    this.serialized(() => this.evaluateOnce()).catch((e: unknown) =>
      this.log(`alerts: evaluation failed: ${message(e)}`),
    );
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const runIt = async (): Promise<T> => {
      this.busy = true;
      try {
        return await work();
      } finally {
        this.busy = false;
      }
    };
    // After the previous evaluation, whether it succeeded or not.
    const run = this.current.then(runIt, runIt);
    this.current = run.catch(() => undefined);
    return run;
  }

  private async evaluateOnce(): Promise<AlertEventRecord[]> {
    const now = this.clock.now();
    const produced: Pending[] = [];
    let listed: ReadonlySet<string> | undefined;
    for (const rule of this.rules) {
      let targets: Iterable<string>;
      if (rule.model !== null) {
        targets = [rule.model];
      } else {
        listed ??= this.listModels();
        targets = listed;
        produced.push(...this.dropVanished(rule, listed, now));
      }
      for (const model of targets) {
        const key = seriesKey(rule.name, model);
        const before = this.series.get(key)?.state ?? INACTIVE;
        const step = stepAlert(before, this.read(rule, model), now, rule);
        this.series.set(key, { rule, model, state: step.next });
        if (step.transition) {
          produced.push({ event: this.event(rule, model, step.transition, before, step.next, now), rule });
        }
      }
    }
    for (const p of produced) await this.publish(p);
    return produced.map((p) => p.event);
  }

  /** Series of a model-less rule whose model is no longer monitored: dropped, resolved if firing. */
  private dropVanished(rule: AlertRule, listed: ReadonlySet<string>, now: number): Pending[] {
    const out: Pending[] = [];
    for (const [key, s] of this.series) {
      if (s.rule !== rule || listed.has(s.model)) continue;
      this.series.delete(key);
      if (s.state.state !== 'firing') continue;
      const value = s.state.lastValue ?? 0;
      out.push({
        rule,
        event: {
          ...this.eventBase(rule, s.model, 'resolved', value, now, s.state.firedAt ?? now),
          message: `${subject(rule, s.model)}: the model is no longer monitored (last value ${fmt(value)})`,
        },
      });
    }
    return out;
  }

  private listModels(): ReadonlySet<string> {
    try {
      return new Set(this.source.models());
    } catch (e) {
      this.log(`alerts: could not list the monitored models: ${message(e)}`);
      // Nothing known this round: keep every series as it is rather than drop them all.
      return new Set([...this.series.values()].filter((s) => s.rule.model === null).map((s) => s.model));
    }
  }

  /** The metric's value; a throwing source or NaN counts as no data (and is logged when it throws). */
  private read(rule: AlertRule, model: string): number | null {
    let value: number | null;
    try {
      value = this.source.value(rule.metric, model, rule);
    } catch (e) {
      this.log(`alerts: rule ${rule.name}: could not read ${rule.metric} of ${model}: ${message(e)}`);
      return null;
    }
    return value === null || !Number.isFinite(value) ? null : value;
  }

  private event(
    rule: AlertRule,
    model: string,
    kind: Transition,
    before: SeriesState,
    after: SeriesState,
    now: number,
  ): AlertEventRecord {
    // A transition only happens on a value, so lastValue is set.
    const value = after.lastValue ?? 0;
    const what = `${subject(rule, model)} is ${fmt(value)}`;
    const bound = `${rule.op} ${fmt(rule.threshold)}`;
    const window = rule.window ? ` over ${formatWindow(rule.window)}` : '';
    const held = rule.forMs > 0 ? ` for ${formatDuration(rule.forMs)}` : '';
    if (kind === 'firing') {
      return {
        ...this.eventBase(rule, model, kind, value, now, now),
        message: `${what}${window}, ${bound}${held}`,
      };
    }
    const startsAt = before.firedAt ?? now;
    return {
      ...this.eventBase(rule, model, kind, value, now, startsAt),
      message: `${what}${window}, no longer ${bound}`,
    };
  }

  private eventBase(
    rule: AlertRule,
    model: string | null,
    kind: Transition,
    value: number,
    at: number,
    startsAt: number,
  ): AlertEventRecord {
    return {
      id: randomUUID(),
      rule: rule.name,
      kind,
      model,
      metric: rule.metric,
      feature: rule.feature,
      op: rule.op,
      value,
      threshold: rule.threshold,
      severity: rule.severity,
      labels: rule.labels,
      message: '',
      at,
      startsAt,
    };
  }

  /** Records, logs, notifies; webhooks and the pipeline start are set going, not awaited. */
  private async publish({ event, rule }: Pending): Promise<void> {
    try {
      await this.store.appendEvent(event);
    } catch (e) {
      this.log(`alerts: could not record the ${event.kind} event of rule ${event.rule}: ${message(e)}`);
    }
    this.log(`alert ${event.kind}: ${event.rule} [${event.severity}] ${event.message}`);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (e) {
        this.log(`alerts: an event listener failed: ${message(e)}`);
      }
    }
    if (!rule) return;
    if (rule.webhooks.length > 0) {
      const body = JSON.stringify(webhookPayload(event, rule, this.externalUrl));
      rule.webhooks.forEach((url, webhook) =>
        this.dispatcher.enqueue({ eventId: event.id, webhook, url, body }),
      );
    }
    const onFire = this.onFire;
    if (event.kind === 'firing' && rule.run && onFire) {
      const request: AlertRunRequest = {
        rule: rule.name,
        model: event.model,
        pipeline: rule.run.pipeline,
        args: rule.run.args,
        event,
      };
      Promise.resolve()
        .then(() => onFire(request))
        .catch((e: unknown) =>
          this.log(
            `alerts: rule ${rule.name} could not start the pipeline ${rule.run?.pipeline}: ${message(e)}`,
          ),
        );
    }
  }

  /**
   * Firing alerts from the log: those of a configured rule (and a model it covers) continue firing;
   * the others (rule removed or changed to another model) are resolved, without webhooks since
   * their receivers are no longer known.
   */
  private async restore(): Promise<void> {
    const open = await this.store.openFiring();
    const byName = new Map(this.rules.map((r) => [r.name, r]));
    const orphans: Pending[] = [];
    for (const e of open) {
      const rule = byName.get(e.rule);
      if (rule && e.model !== null && (rule.model === null || rule.model === e.model)) {
        const state: SeriesState = {
          ...INACTIVE,
          state: 'firing',
          firedAt: e.startsAt,
          value: e.value,
          lastValue: e.value,
        };
        this.series.set(seriesKey(rule.name, e.model), { rule, model: e.model, state });
        continue;
      }
      const now = this.clock.now();
      orphans.push({
        rule: undefined,
        event: {
          ...e,
          id: randomUUID(),
          kind: 'resolved',
          at: now,
          message: `${e.rule}${e.model ? ` on ${e.model}` : ''}: the rule no longer covers this alert (removed or changed)`,
        },
      });
    }
    for (const p of orphans) await this.publish(p);
  }
}

function status(rule: AlertRule, model: string | null, s: SeriesState): AlertStatusDetail {
  return {
    rule: rule.name,
    state: s.state,
    model,
    value: s.value,
    since: s.state === 'firing' ? s.firedAt : s.state === 'pending' ? s.pendingSince : null,
    metric: rule.metric,
    feature: rule.feature,
    op: rule.op,
    threshold: rule.threshold,
    severity: rule.severity,
    pendingSince: s.pendingSince,
    firedAt: s.firedAt,
  };
}

function seriesKey(rule: string, model: string): string {
  return `${rule}\u0000${model}`;
}

function subject(rule: AlertRule, model: string): string {
  return `${rule.metric}${rule.feature !== null ? `[${rule.feature}]` : ''} of ${model}`;
}

/** Four significant digits, without trailing zeros. */
function fmt(n: number): string {
  return String(Number(n.toPrecision(4)));
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
