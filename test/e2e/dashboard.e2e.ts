/**
 * The dashboard in headless Chromium against the real monitored server (`startMonitoredServer`, what
 * `modelauto serve` runs): a small MNIST model trained, exported to ONNX and registered (plus a
 * float16 candidate of it as version 2), real traffic over the Open Inference Protocol (test digits,
 * then the same digits inverted, which is drift) with ground-truth feedback, and traffic kept going
 * while the pages load. Checks that every page loads without a console error or a failed request,
 * that the live numbers are there (requests/s > 0), that the drift charts are drawn, that data is
 * shown as text (no HTML injection), and saves screenshots to artifacts/ (CI keeps them). A pipeline run
 * in progress (in the same store) and a job on a real Redis queue show on the pipelines pages.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBuiltin } from '../../src/data/builtin.js';
import { startMonitoredServer, type MonitoredServer } from '../../src/monitor/server.js';
import { openQueueMonitor } from '../../src/pipeline/executor/bullmq-status.js';
import { runExportJob } from '../../src/pipeline/export-job.js';
import { runQuantizeJob } from '../../src/pipeline/optimize-job.js';
import { runTrainJob } from '../../src/pipeline/train-job.js';
import { openPipelineStore } from '../../src/store/pipeline-open.js';
import { processOwner } from '../../src/store/pipeline-sql.js';
import { registerRun } from '../../src/store/register-run.js';
import { deletePrefix, freshPrefix, REDIS_TEST_URL } from '../pipeline/executor/redis-env.js';
import { TEST_TOKEN, call, fixtureStore } from '../serve/fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve('artifacts');
const XSS = '<img src=x onerror="window.__xss = 1">';

if (!existsSync(CHROMIUM)) {
  throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`);
}

const f = await fixtureStore();
const trained = await runTrainJob(
  {
    name: 'mnist-e2e',
    data: { source: 'mnist', limit: 2000, testLimit: 300, split: { validation: 0.1, seed: 1 } },
    model: {
      seed: 4,
      layers: [
        { type: 'flatten' },
        { type: 'dense', units: 32, activation: 'relu' },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
    },
    train: { epochs: 3, batchSize: 32, metrics: ['accuracy'] },
  },
  { store: f.stores.tracking },
);
await runExportJob(trained.run.id, { store: f.stores.tracking, format: 'onnx' });
await registerRun(f.stores.tracking, f.stores.registry, trained.run.id, 'mnist', {
  aliases: ['champion'],
  actor: 'e2e',
  description: `MNIST digits ${XSS}`,
});
const candidate = await runQuantizeJob(
  trained.run.id,
  { dtype: 'float16' },
  { store: f.stores.tracking, latencyRounds: 3 },
);
await registerRun(f.stores.tracking, f.stores.registry, candidate.candidate.runId, 'mnist', {
  parentModel: { name: 'mnist', version: 1 },
  actor: 'e2e',
});
await f.stores.registry.setAlias('mnist', 'challenger', 2, { actor: 'e2e', reason: `smaller ${XSS}` });

// A retraining pipeline half way: train finished (its run is the one above), evaluate running.
const pipelines = await openPipelineStore(f.dir);
afterAll(() => pipelines.close());
const pipelineRun = await pipelines.createRun({
  name: 'retrain-e2e',
  spec: { name: 'retrain-e2e' },
  params: { epochs: 5, trigger: `mnist-drift fired on mnist ${XSS}` },
  file: join(f.dir, 'retrain.yaml'),
  baseDir: f.dir,
  executor: 'bullmq',
  codeVersion: '0.1.0',
  owner: processOwner(),
  steps: [
    { stepId: 'train', uses: 'train', needs: [] },
    { stepId: 'evaluate', uses: 'evaluate', needs: ['train'] },
    { stepId: 'gate', uses: 'gate', needs: ['evaluate'] },
  ],
});
await pipelines.updateStep(pipelineRun.id, 'train', {
  status: 'finished',
  outputs: { run_id: trained.run.id, test_accuracy: 0.9 },
  attempt: 1,
  startTime: Date.now() - 5000,
  endTime: Date.now() - 1000,
});
await pipelines.updateStep(pipelineRun.id, 'evaluate', {
  status: 'running',
  progress: 0.4,
  message: 'batch 2/5',
  attempt: 1,
  taskId: `${pipelineRun.id}:evaluate`,
  startTime: Date.now() - 1000,
});
await pipelines.appendLogs(pipelineRun.id, 'train', ['epoch 1/5 loss 0.51', `note ${XSS}`]);
// The step's job, waiting on a real Redis queue for a worker.
const queuePrefix = freshPrefix();
const jobs = new Queue('modelauto', { connection: { url: REDIS_TEST_URL }, prefix: queuePrefix });
await jobs.add(
  'pipeline.step',
  { id: `${pipelineRun.id}:evaluate`, kind: 'pipeline.step', input: {}, store: f.dir },
  { jobId: `${pipelineRun.id}-evaluate`, attempts: 3 },
);
const queueMonitor = await openQueueMonitor({ redis: REDIS_TEST_URL, prefix: queuePrefix });
afterAll(async () => {
  await queueMonitor.close();
  await jobs.close();
  await deletePrefix(queuePrefix);
});

const server: MonitoredServer = await startMonitoredServer({
  stores: f.stores,
  host: '127.0.0.1',
  port: 0,
  pollIntervalMs: 0,
  models: ['mnist'],
  adminToken: TEST_TOKEN,
  dashboard: { refreshMs: 1000, queue: queueMonitor },
  monitor: {
    predictionLog: { flushInterval: '20ms' },
    traffic: { interval: '1s' },
    quality: { windowRows: 200, interval: '1s' },
    drift: { windowRows: 200, minRows: 100, interval: '1s' },
    alerts: {
      interval: '1s',
      rules: [
        { name: 'mnist-drift', metric: 'drift_share', model: 'mnist', op: '>', threshold: 0.3 },
        { name: 'mnist-accuracy', metric: 'live_accuracy', model: 'mnist', op: '<', threshold: 0.8 },
      ],
    },
  },
});
afterAll(() => server.close());

// Real test digits, raw pixels 0-255 as clients send them.
const mnist = await loadBuiltin('mnist', { testLimit: 400 });
const test = mnist.predefinedTest!;
if (test.features.kind !== 'tensor' || test.target.kind !== 'classification')
  throw new Error('unexpected MNIST form');
const pixelsOf = (i: number, inverted: boolean): number[] => {
  const data = test.features.kind === 'tensor' ? test.features.data : new Uint8Array();
  return Array.from(data.subarray(i * 784, (i + 1) * 784), (v) => (inverted ? 255 - v : v));
};
const labelOf = (i: number): string => {
  const t = test.target;
  return t.kind === 'classification' ? (t.classes[t.y[i]!] as string) : '';
};

/** Sends digits start..end-1 (8 at a time) and their true labels as feedback. */
async function traffic(start: number, end: number, inverted: boolean): Promise<void> {
  const labels: { request_id: string; label: string }[] = [];
  for (let i = start; i < end; i += 8) {
    const batch = Array.from({ length: Math.min(8, end - i) }, (_, k) => i + k);
    await Promise.all(
      batch.map(async (j) => {
        const r = await call(server, 'POST', '/v2/models/mnist/infer', {
          inputs: [
            { name: 'input', shape: [1, 784], datatype: 'FP32', data: pixelsOf(j % test.n, inverted) },
          ],
        });
        expect(r.status).toBe(200);
        labels.push({ request_id: r.headers.get('x-request-id') as string, label: labelOf(j % test.n) });
      }),
    );
  }
  const fb = await call(server, 'POST', '/v1/models/mnist/feedback', { labels });
  expect(fb.status).toBe(200);
}

