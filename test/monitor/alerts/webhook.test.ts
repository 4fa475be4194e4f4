import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { retryDelay, WebhookDispatcher, type WebhookJob } from '../../../src/monitor/alerts/webhook.js';
import type { WebhookDelivery } from '../../../src/monitor/alerts/rule.js';
import type { WebhookDeliveryRecord } from '../../../src/store/alert-events.js';
import { startHookServer, type Answer, type HookServer } from './hook-server.js';

const FAST: WebhookDelivery = {
  attempts: 4,
  timeoutMs: 2000,
  backoffMs: 10,
  maxBackoffMs: 50,
  flushTimeoutMs: 5000,
  queueLimit: 100,
};

let servers: HookServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function server(answers: Answer[]): Promise<HookServer> {
  const s = await startHookServer(answers);
  servers.push(s);
  return s;
}

function dispatcher(options: Partial<WebhookDelivery> = {}) {
  const records: WebhookDeliveryRecord[] = [];
  const lines: string[] = [];
  const d = new WebhookDispatcher({
    ...FAST,
    ...options,
    record: async (r) => {
      records.push(r);
    },
    log: (line) => lines.push(line),
    now: () => 1000,
  });
  return { d, records, lines };
}

function job(url: string, eventId = 'evt-1', webhook = 0): WebhookJob {
  return { eventId, webhook, url, body: JSON.stringify({ eventId, status: 'firing' }) };
}

/** The final record of each delivery, keyed by event id. */
function finals(records: WebhookDeliveryRecord[]): Record<string, WebhookDeliveryRecord> {
  const out: Record<string, WebhookDeliveryRecord> = {};
  for (const r of records) out[r.eventId] = r;
  return out;
}

