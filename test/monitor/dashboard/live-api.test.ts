/**
 * The live routes over a read model (the contract the live monitor implements): ranking of drifted
 * features across methods, one feature's histograms, 404s for models and features the monitor does
 * not know, alerts newest first, and the answers of a server that runs without a monitor.
 */
import { describe, expect, it } from 'vitest';
import type {
  AlertsResponse,
  DriftFeatureResponse,
  DriftResponse,
  InfoResponse,
  LiveModelResponse,
  LiveOverviewResponse,
} from '../../../src/monitor/dashboard/api-types.js';
import { severity } from '../../../src/monitor/dashboard/drift-rank.js';
import type {
  AlertEvent,
  AlertStatus,
  DriftReport,
  FeatureDrift,
  MonitorReadModel,
  QualityPoint,
  TrafficSnapshot,
} from '../../../src/monitor/types.js';
import { dashboardServer, tempStores } from './helpers.js';

const T0 = 1_700_000_000_000;

function feature(name: string, over: Partial<FeatureDrift>): FeatureDrift {
  return {
    feature: name,
    kind: 'numeric',
    method: 'ks',
    score: 0.5,
    pValue: 0.5,
    statistic: 0.1,
    threshold: 0.05,
    drifted: false,
    psi: 0.01,
    reference: { edges: [0, 1, 2], counts: [5, 5] },
    current: { edges: [0, 1, 2], counts: [4, 6] },
    ...over,
  };
}

const report: DriftReport = {
  model: 'mnist',
  version: 3,
  windowStart: T0,
  windowEnd: T0 + 60_000,
  referenceRows: 1000,
  currentRows: 200,
  features: [
    feature('stable', { pValue: 0.6, score: 0.6 }),
    feature('ks_drift', { pValue: 0.001, score: 0.001, drifted: true, statistic: 0.4 }),
    feature('wasser', {
      method: 'wasserstein',
      pValue: null,
      score: 0.3,
      statistic: 0.3,
      threshold: 0.1,
      drifted: true,
      reference: { edges: [0, 10, 20, 30], counts: [10, 80, 10] },
      current: { edges: [0, 10, 20, 30], counts: [60, 30, 10] },
    }),
    feature('plan', {
      kind: 'categorical',
      method: 'jensenshannon',
      pValue: null,
      score: 0.02,
      statistic: 0.02,
      threshold: 0.1,
      reference: { labels: ['basic', 'pro'], counts: [70, 30] },
      current: { labels: ['basic', 'pro'], counts: [66, 34] },
    }),
  ],
  prediction: feature('prediction', {
    kind: 'categorical',
    method: 'chisquare',
    reference: { labels: ['0', '1'], counts: [50, 50] },
    current: { labels: ['0', '1'], counts: [45, 55] },
  }),
  driftShare: 0.5,
  datasetDrift: true,
  correction: 'bonferroni',
  computedAt: T0 + 61_000,
};

class FixedMonitor implements MonitorReadModel {
  modelNames(): string[] {
    return ['mnist'];
  }
  traffic(): TrafficSnapshot[] {
    return [
      { t: T0, requestsPerSec: 10, p50: 0.002, p99: 0.01, errorRate: 0 },
      { t: T0 + 5000, requestsPerSec: 12.5, p50: 0.003, p99: 0.02, errorRate: 0.1 },
    ];
  }
  drift(): DriftReport {
    return report;
  }
  driftHistory() {
    return [
      { t: T0, driftShare: 0, datasetDrift: false },
      { t: T0 + 60_000, driftShare: 0.5, datasetDrift: true },
    ];
  }
  quality(): QualityPoint[] {
    return [{ t: T0, n: 40, accuracy: 0.9, precisionMacro: 0.88, recallMacro: 0.87, f1Macro: 0.875 }];
  }
  async alerts(limit: number): Promise<AlertEvent[]> {
    const events: AlertEvent[] = [
      {
        id: 'a',
        rule: 'drift',
        kind: 'firing',
        model: 'mnist',
        value: 0.5,
        threshold: 0.3,
        message: 'drift',
        at: T0,
      },
      {
        id: 'b',
        rule: 'drift',
        kind: 'resolved',
        model: 'mnist',
        value: 0.1,
        threshold: 0.3,
        message: 'ok',
        at: T0 + 9,
      },
      {
        id: 'c',
        rule: 'p99',
        kind: 'firing',
        model: null,
        value: 0.9,
        threshold: 0.5,
        message: '<b>slow</b>',
        at: T0 + 5,
      },
    ];
    return events.slice(0, limit);
  }
  alertStatus(): AlertStatus[] {
    return [{ rule: 'drift', state: 'firing', model: 'mnist', value: 0.5, since: T0 }];
  }
}

const { stores } = await tempStores();
const live = await dashboardServer({ stores, monitor: new FixedMonitor(), refreshMs: 1500 });
const bare = await dashboardServer({ stores });

describe('drift severity', () => {
  it('puts p-values and distances on one scale: 1 at the threshold, larger when more drifted', () => {
    expect(severity(feature('a', { score: 0.05 }))).toBeCloseTo(1, 12);
    expect(severity(feature('a', { score: 0.0025 }))).toBeCloseTo(2, 12);
    expect(severity(feature('a', { score: 1 }))).toBe(0);
    expect(severity(feature('a', { score: 0 }))).toBeGreaterThan(100);
    const w = { method: 'wasserstein' as const, pValue: null, threshold: 0.1 };
    expect(severity(feature('a', { ...w, score: 0.1 }))).toBeCloseTo(1, 12);
    expect(severity(feature('a', { ...w, score: 0.25 }))).toBeCloseTo(2.5, 12);
    expect(severity(feature('a', { score: Number.NaN }))).toBeNull();
  });
});

