/**
 * Writes the sampled requests to the prediction log off the request path: answered requests are
 * queued (references only; encoding happens at write time), written in batches every
 * `flushInterval` or as soon as `batchRows` are waiting — through a LogWriter, by default a worker
 * thread with its own store connection (log-writer.ts) — and the retention limits are applied every
 * `pruneInterval`. A failed write is logged and counted, never surfaced to a request; when the queue
 * is full (the store is slower than the traffic) new records are dropped and counted.
 */
import type { InferenceEvent } from '../../serve/index.js';
import type { PredictionRecord } from '../../store/prediction-log.js';
import type { PredictionLogConfig } from './config.js';
import type { LogWriter } from './log-writer.js';
import { encodeInputs, encodeOutputs, predictedClasses } from './record.js';

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
  /** Told after a batch is written (the monitor refreshes what reads the log). */
  written?: (records: readonly PredictionRecord[]) => void;
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
  private pending: InferenceEvent[] = [];
  private flushing: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(private readonly options: PredictionLoggerOptions) {}

  get waiting(): number {
    return this.pending.length;
  }

  start(): void {
    const { config } = this.options;
    this.flushTimer = setInterval(() => void this.flush(), config.flushInterval);
    this.flushTimer.unref();
    this.pruneTimer = setInterval(() => void this.prune(), config.pruneInterval);
    this.pruneTimer.unref();
  }

  /** Queues an answered request when it is in the sample; returns whether it was queued. */
  offer(event: InferenceEvent): boolean {
    const { config } = this.options;
    if (this.closed || !config.enabled || event.status !== 200 || !event.outputs || event.rows < 1)
      return false;
    if (event.version === null || !inSample(event.requestId, config.sampleRate)) return false;
    if (this.pending.length >= config.maxPending) {
      this.options.count?.('dropped', 1);
      return false;
    }
    this.pending.push(event);
    if (this.pending.length >= config.batchRows) this.soon ??= setImmediate(() => void this.flush());
    return true;
  }

  private record(e: InferenceEvent): PredictionRecord {
    const max = this.options.config.maxInputValues;
    const outputs = e.outputs as NonNullable<InferenceEvent['outputs']>;
    return {
      requestId: e.requestId,
      model: e.model,
      version: e.version as number,
      time: e.receivedAt,
      protocol: e.protocol,
      rows: e.rows,
      latencyMs: e.totalSeconds * 1000,
      inputs: e.inputs ? encodeInputs(e.inputs, e.rows, e.signature, max) : null,
      outputs: encodeOutputs(outputs, max),
      predicted: predictedClasses(outputs, e.signature),
      classes: e.signature?.labels ? [...e.signature.labels] : null,
    };
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
    const { batchRows } = this.options.config;
    let first = true;
    while (this.pending.length > 0) {
      // SQLite writes are synchronous: between batches, let the requests waiting on the loop run.
      if (!first) await new Promise((resolve) => setImmediate(resolve));
      first = false;
      const events = this.pending.splice(0, batchRows);
      let records: PredictionRecord[] = [];
      try {
        records = events.map((e) => this.record(e));
        await this.options.log.append(records);
        this.options.count?.('written', records.length);
        this.options.written?.(records);
      } catch (e) {
        this.options.count?.('failed', events.length);
        this.options.report(
          `monitor: could not write ${events.length} prediction log record${events.length === 1 ? '' : 's'} ` +
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