/** Keeps shifted traffic flowing while the pages are looked at, so requests/s stays above zero. */
let flowing = true;
let flow: Promise<void> = Promise.resolve();
function keepFlowing(): void {
  flow = (async () => {
    let i = 0;
    while (flowing) {
      await traffic(i, i + 8, true);
      i = (i + 8) % 400;
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
}

let context: BrowserContext;
let page: Page;
const problems: string[] = [];
const userDataDir = mkdtempSync(join(tmpdir(), 'modelauto-chromium-'));

beforeAll(async () => {
  await traffic(0, 300, false);
  await traffic(0, 300, true);
  keepFlowing();
  mkdirSync(ARTIFACTS, { recursive: true });
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1440, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // Requests of a page being left are cancelled by the browser, which is not a failure.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED')
      problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
});

afterAll(async () => {
  flowing = false;
  await flow;
  await context?.close();
  rmSync(userDataDir, { recursive: true, force: true });
});

/** The number a KPI tile shows (e.g. "12.5" → 12.5, "40%" → 40). */
async function kpiNumber(testid: string): Promise<number> {
  const text = (await page.getByTestId(testid).textContent()) ?? '';
  return Number.parseFloat(text.replace(/,/g, ''));
}

/** How many pixels of the chart's canvas are drawn (not transparent or white). */
async function drawnPixels(selector: string): Promise<number> {
  return page.evaluate<number>(`(() => {
    const canvas = document.querySelector(${JSON.stringify(selector)});
    if (!canvas || canvas.width === 0 || canvas.height === 0) return 0;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let drawn = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 0 && !(data[i] > 245 && data[i + 1] > 245 && data[i + 2] > 245)) drawn++;
    }
    return drawn;
  })()`);
}

describe('dashboard in Chromium', () => {
  it('overview: headline numbers, the model with its aliases, live traffic', async () => {
    await page.goto(server.url + '/');
    await expect.poll(() => kpiNumber('kpi-rps-total'), { timeout: 20_000 }).toBeGreaterThan(0);
    const models = page.getByTestId('models-table');
    await expect.poll(() => models.textContent()).toContain('mnist');
    expect(await models.textContent()).toContain('champion');
    await page.waitForSelector('[data-testid=chart-overview-rps] canvas');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  });

  it('live: requests/s, latency, error rate and live accuracy of the served model', async () => {
    await page.goto(server.url + '/#/live/mnist');
    await expect.poll(() => kpiNumber('kpi-rps'), { timeout: 20_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('kpi-p99').textContent()).toMatch(/\d+(\.\d+)? (µs|ms|s)$/);
    await expect.poll(() => kpiNumber('kpi-accuracy'), { timeout: 20_000 }).toBeGreaterThan(0);
    for (const id of ['chart-rps', 'chart-latency', 'chart-errors', 'chart-quality']) {
      await expect.poll(() => drawnPixels(`[data-testid=${id}] canvas`)).toBeGreaterThan(500);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-live.png'), fullPage: true });
  });

  it('drift: inverted digits drift; the features are ranked and the histograms drawn', async () => {
    await page.goto(server.url + '/#/drift/mnist');
    await expect.poll(() => kpiNumber('kpi-drift-share'), { timeout: 30_000 }).toBeGreaterThan(30);
    const rows = page.locator('[data-testid=drift-table] tbody tr');
    await expect.poll(() => rows.count()).toBeGreaterThan(10);
    expect(await rows.first().textContent()).toContain('drift');
    await expect.poll(() => drawnPixels('[data-testid=drift-histogram] canvas')).toBeGreaterThan(1000);
    await expect.poll(() => drawnPixels('[data-testid=prediction-histogram] canvas')).toBeGreaterThan(1000);
    await expect.poll(() => drawnPixels('[data-testid=feature-map] canvas')).toBeGreaterThan(1000);
    // Picking another feature draws its histogram.
    const second = rows.nth(1);
    const name = ((await second.locator('td strong').first().textContent()) ?? '').trim();
    expect(name).toMatch(/^px_\d+$/);
    await second.click();
    await expect
      .poll(() => page.locator('.card-title', { hasText: 'Reference vs current' }).textContent())
      .toContain(name);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-drift.png'), fullPage: true });
  });

  it('alerts: the drift and accuracy rules fire', async () => {
    await page.goto(server.url + '/#/alerts');
    const status = page.getByTestId('alert-status');
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toMatch(/mnist-drift.*firing/);
    await expect.poll(() => page.getByTestId('alert-events').textContent()).toContain('mnist-accuracy');
  });

  it('model and version: aliases with their history, evaluation and lineage; data shown as text', async () => {
    await page.goto(server.url + '/#/models/mnist');
    const history = page.getByTestId('alias-history');
    await expect.poll(() => history.textContent()).toContain(`smaller ${XSS}`);
    await page.goto(server.url + '/#/models/mnist/versions/1');
    await expect.poll(() => page.getByTestId('lineage-table').textContent()).toContain('trained source');
    expect(await page.getByTestId('lineage-table').textContent()).toContain('quantize');
    expect(await page.locator('.page-sub').textContent()).toContain(XSS);
    expect(await page.locator('[data-testid=confusion-matrix] td').count()).toBe(100);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    expect(await page.locator('img[src=x]').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-version.png'), fullPage: true });
  });

  it('run: training curves per epoch', async () => {
    await page.goto(`${server.url}/#/runs/${trained.run.id}`);
    await expect.poll(() => drawnPixels('[data-testid=curve-loss] canvas')).toBeGreaterThan(500);
    expect(await page.getByTestId('curve-loss').textContent()).toContain('val_loss');
  });

  it('pipelines: runs with their steps’ progress, the job queue, a run’s steps and growing log', async () => {
    await page.goto(server.url + '/#/pipelines');
    const runs = page.getByTestId('pipeline-runs');
    await expect.poll(() => runs.textContent()).toContain('retrain-e2e');
    expect(await runs.textContent()).toContain('1/3 steps');
    expect(await page.getByTestId('pipeline-trigger').textContent()).toBe(
      `mnist-drift fired on mnist ${XSS}`,
    );
    const queueJobs = page.getByTestId('queue-jobs');
    await expect.poll(() => queueJobs.textContent()).toContain(`${pipelineRun.id}:evaluate`);
    expect(await queueJobs.textContent()).toContain('waiting');
    await page.goto(`${server.url}/#/pipelines/${pipelineRun.id}`);
    const steps = page.getByTestId('pipeline-steps');
    await expect.poll(() => steps.textContent()).toContain('batch 2/5');
    expect(await steps.textContent()).toMatch(/evaluate.*running.*40%/);
    const log = page.getByTestId('pipeline-log');
    await expect.poll(() => log.textContent()).toContain(`note ${XSS}`);
    await pipelines.appendLogs(pipelineRun.id, 'evaluate', ['evaluated 300 rows']);
    await pipelines.updateStep(pipelineRun.id, 'evaluate', { progress: 0.8, message: 'batch 4/5' });
    await expect.poll(() => log.textContent(), { timeout: 10_000 }).toContain('evaluated 300 rows');
    await expect.poll(() => steps.textContent(), { timeout: 10_000 }).toContain('batch 4/5');
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-pipeline.png'), fullPage: true });
  });

  it('works without the admin token and never shows it', async () => {
    const seen: string[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/api/')) seen.push(r.url());
    });
    await page.goto(server.url + '/');
    await expect.poll(() => seen.length).toBeGreaterThan(3);
    expect(await page.content()).not.toContain(TEST_TOKEN);
    for (const path of ['/api/info', '/api/models', '/api/live', '/api/alerts']) {
      const r = await call(server, 'GET', path);
      expect(r.status, path).toBe(200);
      expect(r.text, path).not.toContain(TEST_TOKEN);
    }
    // The admin API next door still wants the token.
    expect((await call(server, 'GET', '/admin/models')).status).toBe(401);
  });

  it('loaded every page without a console error, page error or failed request', () => {
    expect(problems).toEqual([]);
  });
});
