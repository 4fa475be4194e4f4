/**
 * The monitored server end to end, on a real port with a real (tiny) MNIST model: request ids, the
 * Prometheus exposition (parsed, and checked by promtool), the prediction log, feedback joins (unknown
 * id, duplicates, rows), live quality over count and time windows with an injected clock, traffic
 * snapshots, and the CLI's feedback command against the same store.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli/program.js';
import { ModelautoError } from '../../../src/core/errors.js';
import { submitFeedback } from '../../../src/monitor/live/submit-feedback.js';
import { decodeLoggedTensor, type LoggedInput } from '../../../src/monitor/live/record.js';
import { startMonitoredServer, type MonitoredServer } from '../../../src/monitor/server.js';
import { openPredictionLog } from '../../../src/store/prediction-log-open.js';
import { call, fixtureStore, pixels, registerMnist } from '../../serve/fixtures.js';
import { parseExposition, sample } from './exposition.js';

const PROMTOOL = '/usr/bin/promtool';

const f = await fixtureStore();
await registerMnist(f, 1, { aliases: ['champion'] });

let clock = 1_000_000;
const server: MonitoredServer = await startMonitoredServer({
  stores: f.stores,
  host: '127.0.0.1',
  port: 0,
  pollIntervalMs: 0,
  dashboard: false,
  now: () => clock,
  monitor: {
    predictionLog: { flushInterval: '20ms' },
    quality: { windowRows: 4, windowAge: '1m', interval: '1h' },
    traffic: { interval: '1h' },
    drift: { interval: '1h' },
  },
});
afterAll(() => server.close());

const oip = (data: number[], id?: string, rows = 1) => ({
  ...(id !== undefined ? { id } : {}),
  inputs: [{ name: 'input', shape: [rows, 784], datatype: 'FP32', data }],
});

/** Sends one OIP request and returns its id and the predicted class (argmax of the scores). */
async function predict(seed: number, id?: string): Promise<{ id: string; predicted: string }> {
  const r = await call(server, 'POST', '/v2/models/mnist/infer', oip(pixels(seed), id));
  expect(r.status).toBe(200);
  const scores = (r.json as { outputs: { data: number[] }[] }).outputs[0]?.data ?? [];
  const best = scores.indexOf(Math.max(...scores));
  return { id: r.headers.get('x-request-id') as string, predicted: String(best) };
}

async function metrics(): Promise<string> {
  const r = await call(server, 'GET', '/metrics');
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return r.text;
}

describe('request ids', () => {
  it('OIP: the body id is echoed in the response and the x-request-id header', async () => {
    const r = await call(server, 'POST', '/v2/models/mnist/infer', oip(pixels(1), 'client-7'));
    expect(r.status).toBe(200);
    expect((r.json as { id: string }).id).toBe('client-7');
    expect(r.headers.get('x-request-id')).toBe('client-7');
  });

  it('the x-request-id header is taken, else a UUID is generated (and given as OIP id)', async () => {
    const tf = await call(
      server,
      'POST',
      '/v1/models/mnist:predict',
      { instances: [pixels(2)] },
      { 'x-request-id': 'hdr-1' },
    );
    expect(tf.status).toBe(200);
    expect(tf.headers.get('x-request-id')).toBe('hdr-1');
    const gen = await call(server, 'POST', '/v2/models/mnist/infer', oip(pixels(3)));
    const id = gen.headers.get('x-request-id') as string;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect((gen.json as { id: string }).id).toBe(id);
    // Failures carry the id too.
    const bad = await call(
      server,
      'POST',
      '/v2/models/mnist/infer',
      { inputs: [] },
      { 'x-request-id': 'bad-1' },
    );
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-request-id')).toBe('bad-1');
  });

  it('refuses a request id that cannot be stored', async () => {
    const r = await call(server, 'POST', '/v2/models/mnist/infer', oip(pixels(1)), {
      'x-request-id': 'x'.repeat(300),
    });
    expect(r.status).toBe(400);
    expect((r.json as { error: string }).error).toMatch(
      /x-request-id: expected a request id of 1-256 characters/,
    );
  });
});

