/**
 * Delivers alert events to webhooks without ever holding up rule evaluation: `enqueue` returns at
 * once and a background worker per webhook URL POSTs the events in order (a resolved event never
 * overtakes its firing one), each with:
 *
 * - a deadline per attempt (connect, send and answer);
 * - retries with exponential backoff and jitter on network errors, timeouts, 5xx, 408 and 429
 *   (a Retry-After answer is honoured up to the longest backoff);
 * - no retry on other 4xx (the request itself is wrong) nor on redirects (a webhook must not move);
 * - the outcome of every delivery recorded (pending → delivered | failed | abandoned).
 *
 * `close` stops taking work and gives the queued deliveries a bounded time to finish; what is still
 * pending then is aborted and recorded as abandoned.
 */
import type { WebhookDeliveryRecord, WebhookDeliveryStatus } from '../../store/alert-events.js';
import { redactWebhookUrl } from '../../store/alert-events.js';
import { VERSION } from '../../version.js';
import { formatDuration } from './duration.js';
import type { WebhookDelivery } from './rule.js';

export interface WebhookJob {
  eventId: string;
  /** Position of the webhook in its rule's list. */
  webhook: number;
  /** The full URL (may carry credentials): used to send, never stored or logged. */
  url: string;
  /** The JSON body. */
  body: string;
}

export interface WebhookDispatcherOptions extends WebhookDelivery {
  /** Where outcomes go (the alert event store); failures to record are logged, not thrown. */
  record: (delivery: WebhookDeliveryRecord) => Promise<void>;
  log: (line: string) => void;
  /** Time of the records (epoch ms). */
  now?: () => number;
  /** Uniform in [0, 1), for the jitter. */
  random?: () => number;
}

export interface DeliveryStats {
  delivered: number;
  failed: number;
  abandoned: number;
  /** Queued or being attempted now. */
  pending: number;
}

type Attempt =
  | { outcome: 'delivered'; httpStatus: number }
  | { outcome: 'retry'; httpStatus: number | null; error: string; retryAfterMs: number | null }
  | { outcome: 'give-up'; httpStatus: number | null; error: string }
  | { outcome: 'aborted'; httpStatus: null; error: string };

interface Queued extends WebhookJob {
  /** The pending record, awaited before later records of the same delivery so they land in order. */
  recorded: Promise<void>;
}

interface UrlQueue {
  items: Queued[];
  running: boolean;
}

export class WebhookDispatcher {
  private readonly queues = new Map<string, UrlQueue>();
  private readonly stopping = new AbortController();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly writes = new Set<Promise<void>>();
  private closed = false;
  private counts = { delivered: 0, failed: 0, abandoned: 0 };

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** Queues a delivery and returns at once. After close, the delivery is recorded as abandoned. */
  enqueue(job: WebhookJob): void {
    if (this.closed) {
      void this.finish(
        { ...job, recorded: Promise.resolve() },
        'abandoned',
        0,
        null,
        'the monitor is shutting down',
      );
      return;
    }
    const item: Queued = { ...job, recorded: this.save(job, 'pending', 0, null, null) };
    let queue = this.queues.get(job.url);
    if (!queue) {
      queue = { items: [], running: false };
      this.queues.set(job.url, queue);
    }
    queue.items.push(item);
    if (queue.items.length > this.options.queueLimit) {
      const dropped = queue.items.shift();
      if (dropped) {
        void this.finish(
          dropped,
          'abandoned',
          0,
          null,
          `more than ${this.options.queueLimit} deliveries waiting`,
        );
      }
    }
    if (!queue.running) {
      queue.running = true;
      void this.drain(job.url, queue);
    }
  }

  stats(): DeliveryStats {
    let pending = 0;
    for (const q of this.queues.values()) pending += q.items.length + (q.running ? 1 : 0);
    return { ...this.counts, pending };
  }

