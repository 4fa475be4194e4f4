/**
 * Live drift and live quality on a served MNIST model with real test digits: unshifted traffic shows
 * no dataset drift, inverted digits (255 - pixel) do, in the read model, in /metrics and through an
 * alert rule whose webhook (a real HTTP receiver) gets the firing event; labelled feedback shows the
 * accuracy drop.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBuiltin } from '../../../src/data/builtin.js';
import type { Dataset } from '../../../src/data/types.js';
import { startMonitoredServer } from '../../../src/monitor/server.js';
import { runExportJob } from '../../../src/pipeline/export-job.js';
import { runTrainJob } from '../../../src/pipeline/train-job.js';
import { registerRun } from '../../../src/store/register-run.js';
import { call, fixtureStore } from '../../serve/fixtures.js';
import { parseExposition, sample } from './exposition.js';

const WINDOW = 150;

const hooks: { body: unknown; event: string | undefined }[] = [];
const receiver = createServer((req: IncomingMessage, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    hooks.push({
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown,
      event: req.headers['x-modelauto-event'] as string | undefined,
    });
    res.writeHead(200).end('ok');
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

const f = await fixtureStore();
// Softmax regression on 2,000 digits: small and quick, but clearly better than chance.
const trained = await runTrainJob(
  {
    name: 'mnist-drift',
    data: { source: 'mnist', limit: 2000, testLimit: 20, split: { validation: 0, seed: 1 } },
    model: { seed: 1, layers: [{ type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }] },
    train: { epochs: 3, batchSize: 32, seed: 1 },
  },
  { store: f.stores.tracking },
);
await runExportJob(trained.run.id, { store: f.stores.tracking, format: 'onnx' });
await registerRun(f.stores.tracking, f.stores.registry, trained.run.id, 'mnist', {
  aliases: ['champion'],
  actor: 'test',
});
const server = await startMonitoredServer({
  stores: f.stores,
  host: '127.0.0.1',
  port: 0,
  pollIntervalMs: 0,
  dashboard: false,
  monitor: {
    quality: { windowRows: WINDOW, interval: '1h' },
    // KS per pixel: with a training set over 1,000 rows the default rule picks Wasserstein distances,
    // which flag a third of the pixels between MNIST's own train and test digits.
    drift: {
      windowRows: WINDOW,
      minRows: 100,
      interval: '1h',
      topFeatures: 5,
      options: { numericMethod: 'ks' },
    },
    alerts: {
      interval: '1h',
      rules: [
        {
          name: 'mnist-drift',
          metric: 'drift_share',
          model: 'mnist',
          op: '>',
          threshold: 0.5,
          webhooks: [hookUrl],
        },
      ],
    },
  },
});
afterAll(() => server.close());

const mnist = (await loadBuiltin('mnist', { limit: 1, testLimit: 2 * WINDOW })).predefinedTest as Dataset;
const images = mnist.features.kind === 'tensor' ? mnist.features.data : new Uint8Array();
const target = mnist.target;
const truth = target.kind === 'classification' ? Array.from(target.y, (k) => target.classes[k] ?? '') : [];

/** Sends digits [from, to) in requests of 10 rows; `invert` shifts them; returns the request ids. */
async function traffic(from: number, to: number, invert: boolean): Promise<string[]> {
  const ids: string[] = [];
  for (let start = from; start < to; start += 10) {
    const rows = Math.min(10, to - start);
    const data = Array.from(images.subarray(start * 784, (start + rows) * 784), (v) =>
      invert ? 255 - v : v,
    );
    const r = await call(server, 'POST', '/v2/models/mnist/infer', {
      id: `${invert ? 'inv' : 'raw'}-${start}`,
      inputs: [{ name: 'input', shape: [rows, 784], datatype: 'UINT8', data }],
    });
    expect(r.status).toBe(200);
    ids.push(`${invert ? 'inv' : 'raw'}-${start}`);
  }
  return ids;
}

async function feedback(ids: string[], from: number): Promise<void> {
  const labels = ids.flatMap((id, i) =>
    Array.from({ length: 10 }, (_, row) => ({ request_id: id, row, label: truth[from + i * 10 + row] })),
  );
  const r = await call(server, 'POST', '/v1/models/mnist/feedback', { labels });
  expect(r.status).toBe(200);
}

async function metrics() {
  return parseExposition((await call(server, 'GET', '/metrics')).text);
}