describe('/metrics', () => {
  it('counts requests by model, version, protocol and status, with histograms and process metrics', async () => {
    await call(server, 'POST', '/v2/models/nope/infer', oip(pixels(1)));
    for (let i = 0; i < 3; i++) await predict(10 + i);
    const text = await metrics();
    const m = parseExposition(text);
    expect(
      sample(m, 'modelauto_requests_total', { model: 'mnist', version: '1', protocol: 'oip', status: '200' }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      sample(m, 'modelauto_requests_total', {
        model: 'mnist',
        version: '1',
        protocol: 'tfserving',
        status: '200',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(m, 'modelauto_requests_total', {
        model: 'mnist',
        version: 'none',
        protocol: 'oip',
        status: '400',
      }),
    ).toBeGreaterThanOrEqual(1);
    // A model that is not served never becomes a label value.
    expect(text).not.toContain('model="nope"');
    const count = sample(m, 'modelauto_request_duration_seconds_count', {
      model: 'mnist',
      version: '1',
      protocol: 'oip',
    });
    expect(count).toBeGreaterThanOrEqual(3);
    expect(
      sample(m, 'modelauto_request_duration_seconds_bucket', {
        model: 'mnist',
        version: '1',
        protocol: 'oip',
        le: '+Inf',
      }),
    ).toBe(count);
    expect(
      sample(m, 'modelauto_inference_duration_seconds_count', { model: 'mnist', version: '1' }),
    ).toBeGreaterThanOrEqual(4);
    expect(sample(m, 'modelauto_batch_size_count', { model: 'mnist', version: '1' })).toBeGreaterThanOrEqual(
      4,
    );
    expect(sample(m, 'modelauto_batch_size_sum', { model: 'mnist', version: '1' })).toBeGreaterThanOrEqual(4);
    expect(sample(m, 'modelauto_queue_rows', { model: 'mnist', version: '1' })).toBe(0);
    const predicted = m.samples.filter(
      (s) => s.name === 'modelauto_predictions_total' && s.labels['model'] === 'mnist',
    );
    expect(predicted.reduce((a, s) => a + s.value, 0)).toBeGreaterThanOrEqual(4);
    expect(predicted.every((s) => /^[0-9]$/.test(s.labels['class'] ?? ''))).toBe(true);
    expect(sample(m, 'modelauto_prediction_log_records_total', { outcome: 'failed' })).toBe(0);
    expect(m.types.get('modelauto_process_cpu_seconds_total')).toBe('counter');
    expect(m.types.get('modelauto_nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect([...m.types.keys()].every((name) => name.startsWith('modelauto_'))).toBe(true);
  });

  it('passes promtool check metrics', async (ctx) => {
    if (!existsSync(PROMTOOL)) {
      if (process.env['CI']) throw new Error(`${PROMTOOL} is missing: install Debian's prometheus package`);
      ctx.skip();
    }
    const text = await metrics();
    const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`.trim(), text).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('prediction log and feedback', () => {
  it('logs each answered request with its inputs stored compactly', async () => {
    const { id, predicted } = await predict(21, 'log-check');
    await server.monitor.flushPredictionLog();
    const log = await openPredictionLog(f.dir);
    try {
      const rec = await log.get('mnist', id);
      expect(rec).toMatchObject({
        requestId: 'log-check',
        version: 1,
        rows: 1,
        protocol: 'oip',
        predicted: [predicted],
      });
      expect(rec?.time).toBe(clock);
      const input = (rec?.inputs as Record<string, LoggedInput>)['input'] as LoggedInput;
      expect(input).toMatchObject({ kind: 'tensor', dtype: 'uint8', shape: [1, 28, 28, 1] });
      expect(Array.from(decodeLoggedTensor(input) ?? [])).toEqual(pixels(21));
    } finally {
      await log.close();
    }
  });

  it('an unknown request id is a 404 naming it, and nothing of the batch is recorded', async () => {
    const { id } = await predict(30);
    const r = await call(server, 'POST', '/v1/models/mnist/feedback', {
      labels: [
        { request_id: id, label: '3' },
        { request_id: 'never-sent-42', label: '1' },
      ],
    });
    expect(r.status).toBe(404);
    expect((r.json as { error: string }).error).toContain('"never-sent-42"');
    const log = await openPredictionLog(f.dir);
    try {
      expect((await log.labelled('mnist', { limit: 100 })).some((l) => l.requestId === id)).toBe(false);
    } finally {
      await log.close();
    }
  });

  it('validates the body, the class and the row', async () => {
    const { id } = await predict(31);
    const bad = async (body: unknown, pattern: RegExp) => {
      const r = await call(server, 'POST', '/v1/models/mnist/feedback', body);
      expect(r.status).toBe(400);
      expect((r.json as { error: string }).error).toMatch(pattern);
    };
    await bad({ labels: [] }, /body\.labels: expected at least one label/);
    await bad({ labels: [{ request_id: id }] }, /body\.labels\[0\]\.label/);
    await bad(
      { labels: [{ request_id: id, label: '3', extra: 1 }] },
      /body\.labels\[0\]\.extra: unknown key/,
    );
    await bad(
      { labels: [{ request_id: id, label: 'seven' }] },
      /"seven" is not one of the classes of mnist:1/,
    );
    await bad({ labels: [{ request_id: id, label: '7', row: 1 }] }, /row 1 is out of range/);
  });

  it('joins labels: numbers as labels, rows of multi-row requests, duplicates last-wins', async () => {
    clock += 1_000;
    const multi = await call(
      server,
      'POST',
      '/v2/models/mnist/infer',
      oip([...pixels(40), ...pixels(41)], 'multi-1', 2),
    );
    expect(multi.status).toBe(200);
    const r = await call(server, 'POST', '/v1/models/mnist/feedback', {
      labels: [
        { request_id: 'multi-1', row: 1, label: 4 },
        { request_id: 'multi-1', row: 1, label: '5' },
      ],
    });
    expect(r.status).toBe(200);
    const body = r.json as { labelled: number; labels: { row: number; label: string; version: number }[] };
    expect(body.labelled).toBe(2);
    expect(body.labels.map((l) => [l.row, l.label, l.version])).toEqual([
      [1, '4', 1],
      [1, '5', 1],
    ]);
    const noRow = await call(server, 'POST', '/v1/models/mnist/feedback', {
      labels: [{ request_id: 'multi-1', label: '1' }],
    });
    expect(noRow.status).toBe(400);
    expect((noRow.json as { error: string }).error).toMatch(/has 2 rows: say which one/);
    const log = await openPredictionLog(f.dir);
    try {
      const mine = (await log.labelled('mnist', { limit: 100 })).filter((l) => l.requestId === 'multi-1');
      expect(mine.map((l) => [l.row, l.label])).toEqual([[1, '5']]);
    } finally {
      await log.close();
    }
  });

  it('live quality over the count and the time window, in /metrics and the read model', async () => {
    clock += 120_000;
    // Four fresh predictions: label two right and two wrong.
    const preds = [];
    for (let i = 0; i < 4; i++) preds.push(await predict(50 + i));
    const wrong = (p: string) => String((Number(p) + 1) % 10);
    const r = await call(server, 'POST', '/v1/models/mnist/feedback', {
      labels: preds.map((p, i) => ({ request_id: p.id, label: i < 2 ? p.predicted : wrong(p.predicted) })),
    });
    expect(r.status).toBe(200);
    // The window is the last 4 labels within the last minute: exactly these.
    let m = parseExposition(await metrics());
    expect(sample(m, 'modelauto_live_accuracy', { model: 'mnist', version: '1' })).toBe(0.5);
    expect(sample(m, 'modelauto_live_labelled_rows', { model: 'mnist', version: '1' })).toBe(4);
    expect(sample(m, 'modelauto_feedback_total', { model: 'mnist', version: '1' })).toBeGreaterThanOrEqual(4);
    const f1 = sample(m, 'modelauto_live_f1_macro', { model: 'mnist', version: '1' });
    expect(f1).toBeGreaterThanOrEqual(0);
    expect(f1).toBeLessThanOrEqual(1);
    expect(server.monitor.quality('mnist').at(-1)).toMatchObject({
      t: clock,
      n: 4,
      accuracy: 0.5,
      f1Macro: f1,
    });

    // Two more right ones: the count window slides (last 4: 2 wrong, 2 right, in label order).
    clock += 30_000;
    const more = [await predict(60), await predict(61)];
    await call(server, 'POST', '/v1/models/mnist/feedback', {
      labels: more.map((p) => ({ request_id: p.id, label: p.predicted })),
    });
    expect(server.monitor.quality('mnist').at(-1)).toMatchObject({ n: 4, accuracy: 0.5 });

    // 40 s later the first four labels are older than a minute: only the two new ones remain.
    clock += 40_000;
    await server.monitor.refreshQuality();
    expect(server.monitor.quality('mnist').at(-1)).toMatchObject({ t: clock, n: 2, accuracy: 1 });
    m = parseExposition(await metrics());
    expect(sample(m, 'modelauto_live_accuracy', { model: 'mnist', version: '1' })).toBe(1);

    // Another minute: the window is empty and the gauges are gone.
    clock += 61_000;
    await server.monitor.refreshQuality();
    m = parseExposition(await metrics());
    expect(m.samples.some((s) => s.name === 'modelauto_live_accuracy')).toBe(false);
  });

  it('modelauto feedback --csv writes to the store; the server reads it at its next refresh', async () => {
    clock += 1_000;
    const preds = [await predict(70), await predict(71), await predict(72)];
    await server.monitor.flushPredictionLog();
    const csv = join(f.dir, 'labels.csv');
    writeFileSync(csv, ['request_id,label', ...preds.map((p) => `${p.id},${p.predicted}`)].join('\n') + '\n');
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
    try {
      await buildProgram().parseAsync([
        'node',
        'modelauto',
        '--store',
        f.dir,
        '--json',
        'feedback',
        'mnist',
        '--csv',
        csv,
      ]);
    } finally {
      process.stdout.write = write;
    }
    const result = JSON.parse(out.join('')) as { labelled: { requestId: string }[] };
    expect(result.labelled.map((l) => l.requestId)).toEqual(preds.map((p) => p.id));
    await server.monitor.refreshQuality();
    expect(server.monitor.quality('mnist').at(-1)).toMatchObject({ n: 3, accuracy: 1 });

    writeFileSync(csv, 'request_id,label\nunknown-id-9,3\n');
    await expect(
      buildProgram().parseAsync(['node', 'modelauto', '--store', f.dir, 'feedback', 'mnist', '--csv', csv]),
    ).rejects.toThrow(/"unknown-id-9"/);
    writeFileSync(csv, 'request_id,label,extra\na,1,2\n');
    await expect(
      buildProgram().parseAsync(['node', 'modelauto', '--store', f.dir, 'feedback', 'mnist', '--csv', csv]),
    ).rejects.toThrow(/labels\.csv:1: unknown column "extra"/);
  });
});

describe('submitFeedback', () => {
  it('posts to a running server, whose quality updates at once; errors keep their meaning', async () => {
    clock += 1_000;
    const p = await predict(90);
    const result = await submitFeedback('mnist', [{ requestId: p.id, label: p.predicted }], {
      url: server.url,
    });
    expect(result.target).toBe(server.url);
    expect(result.labelled).toMatchObject([
      { requestId: p.id, version: 1, predicted: p.predicted, labelledAt: clock },
    ]);
    expect(server.monitor.quality('mnist').at(-1)).toMatchObject({ t: clock });
    const err = await submitFeedback('mnist', [{ requestId: 'nope-77', label: '1' }], {
      url: server.url,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelautoError);
    expect((err as ModelautoError).code).toBe('NOT_FOUND');
    expect((err as ModelautoError).message).toMatch(/answered 404: .*"nope-77"/);
  });
});

describe('traffic', () => {
  it('snapshots requests/s, latency and error rate for the read model', async () => {
    clock += 1_000;
    for (let i = 0; i < 5; i++) await predict(80 + i);
    await call(server, 'POST', '/v2/models/mnist/infer', { inputs: 'x' });
    clock += 1_000;
    server.monitor.snapshotTraffic();
    const snap = server.monitor.traffic('mnist').at(-1);
    // The snapshot covers the last interval (1 h), in which every request of this file arrived.
    expect(snap?.t).toBe(clock);
    expect(snap?.requestsPerSec).toBeGreaterThan(0);
    expect(snap?.p50).toBeGreaterThan(0);
    expect(snap?.p99).toBeGreaterThanOrEqual(snap?.p50 ?? Infinity);
    // 4xx are the client's errors, not the server's.
    expect(snap?.errorRate).toBe(0);
    expect(server.monitor.modelNames()).toEqual(['mnist']);
  });
});

describe('dashboard', () => {
  it('is served with the monitor as its read model (read-only, no admin token needed)', async () => {
    const withDashboard = await startMonitoredServer({
      stores: f.stores,
      host: '127.0.0.1',
      port: 0,
      pollIntervalMs: 0,
      adminToken: undefined,
    });
    try {
      const live = await call(withDashboard, 'GET', '/api/live');
      expect(live.status).toBe(200);
      expect(live.json).toMatchObject({ available: true, models: [{ model: 'mnist' }] });
      expect((await call(withDashboard, 'GET', '/api/live/mnist')).status).toBe(200);
      expect((await call(withDashboard, 'GET', '/api/drift/mnist')).json).toMatchObject({ available: true });
      expect((await call(withDashboard, 'GET', '/metrics')).status).toBe(200);
    } finally {
      await withDashboard.close();
    }
  });
});
