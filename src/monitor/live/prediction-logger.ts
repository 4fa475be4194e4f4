/**
 * Writes the sampled requests to the prediction log off the request path: answered requests are
 * packed (packed-records.ts: their values copied into one buffer per batch, so the request's own
 * buffers are free at once; the records are made where they are written), written in batches every
 * `flushInterval` or as soon as `batchRows` are waiting — through a LogWriter, by default a worker
 * thread with its own store connection (log-writer.ts) — and the retention limits are applied every
 * `pruneInterval`. A failed write is logged and counted, never surfaced to a request; when the queue
 * is full (the store is slower than the traffic) new records are dropped and counted.
 */
import type { InferenceEvent } from '../../serve/index.js';
import type { PredictionLogConfig } from './config.js';
import type { LogWriter } from './log-writer.js';
import { RecordPacker } from './packed-records.js';
import { predictedClasses } from './record.js';

export type LogOutcome = 'written' | 'failed' | 'dropped';

export interface PredictionLoggerOptions {
  /** Where the writes run (log-writer.ts). */
  log: LogWriter;
  config: PredictionLogConfig;
  now: () => number;
  /** Status lines (write failures). */
  report: (line: string) => void;
  /** Counts records by outcome (for /metrics). */
  count?: (outcome: LogOutcome, records: number) => void;
}

/** FNV-1a: a stable, well-spread hash, so a request id is sampled the same way every time. */
function hash01(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 0x1_0000_0000;
}

/** Whether a request id falls in the sample at `rate` (0..1). */
export function inSample(requestId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  return hash01(requestId) < rate;
}

export class PredictionLogger {
  /** Batches of at most batchRows records, oldest first; the last one is being filled. */
  private pending: RecordPacker[] = [];
  private queued = 0;
  private flushing: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(private readonly options: PredictionLoggerOptions) {}

  get waiting(): number {
    return this.queued;
  }

  start(): void {
    const { config } = this.options;
    this.flushTimer = setInterval(() => void this.flush(), config.flushInterval);
    this.flushTimer.unref();
    this.pruneTimer = setInterval(() => void this.prune(), config.pruneInterval);
    this.pruneTimer.unref();
  }

  /**
   * Queues an answered request when it is in the sample; returns whether it was queued. `predicted`:
   * its classes when the caller has them already (predictedClasses of its outputs).
   */
  offer(event: InferenceEvent, predicted?: string[] | null): boolean {
    const { config } = this.options;
    if (this.closed || !config.enabled || event.status !== 200 || !event.outputs || event.rows < 1)
      return false;
    if (event.version === null || !inSample(event.requestId, config.sampleRate)) return false;
    if (this.queued >= config.maxPending) {
      this.options.count?.('dropped', 1);
      return false;
    }
    let batch = this.pending[this.pending.length - 1];
    if (!batch || batch.size >= config.batchRows) {
      batch = new RecordPacker();
      this.pending.push(batch);
    }
    batch.add(event, predicted !== undefined ? predicted : predictedClasses(event.outputs, event.signature));
    this.queued++;
    if (batch.size >= config.batchRows) this.soon ??= setImmediate(() => void this.flush());
    return true;
  }

  /** Writes everything queued so far (waits for a write in progress first). */
  flush(): Promise<void> {
    if (this.soon) {
      clearImmediate(this.soon);
      this.soon = undefined;
    }
    // One write at a time, in order; writeAll never rejects (failures are counted and reported).
    const run = (this.flushing ?? Promise.resolve()).then(() => this.writeAll());
    this.flushing = run;
    void run.finally(() => {
      if (this.flushing === run) this.flushing = undefined;
    });
    return run;
  }

  private async writeAll(): Promise<void> {
    const { maxInputValues } = this.options.config;
    let first = true;
    for (let batch = this.pending.shift(); batch; batch = this.pending.shift()) {
      // SQLite writes are synchronous: between batches, let the requests waiting on the loop run.
      if (!first) await new Promise((resolve) => setImmediate(resolve));
      first = false;
      const packed = batch.take();
      if (!packed) continue;
      const n = packed.count;
      this.queued -= n;
      try {
        await this.options.log.appendPacked(packed, maxInputValues);
        this.options.count?.('written', n);
      } catch (e) {
        this.options.count?.('failed', n);
        this.options.report(
          `monitor: could not write ${n} prediction log record${n === 1 ? '' : 's'} ` +
            `to ${this.options.log.location}: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
  }

  /** Applies the retention limits now; returns the records dropped (0 when pruning failed). */
  async prune(): Promise<number> {
    const { config, log, now } = this.options;
    try {
      return await log.prune({ maxRows: config.maxRows, maxAgeMs: config.maxAge, now: now() });
    } catch (e) {
      this.options.report(
        `monitor: could not prune the prediction log: ${e instanceof Error ? e.message : String(e)}`,
      );
      return 0;
    }
  }

  /** Stops the timers and writes what is queued. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await this.flush();
  }
}