describe('dashboard live API with a monitor', () => {
  it('says a monitor is there, and the refresh period', async () => {
    const info = (await live.get('/api/info')).json as InfoResponse;
    expect(info).toMatchObject({ name: 'modelauto', monitor: true, refreshMs: 1500 });
  });

  it('summarises every watched model for the overview', async () => {
    const body = (await live.get('/api/live')).json as LiveOverviewResponse;
    expect(body.available).toBe(true);
    expect(body.models).toEqual([
      {
        model: 'mnist',
        latest: { t: T0 + 5000, requestsPerSec: 12.5, p50: 0.003, p99: 0.02, errorRate: 0.1 },
        quality: { t: T0, n: 40, accuracy: 0.9, precisionMacro: 0.88, recallMacro: 0.87, f1Macro: 0.875 },
        driftShare: 0.5,
        datasetDrift: true,
      },
    ]);
    expect(body.alerts).toHaveLength(1);
  });

  it('serves the traffic and quality series of a model; a model it does not watch is a 404', async () => {
    const body = (await live.get('/api/live/mnist')).json as LiveModelResponse;
    expect(body.traffic.map((p) => p.requestsPerSec)).toEqual([10, 12.5]);
    expect(body.quality[0]!.f1Macro).toBe(0.875);
    const other = await live.get('/api/live/iris');
    expect(other.status).toBe(404);
    expect((other.json as { error: string }).error).toMatch(
      /does not watch a model named "iris"; watched: mnist/,
    );
  });

  it('ranks drifted features first, most severe first, without histograms', async () => {
    const body = (await live.get('/api/drift/mnist')).json as DriftResponse;
    const r = body.report!;
    expect(r.features.map((f) => f.feature)).toEqual(['wasser', 'ks_drift', 'plan', 'stable']);
    expect(r.features[0]!.severity).toBeCloseTo(3, 12);
    expect(r.features[1]!.severity).toBeCloseTo(Math.log(0.001) / Math.log(0.05), 12);
    expect(r).toMatchObject({
      featureCount: 4,
      driftedCount: 2,
      driftShare: 0.5,
      datasetDrift: true,
      version: 3,
    });
    expect(r.featureNames).toEqual(['stable', 'ks_drift', 'wasser', 'plan']);
    expect(r.severities[2]).toBeCloseTo(3, 12);
    expect(JSON.stringify(r.features)).not.toContain('counts');
    expect(r.prediction?.current.counts).toEqual([45, 55]);
    expect(body.history.map((h) => h.driftShare)).toEqual([0, 0.5]);

    const top = (await live.get('/api/drift/mnist?top=1')).json as DriftResponse;
    expect(top.report!.features.map((f) => f.feature)).toEqual(['wasser']);
    expect(top.report!.severities).toHaveLength(4);
    const bad = await live.get('/api/drift/mnist?top=-1');
    expect(bad.status).toBe(400);
    expect((bad.json as { error: string }).error).toMatch(/query\.top/);
  });

  it('serves one feature with its reference and current histograms', async () => {
    const body = (await live.get('/api/drift/mnist/feature?name=wasser')).json as DriftFeatureResponse;
    expect(body.feature?.reference.counts).toEqual([10, 80, 10]);
    expect(body.feature?.current.edges).toEqual([0, 10, 20, 30]);
    const pred = (await live.get('/api/drift/mnist/feature?name=prediction')).json as DriftFeatureResponse;
    expect(pred.feature?.method).toBe('chisquare');
    const missing = await live.get('/api/drift/mnist/feature?name=pixel_9');
    expect(missing.status).toBe(404);
    expect((missing.json as { error: string }).error).toMatch(/no feature named "pixel_9"/);
    expect((await live.get('/api/drift/mnist/feature')).status).toBe(400);
  });

  it('lists alert states and events newest first, messages as data', async () => {
    const body = (await live.get('/api/alerts?limit=3')).json as AlertsResponse;
    expect(body.events.map((e) => e.id)).toEqual(['b', 'c', 'a']);
    expect(body.events[1]!.message).toBe('<b>slow</b>');
    expect(body.status[0]!.state).toBe('firing');
    expect((await live.get('/api/alerts?limit=5000')).status).toBe(400);
  });
});

describe('dashboard live API without a monitor', () => {
  it('answers 200 with available: false and empty data, so the page can say so', async () => {
    expect(((await bare.get('/api/info')).json as InfoResponse).monitor).toBe(false);
    expect((await bare.get('/api/live')).json).toEqual({ available: false, models: [], alerts: [] });
    expect((await bare.get('/api/live/mnist')).json).toEqual({
      available: false,
      model: 'mnist',
      traffic: [],
      quality: [],
    });
    expect((await bare.get('/api/drift/mnist')).json).toEqual({
      available: false,
      model: 'mnist',
      report: null,
      history: [],
    });
    expect((await bare.get('/api/drift/mnist/feature?name=x')).json).toEqual({
      available: false,
      model: 'mnist',
      feature: null,
    });
    expect((await bare.get('/api/alerts')).json).toEqual({ available: false, status: [], events: [] });
  });
});
