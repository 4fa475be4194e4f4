import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelautoError } from '../../../src/core/errors.js';
import { parseAlerting } from '../../../src/monitor/alerts/config.js';
import {
  AlertEngine,
  type AlertEngineOptions,
  type AlertMetricSource,
  type AlertRunRequest,
} from '../../../src/monitor/alerts/engine.js';
import type { AlertWebhookPayload } from '../../../src/monitor/alerts/payload.js';
import type { AlertMetric, AlertRule, AlertingInput } from '../../../src/monitor/alerts/rule.js';
import type { AlertEventRecord, AlertEventStore } from '../../../src/store/alert-events.js';
import { openAlertEventStore } from '../../../src/store/alert-events-open.js';
import { startHookServer, type HookServer } from './hook-server.js';

class FakeClock {
  constructor(public t = 1_700_000_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Values set by the test, per metric and model; what the live monitor computes in the server. */
class TableSource implements AlertMetricSource {
  monitored: string[] = ['mnist'];
  values = new Map<string, number | null>();
  calls: { metric: AlertMetric; model: string; rule: string }[] = [];
  failing = false;

  set(metric: AlertMetric, model: string, value: number | null): void {
    this.values.set(`${metric}/${model}`, value);
  }
  models(): string[] {
    return this.monitored;
  }
  value(metric: AlertMetric, model: string, rule: AlertRule): number | null {
    this.calls.push({ metric, model, rule: rule.name });
    if (this.failing) throw new Error('window not ready');
    return this.values.get(`${metric}/${model}`) ?? null;
  }
}

describe('AlertEngine', () => {
  let root: string;
  let store: AlertEventStore;
  let clock: FakeClock;
  let source: TableSource;
  let lines: string[];
  const engines: AlertEngine[] = [];
  const hooks: HookServer[] = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'modelauto-alert-engine-'));
    store = await openAlertEventStore(root);
    clock = new FakeClock();
    source = new TableSource();
    lines = [];
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.close()));
    await Promise.all(hooks.splice(0).map((h) => h.close()));
    await store.close();
    await rm(root, { recursive: true, force: true });
  });

  function engine(alerts: AlertingInput, options: Partial<AlertEngineOptions> = {}): AlertEngine {
    const e = new AlertEngine({
      config: parseAlerting(alerts),
      source,
      store,
      clock,
      log: (line) => lines.push(line),
      externalUrl: 'http://127.0.0.1:8501',
      ...options,
    });
    engines.push(e);
    return e;
  }

  const drift = {
    name: 'drift',
    metric: 'drift_share',
    model: 'mnist',
    op: '>',
    threshold: 0.5,
    for: '1m',
  } as const;

  it('goes pending, fires after `for`, resolves; records, logs and emits each event', async () => {
    const e = engine({
      rules: [{ ...drift, window: '500 rows', severity: 'critical', labels: { team: 'vision' } }],
    });
    const seen: AlertEventRecord[] = [];
    e.onEvent((ev) => seen.push(ev));
    expect(e.alertStatus()).toMatchObject([
      { rule: 'drift', model: 'mnist', state: 'inactive', value: null },
    ]);

    source.set('drift_share', 'mnist', 0.2);
    expect(await e.evaluate()).toEqual([]);
    source.set('drift_share', 'mnist', 0.7);
    clock.advance(15_000);
    expect(await e.evaluate()).toEqual([]);
    expect(e.alertStatus()[0]).toMatchObject({ state: 'pending', value: 0.7, since: clock.t });
    const pendingSince = clock.t;
    clock.advance(30_000);
    expect(await e.evaluate()).toEqual([]);
    clock.advance(30_000);
    const [fired] = await e.evaluate();
    expect(fired).toMatchObject({
      rule: 'drift',
      kind: 'firing',
      model: 'mnist',
      metric: 'drift_share',
      op: '>',
      value: 0.7,
      threshold: 0.5,
      severity: 'critical',
      labels: { team: 'vision' },
      message: 'drift_share of mnist is 0.7 over 500 rows, > 0.5 for 1m',
      at: clock.t,
      startsAt: clock.t,
    });
    expect(e.alertStatus()[0]).toMatchObject({ state: 'firing', since: clock.t, firedAt: clock.t });
    expect(clock.t - pendingSince).toBe(60_000);
    const firedAt = clock.t;

    clock.advance(15_000);
    source.set('drift_share', 'mnist', 0.3);
    const [resolved] = await e.evaluate();
    expect(resolved).toMatchObject({
      kind: 'resolved',
      value: 0.3,
      at: clock.t,
      startsAt: firedAt,
      message: 'drift_share of mnist is 0.3 over 500 rows, no longer > 0.5',
    });
    expect(e.alertStatus()[0]).toMatchObject({ state: 'inactive', since: null });
    expect(seen).toEqual([fired, resolved]);
    expect(await e.recentEvents(10)).toEqual([resolved, fired]);
    expect(await store.recentEvents()).toEqual([resolved, fired]);
    expect(lines).toContain(`alert firing: drift [critical] ${fired!.message}`);
    expect(lines).toContain(`alert resolved: drift [critical] ${resolved!.message}`);
    expect(source.calls[0]).toEqual({ metric: 'drift_share', model: 'mnist', rule: 'drift' });
  });

  it('raises nothing while the condition flaps faster than `for`', async () => {
    const e = engine({ rules: [drift] });
    for (let i = 0; i < 20; i++) {
      source.set('drift_share', 'mnist', i % 3 === 2 ? 0.1 : 0.9);
      expect(await e.evaluate()).toEqual([]);
      clock.advance(30_000);
    }
    expect(await store.recentEvents()).toEqual([]);
  });

  it('never fires nor resolves on missing data; a failing source counts as missing and is logged', async () => {
    const e = engine({ rules: [{ ...drift, for: 0 }] });
    source.set('drift_share', 'mnist', null);
    expect(await e.evaluate()).toEqual([]);
    source.set('drift_share', 'mnist', Number.NaN);
    expect(await e.evaluate()).toEqual([]);
    source.set('drift_share', 'mnist', 0.9);
    expect(await e.evaluate()).toHaveLength(1);
    source.set('drift_share', 'mnist', null);
    clock.advance(3_600_000);
    expect(await e.evaluate()).toEqual([]);
    source.failing = true;
    expect(await e.evaluate()).toEqual([]);
    expect(e.alertStatus()[0]).toMatchObject({ state: 'firing', value: null });
    expect(lines).toContain('alerts: rule drift: could not read drift_share of mnist: window not ready');
    source.failing = false;
    source.set('drift_share', 'mnist', 0.1);
    expect((await e.evaluate()).map((ev) => ev.kind)).toEqual(['resolved']);
  });

  it('evaluates a rule without a model on every monitored model, each its own alert', async () => {
    const e = engine({
      rules: [{ name: 'slow', metric: 'p99_latency_seconds', op: '>', threshold: 0.25, window: '5m' }],
    });
    source.monitored = ['a', 'b'];
    source.set('p99_latency_seconds', 'a', 0.05);
    source.set('p99_latency_seconds', 'b', 0.4);
    const events = await e.evaluate();
    expect(events.map((ev) => [ev.kind, ev.model])).toEqual([['firing', 'b']]);
    expect(e.alertStatus().map((s) => [s.model, s.state])).toEqual([
      ['a', 'inactive'],
      ['b', 'firing'],
    ]);
    // b stops being served while firing: its alert is resolved, not left firing forever.
    source.monitored = ['a'];
    clock.advance(15_000);
    const [gone] = await e.evaluate();
    expect(gone).toMatchObject({ kind: 'resolved', model: 'b', value: 0.4 });
    expect(gone!.message).toMatch(/no longer monitored/);
    expect(e.alertStatus().map((s) => s.model)).toEqual(['a']);
    source.monitored = [];
    await e.evaluate();
    expect(e.alertStatus()).toMatchObject([{ rule: 'slow', model: null, state: 'inactive' }]);
  });

  it('POSTs Alertmanager-style payloads to the webhooks and records the deliveries', async () => {
    const hook = await startHookServer([500, 200]);
    hooks.push(hook);
    const e = engine({
      delivery: { backoff: '10ms', maxBackoff: '50ms' },
      rules: [
        {
          name: 'accuracy',
          metric: 'live_accuracy',
          model: 'mnist',
          op: '<',
          threshold: 0.9,
          severity: 'critical',
          labels: { team: 'vision' },
          annotations: { runbook: 'https://wiki/accuracy' },
          webhooks: [hook.url],
        },
      ],
    });
    source.set('live_accuracy', 'mnist', 0.62);
    const [fired] = await e.evaluate();
    clock.advance(60_000);
    source.set('live_accuracy', 'mnist', 0.97);
    const [resolved] = await e.evaluate();
    await e.close();
    const bodies = hook.received.map((r) => JSON.parse(r.body) as AlertWebhookPayload);
    // The firing one failed once; the resolved one waited behind it.
    expect(bodies.map((b) => b.status)).toEqual(['firing', 'firing', 'resolved']);
    const first = bodies[0]!;
    expect(first).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'modelauto',
      groupLabels: { alertname: 'accuracy' },
      externalURL: 'http://127.0.0.1:8501',
      eventId: fired!.id,
      value: 0.62,
      threshold: 0.9,
    });
    expect(first.alerts[0]).toMatchObject({
      status: 'firing',
      labels: {
        alertname: 'accuracy',
        severity: 'critical',
        model: 'mnist',
        metric: 'live_accuracy',
        team: 'vision',
      },
      annotations: { summary: fired!.message, runbook: 'https://wiki/accuracy' },
      startsAt: new Date(fired!.at).toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
      value: 0.62,
    });
    const last = bodies[2]!.alerts[0];
    expect(last).toMatchObject({
      status: 'resolved',
      startsAt: new Date(fired!.at).toISOString(),
      endsAt: new Date(resolved!.at).toISOString(),
      fingerprint: first.alerts[0].fingerprint,
    });
    expect(await store.deliveries(fired!.id)).toMatchObject([
      { webhook: 0, url: hook.url, status: 'delivered', attempts: 2, httpStatus: 200 },
    ]);
    expect(await store.deliveries(resolved!.id)).toMatchObject([{ status: 'delivered', attempts: 1 }]);
  });

  it('does not wait for webhooks: evaluation goes on while a receiver hangs', async () => {
    const hook = await startHookServer(['hang']);
    hooks.push(hook);
    const e = engine({
      delivery: { timeout: '1m', flushTimeout: '50ms' },
      rules: [{ ...drift, for: 0, webhooks: [hook.url] }],
    });
    source.set('drift_share', 'mnist', 0.9);
    expect(await e.evaluate()).toHaveLength(1);
    source.set('drift_share', 'mnist', 0.1);
    expect(await e.evaluate()).toHaveLength(1);
    expect(e.deliveryStats().pending).toBe(2);
    expect(await e.close()).toMatchObject({ abandoned: 2, pending: 0 });
  });

  it('hands firing run: rules to onFire, and refuses run: rules without a runner', async () => {
    const requests: AlertRunRequest[] = [];
    const run = { pipeline: 'pipelines/retrain.yaml', args: { epochs: 2 } };
    const e = engine({ rules: [{ ...drift, for: 0, run }] }, { onFire: (r) => void requests.push(r) });
    source.set('drift_share', 'mnist', 0.9);
    const [fired] = await e.evaluate();
    source.set('drift_share', 'mnist', 0.1);
    await e.evaluate();
    await new Promise((r) => setImmediate(r));
    expect(requests).toEqual([
      {
        rule: 'drift',
        model: 'mnist',
        pipeline: 'pipelines/retrain.yaml',
        args: { epochs: 2 },
        event: fired,
      },
    ]);

    let err: unknown;
    try {
      engine({ rules: [{ ...drift, run }] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelautoError);
    expect((err as ModelautoError).message).toMatch(
      /alerts\.rules\[0\]\.run: rule "drift" runs the pipeline/,
    );
  });

  it('logs a failing onFire or listener without stopping', async () => {
    const e = engine(
      { rules: [{ ...drift, for: 0, run: { pipeline: 'p.yaml' } }] },
      { onFire: () => Promise.reject(new Error('queue down')) },
    );
    e.onEvent(() => {
      throw new Error('listener bug');
    });
    source.set('drift_share', 'mnist', 0.9);
    expect(await e.evaluate()).toHaveLength(1);
    await new Promise((r) => setImmediate(r));
    expect(lines).toContain('alerts: an event listener failed: listener bug');
    expect(lines).toContain('alerts: rule drift could not start the pipeline p.yaml: queue down');
  });

  it('restores firing alerts after a restart, and resolves those no rule covers any more', async () => {
    const first = engine({
      rules: [
        { ...drift, for: 0 },
        { ...drift, name: 'old', for: 0 },
      ],
    });
    source.set('drift_share', 'mnist', 0.9);
    const fired = await first.evaluate();
    expect(fired.map((ev) => ev.rule)).toEqual(['drift', 'old']);
    await first.close();

    clock.advance(60_000);
    const second = engine({ rules: [{ ...drift, for: 0 }] });
    await second.start();
    // "old" left the config: its alert is closed in the log rather than left firing forever.
    const [orphan] = await store.recentEvents({ limit: 1 });
    expect(orphan).toMatchObject({ rule: 'old', kind: 'resolved', startsAt: fired[1]!.at, at: clock.t });
    expect(second.alertStatus()).toMatchObject([{ rule: 'drift', state: 'firing', since: fired[0]!.at }]);
    // Still over the threshold: no second firing event.
    expect(await second.evaluate()).toEqual([]);
    source.set('drift_share', 'mnist', 0.1);
    const [resolved] = await second.evaluate();
    expect(resolved).toMatchObject({ kind: 'resolved', startsAt: fired[0]!.at });
    expect(await store.openFiring()).toEqual([]);
  });

  it('evaluates on its own every interval once started, and refuses misuse', async () => {
    const e = engine({ interval: '20ms', rules: [{ ...drift, for: 0 }] }, { clock: undefined });
    source.set('drift_share', 'mnist', 0.9);
    const seen: AlertEventRecord[] = [];
    e.onEvent((ev) => seen.push(ev));
    await e.start();
    for (let i = 0; i < 500 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen.map((ev) => ev.kind)).toEqual(['firing']);
    await expect(e.start()).rejects.toThrow(/already started/);
    await e.close();
    await expect(e.evaluate()).rejects.toThrow(/closed/);
  });
});