describe('WebhookDispatcher', () => {
  it('retries 500s with backoff and records each step until a 200 delivers', async () => {
    const hook = await server([500, 500, 200]);
    const { d, records } = dispatcher();
    d.enqueue(job(hook.url));
    await d.idle();
    expect(hook.received).toHaveLength(3);
    expect(JSON.parse(hook.received[0]!.body)).toEqual({ eventId: 'evt-1', status: 'firing' });
    expect(hook.received[0]!.headers['content-type']).toBe('application/json');
    expect(hook.received[0]!.headers['x-modelauto-event']).toBe('evt-1');
    expect(records.map((r) => [r.status, r.attempts, r.httpStatus])).toEqual([
      ['pending', 0, null],
      ['pending', 1, 500],
      ['pending', 2, 500],
      ['delivered', 3, 200],
    ]);
    expect(records[1]!.error).toBe('HTTP 500 Internal Server Error');
    expect(records.at(-1)!.error).toBeNull();
    expect(d.stats()).toEqual({ delivered: 1, failed: 0, abandoned: 0, pending: 0 });
  });

  it('gives up at once on a 400: the receiver refuses the request itself', async () => {
    const hook = await server([400, 200]);
    const { d, records, lines } = dispatcher();
    d.enqueue(job(hook.url));
    await d.idle();
    expect(hook.received).toHaveLength(1);
    expect(records.at(-1)).toMatchObject({ status: 'failed', attempts: 1, httpStatus: 400 });
    expect(records.at(-1)!.error).toMatch(/HTTP 400 .*refused/);
    expect(lines.join('\n')).toMatch(/failed for event evt-1 after 1 attempt/);
  });

  it('retries 408 and 429 (honouring Retry-After) but not a redirect', async () => {
    const hook = await server([408, { status: 429, headers: { 'retry-after': '0' } }, 204]);
    const { d, records } = dispatcher();
    d.enqueue(job(hook.url));
    await d.idle();
    expect(records.at(-1)).toMatchObject({ status: 'delivered', attempts: 3, httpStatus: 204 });

    const moved = await server([{ status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } }]);
    const second = dispatcher();
    second.d.enqueue(job(moved.url));
    await second.d.idle();
    expect(moved.received).toHaveLength(1);
    expect(second.records.at(-1)).toMatchObject({ status: 'failed', attempts: 1, httpStatus: 302 });
  });

  it('times each attempt out and gives up after the last attempt', async () => {
    const hook = await server(['hang']);
    const { d, records } = dispatcher({ attempts: 2, timeoutMs: 150 });
    d.enqueue(job(hook.url));
    await d.idle();
    expect(hook.received).toHaveLength(2);
    expect(records.at(-1)).toMatchObject({ status: 'failed', attempts: 2, httpStatus: null });
    expect(records.at(-1)!.error).toBe('no answer within 150ms (gave up after 2 attempts)');
  });

  it('retries when nothing listens, naming the network error', async () => {
    const port = await closedPort();
    const { d, records } = dispatcher({ attempts: 2 });
    d.enqueue(job(`http://127.0.0.1:${port}/hook`));
    await d.idle();
    expect(records.at(-1)).toMatchObject({ status: 'failed', attempts: 2, httpStatus: null });
    expect(records.at(-1)!.error).toMatch(/^ECONNREFUSED/);
  });

  it('delivers to one URL in order, while another URL is not held up', async () => {
    const slow = await server([500, 500, 200]);
    const fast = await server([200]);
    const { d, records } = dispatcher();
    d.enqueue(job(slow.url, 'first'));
    d.enqueue(job(slow.url, 'second'));
    d.enqueue(job(fast.url, 'other'));
    await d.idle();
    expect(slow.received.map((r) => JSON.parse(r.body).eventId)).toEqual([
      'first',
      'first',
      'first',
      'second',
    ]);
    const done = records.filter((r) => r.status === 'delivered').map((r) => r.eventId);
    expect(done).toEqual(['other', 'first', 'second']);
  });

  it('sends URL credentials as basic auth, and stores the URL without its secrets', async () => {
    const hook = await server([200]);
    const { d, records } = dispatcher();
    const secret = hook.url.replace('http://', 'http://user:pw@') + '?token=s3cret';
    d.enqueue(job(secret));
    await d.idle();
    expect(hook.received[0]!.path).toBe('/hook?token=s3cret');
    expect(hook.received[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('user:pw').toString('base64')}`,
    );
    expect(new Set(records.map((r) => r.url))).toEqual(new Set([hook.url]));
  });

  it('abandons the oldest waiting delivery when a webhook queue is full', async () => {
    const hook = await server([{ status: 200 }]);
    const { d, records } = dispatcher({ queueLimit: 1 });
    d.enqueue(job(hook.url, 'a'));
    d.enqueue(job(hook.url, 'b'));
    d.enqueue(job(hook.url, 'c'));
    await d.idle();
    const last = finals(records);
    expect(last['b']).toMatchObject({
      status: 'abandoned',
      attempts: 0,
      error: 'more than 1 deliveries waiting',
    });
    expect(last['c']).toMatchObject({ status: 'delivered' });
    expect(hook.received.map((r) => JSON.parse(r.body).eventId)).not.toContain('b');
  });

  it('flushes on close: deliveries that finish in time are delivered', async () => {
    const hook = await server([500, 200]);
    const { d, records } = dispatcher();
    d.enqueue(job(hook.url));
    const stats = await d.close();
    expect(stats).toEqual({ delivered: 1, failed: 0, abandoned: 0, pending: 0 });
    expect(records.at(-1)).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('bounds the flush: what is still pending at the deadline is aborted and recorded as abandoned', async () => {
    const hook = await server(['hang']);
    const { d, records, lines } = dispatcher({ timeoutMs: 60_000 });
    d.enqueue(job(hook.url, 'stuck'));
    d.enqueue(job(hook.url, 'queued'));
    await waitFor(() => hook.received.length === 1);
    const stats = await d.close(100);
    expect(stats).toEqual({ delivered: 0, failed: 0, abandoned: 2, pending: 0 });
    const last = finals(records);
    expect(last['stuck']).toMatchObject({ status: 'abandoned', attempts: 1, error: 'aborted at shutdown' });
    expect(last['queued']).toMatchObject({ status: 'abandoned', attempts: 0 });
    expect(lines.join('\n')).toMatch(/2 webhook deliveries still pending after 100ms: abandoning them/);
    // Work handed over after close is recorded, not sent.
    d.enqueue(job(hook.url, 'late'));
    await waitFor(() => finals(records)['late'] !== undefined);
    expect(finals(records)['late']).toMatchObject({
      status: 'abandoned',
      error: 'the monitor is shutting down',
    });
    expect(hook.received).toHaveLength(1);
  });

  it('keeps going when recording an outcome fails, and says so', async () => {
    const hook = await server([200]);
    const lines: string[] = [];
    const d = new WebhookDispatcher({
      ...FAST,
      record: () => Promise.reject(new Error('disk full')),
      log: (line) => lines.push(line),
    });
    d.enqueue(job(hook.url));
    await d.idle();
    expect(hook.received).toHaveLength(1);
    expect(d.stats().delivered).toBe(1);
    expect(lines).toContain('alerts: could not record the delivered delivery of event evt-1: disk full');
  });
});

describe('retryDelay', () => {
  const options = { backoffMs: 100, maxBackoffMs: 1000 };
  it('doubles each retry up to the cap, with half of each wait left to chance', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelay(n, null, options, () => 0))).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelay(n, null, options, () => 0.999999))).toEqual(
      [100, 200, 400, 800, 1000, 1000].map((v) => expect.closeTo(v, 3)),
    );
    const spread = new Set(Array.from({ length: 50 }, () => retryDelay(3, null, options)));
    expect(spread.size).toBeGreaterThan(40);
    for (const d of spread) expect(d >= 200 && d <= 400).toBe(true);
  });

  it('follows Retry-After, but no longer than the longest backoff', () => {
    expect(retryDelay(1, 300, options)).toBe(300);
    expect(retryDelay(1, 60_000, options)).toBe(1000);
  });
});

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}