  /** Resolves when nothing is queued or in flight, and every outcome is recorded. */
  async idle(): Promise<void> {
    if (this.queues.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

  /**
   * Stops taking deliveries and waits up to `flushTimeoutMs` (default: the configured flush timeout)
   * for the queued ones; then aborts the rest, which are recorded as abandoned.
   */
  async close(flushTimeoutMs = this.options.flushTimeoutMs): Promise<DeliveryStats> {
    this.closed = true;
    const idle = this.idle();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), flushTimeoutMs);
    });
    const first = await Promise.race([idle.then(() => 'idle' as const), deadline]);
    clearTimeout(timer);
    if (first === 'timeout') {
      const left = this.stats().pending;
      this.options.log(
        `alerts: ${left} webhook deliveries still pending after ${formatDuration(flushTimeoutMs)}: abandoning them`,
      );
      this.stopping.abort();
      await idle;
    }
    return this.stats();
  }

  private async drain(url: string, queue: UrlQueue): Promise<void> {
    for (let item = queue.items.shift(); item; item = queue.items.shift()) {
      await this.deliver(item);
    }
    queue.running = false;
    this.queues.delete(url);
    if (this.queues.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private async deliver(job: Queued): Promise<void> {
    const { attempts: maxAttempts } = this.options;
    for (let attempt = 1; ; attempt++) {
      if (this.stopping.signal.aborted) {
        return this.finish(job, 'abandoned', attempt - 1, null, 'the monitor shut down before delivery');
      }
      const r = await this.attempt(job);
      if (r.outcome === 'delivered') return this.finish(job, 'delivered', attempt, r.httpStatus, null);
      if (r.outcome === 'aborted') return this.finish(job, 'abandoned', attempt, null, r.error);
      if (r.outcome === 'give-up' || attempt >= maxAttempts) {
        const why = r.outcome === 'give-up' ? r.error : `${r.error} (gave up after ${attempt} attempts)`;
        return this.finish(job, 'failed', attempt, r.httpStatus, why);
      }
      await job.recorded;
      job.recorded = this.save(job, 'pending', attempt, r.httpStatus, r.error);
      await this.sleep(retryDelay(attempt, r.retryAfterMs, this.options, this.random));
    }
  }

  private async attempt(job: WebhookJob): Promise<Attempt> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const signal = AbortSignal.any([timeout, this.stopping.signal]);
    try {
      const target = requestTarget(job.url);
      const response = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': `modelauto/${VERSION}`,
          'x-modelauto-event': job.eventId,
          ...(target.authorization ? { authorization: target.authorization } : {}),
        },
        body: job.body,
        redirect: 'manual',
        signal,
      });
      // The answer's body is not used; reading it (under the same deadline) frees the connection.
      await response.arrayBuffer();
      return classify(response);
    } catch (e) {
      if (this.stopping.signal.aborted) {
        return { outcome: 'aborted', httpStatus: null, error: 'aborted at shutdown' };
      }
      if (timeout.aborted) {
        const error = `no answer within ${formatDuration(this.options.timeoutMs)}`;
        return { outcome: 'retry', httpStatus: null, error, retryAfterMs: null };
      }
      return { outcome: 'retry', httpStatus: null, error: networkError(e), retryAfterMs: null };
    }
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.stopping.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
    });
  }

  private finish(
    job: Queued,
    status: Exclude<WebhookDeliveryStatus, 'pending'>,
    attempts: number,
    httpStatus: number | null,
    error: string | null,
  ): Promise<void> {
    this.counts[status]++;
    if (status !== 'delivered') {
      this.options.log(
        `alerts: webhook ${redactWebhookUrl(job.url)} ${status} for event ${job.eventId} after ${attempts} attempt(s): ${error ?? ''}`,
      );
    }
    // After the delivery's earlier records, so the final one is the last to land.
    return this.track(job.recorded.then(() => this.write(job, status, attempts, httpStatus, error)));
  }

  private save(
    job: WebhookJob,
    status: WebhookDeliveryStatus,
    attempts: number,
    httpStatus: number | null,
    error: string | null,
  ): Promise<void> {
    return this.track(this.write(job, status, attempts, httpStatus, error));
  }

  /** Record writes are tracked so that idle() and close() wait for them (they never reject). */
  private track(write: Promise<void>): Promise<void> {
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
    return write;
  }

  private async write(
    job: WebhookJob,
    status: WebhookDeliveryStatus,
    attempts: number,
    httpStatus: number | null,
    error: string | null,
  ): Promise<void> {
    const url = redactWebhookUrl(job.url);
    try {
      await this.options.record({
        eventId: job.eventId,
        webhook: job.webhook,
        url,
        status,
        attempts,
        httpStatus,
        // A message quoting the full URL must not carry its secrets into the store.
        error: error === null ? null : error.replaceAll(job.url, url),
        updatedAt: this.now(),
      });
    } catch (e) {
      this.options.log(
        `alerts: could not record the ${status} delivery of event ${job.eventId}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
}

/**
 * The wait after failed attempt `attempt` (1-based): `backoff * 2^(attempt-1)` capped at `maxBackoff`,
 * with equal jitter (half of it for sure, the other half at random, so receivers recovering from an
 * outage are not hit by every sender at once, and the waits still grow). A Retry-After answer is
 * honoured instead, up to `maxBackoff`.
 */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | null,
  options: Pick<WebhookDelivery, 'backoffMs' | 'maxBackoffMs'>,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== null) return Math.min(retryAfterMs, options.maxBackoffMs);
  const step = Math.min(options.maxBackoffMs, options.backoffMs * 2 ** (attempt - 1));
  return step / 2 + random() * (step / 2);
}

function classify(response: Response): Attempt {
  const status = response.status;
  if (status >= 200 && status < 300) return { outcome: 'delivered', httpStatus: status };
  const error = `HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''}`;
  if (status >= 300 && status < 400) {
    return { outcome: 'give-up', httpStatus: status, error: `${error}: webhooks must not redirect` };
  }
  if (status === 408 || status === 429 || status >= 500) {
    return { outcome: 'retry', httpStatus: status, error, retryAfterMs: retryAfter(response) };
  }
  return { outcome: 'give-up', httpStatus: status, error: `${error}: the receiver refused the request` };
}

/** Retry-After in seconds or as an HTTP date; null when absent or unreadable. */
function retryAfter(response: Response): number | null {
  const header = response.headers.get('retry-after')?.trim();
  if (!header) return null;
  if (/^\d+$/.test(header)) return Number(header) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/**
 * fetch refuses URLs with credentials (`https://user:token@host/hook`, common for webhooks): they
 * become a basic Authorization header, as curl and Alertmanager's http_config do.
 */
function requestTarget(url: string): { url: string; authorization: string | null } {
  const u = new URL(url);
  if (!u.username && !u.password) return { url, authorization: null };
  const credentials = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
  u.username = '';
  u.password = '';
  return { url: u.href, authorization: `Basic ${Buffer.from(credentials).toString('base64')}` };
}

/** fetch's own message is "fetch failed"; the reason (ECONNREFUSED, ...) is in its cause. */
function networkError(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === 'string')
    return `${cause.code}${typeof cause.message === 'string' ? `: ${cause.message}` : ''}`;
  if (cause && typeof cause.message === 'string') return cause.message;
  return e instanceof Error ? e.message : String(e);
}
