// The monitoring demo (issue 7's acceptance): a served MNIST model gets normal digits, then one drift
// window of shifted digits (inverted by default, or rotated), with their labels as feedback. Within
// that window the dashboard API, /metrics and the alert webhook (a local receiver) all show the drift
// and the live-accuracy drop, while the normal traffic raised nothing. Prints what each one showed and
// exits 1 if any of them did not.
//
//   npm run build && node scripts/demo-drift.mjs [--shift invert|rotate] [--keep] [--store dir]
//
// --keep leaves the server running (Ctrl-C stops it) so you can open the dashboard it prints.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  mnistTestDigits,
  observeMonitor,
  openStores,
  registerRun,
  runExportJob,
  runTrainJob,
  sendTraffic,
  ServerClient,
  shiftImages,
  startMonitoredServer,
  startWebhookReceiver,
} from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    shift: { type: 'string', default: 'invert' },
    keep: { type: 'boolean', default: false },
    store: { type: 'string' },
  },
});
if (!['invert', 'rotate'].includes(args.shift)) {
  console.error(`--shift: expected invert or rotate, got ${args.shift}`);
  process.exit(2);
}
const WINDOW = 500;
const DRIFT_SHARE = 0.3;
const ACCURACY = 0.7;
const started = Date.now();
const say = (line) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`);

const dir = args.store ?? mkdtempSync(join(tmpdir(), 'modelauto-demo-'));
const stores = await openStores(dir);
const hooks = await startWebhookReceiver();
let server;
try {
  say(`store ${dir}: training a small MNIST model (10,000 digits, 2 epochs)`);
  const trained = await runTrainJob(
    {
      name: 'mnist-demo',
      data: { source: 'mnist', limit: 10_000, split: { validation: 0.1, seed: 42 } },
      model: {
        seed: 7,
        layers: [
          { type: 'flatten' },
          { type: 'dense', units: 128, activation: 'relu' },
          { type: 'dense', units: 10, activation: 'softmax' },
        ],
      },
      train: { epochs: 2, batchSize: 32 },
    },
    { store: stores.tracking },
  );
  await runExportJob(trained.run.id, { store: stores.tracking, format: 'onnx' });
  const version = await registerRun(stores.tracking, stores.registry, trained.run.id, 'mnist', {
    aliases: ['champion'],
    reason: 'the drift demo',
  });
  say(
    `mnist:${version.version} @champion, test accuracy ${(100 * trained.test.scalars.accuracy).toFixed(2)}%`,
  );

  server = await startMonitoredServer({
    stores,
    store: dir,
    models: ['mnist'],
    port: 0,
    pollIntervalMs: 0,
    monitor: {
      drift: { windowRows: WINDOW, minRows: 200, interval: '2s', options: { numericMethod: 'ks' } },
      quality: { windowRows: 200, interval: '2s' },
      alerts: {
        interval: '1s',
        rules: [
          {
            name: 'mnist-drift',
            metric: 'drift_share',
            model: 'mnist',
            op: '>',
            threshold: DRIFT_SHARE,
            webhooks: [hooks.url],
          },
          {
            name: 'mnist-live-accuracy',
            metric: 'live_accuracy',
            model: 'mnist',
            op: '<',
            threshold: ACCURACY,
            window: '200 rows',
            webhooks: [hooks.url],
          },
        ],
      },
    },
  });
  say(`serving at ${server.url} — dashboard ${server.url}/#/drift/mnist, metrics ${server.url}/metrics`);
  const client = new ServerClient(server.url);

  /** Sends one window of digits with feedback and reads what the three views show afterwards. */
  async function phase(name, images) {
    const before = hooks.received.length;
    const t = await sendTraffic(client, { model: 'mnist', images, batch: 10, feedback: true });
    const seen = await observeMonitor(client, 'mnist', {
      since: t.startedAt,
      until: t.endedAt,
      settleMs: 2500,
    });
    const metrics = await client.metrics();
    const metric = (n) =>
      metrics.find(
        (s) => s.name === n && s.labels.model === 'mnist' && s.labels.version === String(version.version),
      )?.value;
    const dashboard = await client.drift('mnist');
    const alerts = await client.alerts(20);
    const webhooks = hooks.received.slice(before).map((h) => `${h.body.status} ${h.body.rule}`);
    say(`${name}: ${images.description}`);
    say(
      `  client:    accuracy ${(100 * t.accuracy).toFixed(1)}% on ${t.rows} rows, ${t.feedbackRows} labels sent`,
    );
    say(
      `  /metrics:  modelauto_drift_share ${metric('modelauto_drift_share')?.toFixed(3)}, modelauto_dataset_drift ${metric('modelauto_dataset_drift')}, ` +
        `modelauto_live_accuracy ${metric('modelauto_live_accuracy')?.toFixed(3)}`,
    );
    say(
      `  dashboard: drift share ${dashboard.report?.driftShare.toFixed(3)} over ${dashboard.report?.currentRows} rows ` +
        `(${dashboard.report?.driftedCount}/${dashboard.report?.featureCount} pixels drifted), firing: ` +
        `${
          alerts.status
            .filter((s) => s.state === 'firing')
            .map((s) => s.rule)
            .join(', ') || 'none'
        }`,
    );
    say(`  webhooks:  ${webhooks.join('; ') || 'none'}`);
    return {
      metricsDrift: metric('modelauto_drift_share'),
      metricsAccuracy: metric('modelauto_live_accuracy'),
      dashboardDrift: dashboard.report?.driftShare,
      firing: alerts.status.filter((s) => s.state === 'firing').map((s) => s.rule),
      webhooks,
      seen,
    };
  }

  const normal = await phase('normal traffic', await mnistTestDigits(0, WINDOW));
  const shift = args.shift === 'invert' ? { kind: 'invert', angle: 90 } : { kind: 'rotate', angle: 90 };
  const shifted = await phase('shifted traffic', shiftImages(await mnistTestDigits(WINDOW, WINDOW), shift));

  const checks = [
    ['normal: nothing fires (dashboard)', normal.firing.length === 0],
    ['normal: no webhook', normal.webhooks.length === 0],
    ['normal: /metrics drift share below the rule', normal.metricsDrift <= DRIFT_SHARE],
    ['shifted: /metrics drift share above the rule', shifted.metricsDrift > DRIFT_SHARE],
    ['shifted: /metrics live accuracy below the rule', shifted.metricsAccuracy < ACCURACY],
    ['shifted: dashboard shows the drift', shifted.dashboardDrift > DRIFT_SHARE],
    [
      'shifted: dashboard shows both alerts firing',
      ['mnist-drift', 'mnist-live-accuracy'].every((r) => shifted.firing.includes(r)),
    ],
    [
      'shifted: webhooks received for both alerts',
      ['mnist-drift', 'mnist-live-accuracy'].every((r) => shifted.webhooks.includes(`firing ${r}`)),
    ],
  ];
  for (const [what, ok] of checks) say(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  const failed = checks.filter(([, ok]) => !ok).length;
  say(
    failed
      ? `${failed} check(s) failed`
      : 'the drift and the accuracy drop showed within one window, everywhere',
  );
  process.exitCode = failed ? 1 : 0;

  if (args.keep) {
    say(`the server keeps running at ${server.url}/ — Ctrl-C stops it`);
    await new Promise((resolve) => process.once('SIGINT', resolve));
  }
} finally {
  await server?.close();
  await hooks.close();
  await stores.close();
  if (!args.store) rmSync(dir, { recursive: true, force: true });
}