describe('live drift and quality', () => {
  let baseline = 0;

  it('unshifted digits: no dataset drift, nothing fires', async () => {
    const ids = await traffic(0, WINDOW, false);
    const [report] = await server.monitor.runDrift('mnist');
    expect(report).toBeDefined();
    expect(report).toMatchObject({ model: 'mnist', version: 1, currentRows: WINDOW, datasetDrift: false });
    expect(report?.driftShare).toBeLessThan(0.2);
    expect(report?.windowStart).toBeLessThanOrEqual(report?.windowEnd ?? 0);
    expect(server.monitor.drift('mnist')).toEqual(report);
    expect(server.monitor.driftHistory('mnist')).toHaveLength(1);
    const m = await metrics();
    expect(sample(m, 'modelauto_dataset_drift', { model: 'mnist', version: '1' })).toBe(0);
    expect(sample(m, 'modelauto_drift_share', { model: 'mnist', version: '1' })).toBe(report?.driftShare);
    expect(sample(m, 'modelauto_drift_window_rows', { model: 'mnist', version: '1' })).toBe(WINDOW);
    const features = m.samples.filter((s) => s.name === 'modelauto_feature_drift_score');
    expect(features.length).toBe(5);
    expect(await server.monitor.evaluateAlerts()).toEqual([]);

    await feedback(ids, 0);
    baseline = server.monitor.quality('mnist').at(-1)?.accuracy ?? 0;
    expect(server.monitor.quality('mnist').at(-1)?.n).toBe(WINDOW);
    expect(baseline).toBeGreaterThan(0.6);
  });

  it('inverted digits: dataset drift, prediction drift, the alert fires and its webhook is called', async () => {
    const ids = await traffic(WINDOW, 2 * WINDOW, true);
    const [report] = await server.monitor.runDrift('mnist');
    expect(report?.datasetDrift).toBe(true);
    expect(report?.driftShare).toBeGreaterThan(0.5);
    expect(report?.prediction?.drifted).toBe(true);
    expect(server.monitor.driftHistory('mnist').map((h) => h.datasetDrift)).toEqual([false, true]);
    const m = await metrics();
    expect(sample(m, 'modelauto_dataset_drift', { model: 'mnist', version: '1' })).toBe(1);
    const features = m.samples.filter((s) => s.name === 'modelauto_feature_drift_score');
    // Still capped at topFeatures series, and now all of them drifted ones.
    expect(features.length).toBe(5);
    const drifted = new Set(report?.features.filter((x) => x.drifted).map((x) => x.feature));
    expect(features.every((s) => drifted.has(s.labels['feature'] ?? ''))).toBe(true);

    const events = (await server.monitor.evaluateAlerts()) as { kind: string; rule: string }[];
    expect(events.map((e) => [e.rule, e.kind])).toEqual([['mnist-drift', 'firing']]);
    expect(server.monitor.alertStatus()).toMatchObject([
      { rule: 'mnist-drift', state: 'firing', model: 'mnist' },
    ]);
    expect((await server.monitor.alerts(10)).map((e) => e.kind)).toEqual(['firing']);
    const deadline = Date.now() + 10_000;
    while (hooks.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(hooks).toHaveLength(1);
    expect(hooks[0]?.body).toMatchObject({ status: 'firing', rule: 'mnist-drift', model: 'mnist' });

    await feedback(ids, WINDOW);
    const shifted = server.monitor.quality('mnist').at(-1);
    expect(shifted?.n).toBe(WINDOW);
    expect(shifted?.accuracy).toBeLessThan(baseline - 0.3);
    expect(sample(await metrics(), 'modelauto_live_accuracy', { model: 'mnist', version: '1' })).toBe(
      shifted?.accuracy,
    );
  });
});

describe('after a restart', () => {
  it('the drift window is refilled from the prediction log', async () => {
    const again = await startMonitoredServer({
      stores: f.stores,
      host: '127.0.0.1',
      port: 0,
      pollIntervalMs: 0,
      dashboard: false,
      monitor: {
        drift: { windowRows: WINDOW, minRows: 100, interval: '1h', options: { numericMethod: 'ks' } },
      },
    });
    try {
      const [report] = await again.monitor.runDrift('mnist');
      // The last window's worth of logged requests: the inverted digits.
      expect(report).toMatchObject({ currentRows: WINDOW, datasetDrift: true });
    } finally {
      await again.close();
    }
  });

  it('a rule that starts a pipeline needs a runner, said before the server starts', async () => {
    await expect(
      startMonitoredServer({
        stores: f.stores,
        port: 0,
        monitor: {
          alerts: {
            rules: [
              {
                name: 'retrain',
                metric: 'drift_share',
                op: '>',
                threshold: 0.5,
                run: { pipeline: 'p.yaml' },
              },
            ],
          },
        },
      }),
    ).rejects.toThrow(/alerts\.rules\[0\]\.run: rule "retrain" runs a pipeline when it fires/);
  });
});
