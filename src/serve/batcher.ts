/**
 * Dynamic batching (TF Serving's batching, Triton's dynamic batcher): requests for one model version
 * wait in a bounded queue until `maxBatch` rows are waiting or the oldest has waited `maxDelayMs`,
 * then run as one batch. A request that carries its own batch is split across batches when it does not
 * fit, and its rows merged back in order, so every response holds exactly its request's rows.
 *
 * Waiting only pays while more requests can still join. The server knows when none can (every request
 * it has received is parsed and queued: `arriving()` is 0), and then runs the batch at the end of the
 * current turn of the event loop instead of idling until the delay is over; maxDelayMs stays the bound
 * for the other case (requests whose bodies are still coming in). Without `arriving`, the classic rule.
 *
 * The queue is bounded in rows: when a request does not fit, it is refused at once (the server answers
 * 503 with Retry-After) instead of waiting behind work it cannot finish in time.
 */
import { ModelautoError } from '../core/errors.js';
import type { RuntimeOutputs, RuntimeTensor } from './runtime.js';

export interface BatcherOptions {
  /** Most rows per run. */
  maxBatch: number;
  /** Longest time the oldest waiting row waits for the batch to fill (0: run on the next turn of the event loop). */
  maxDelayMs: number;
  /** Most rows waiting (not yet running) at once. */
  queueRows: number;
  /** Requests on their way that could still join a batch (received, not yet queued anywhere). */
  arriving?: () => number;
  /** Told after every batch (rows run, rows still waiting, seconds the run took); must not throw. */
  onBatch?: (rows: number, queuedRows: number, runSeconds: number) => void;
}

export type BatchRun = (feeds: Record<string, RuntimeTensor>) => Promise<RuntimeOutputs>;

/** Lets the caller withdraw a request that has not finished (its deadline passed). */
export class BatchTicket {
  cancelled = false;
  /** The request the ticket was submitted with (set by `submit`). */
  pending: Pending | undefined = undefined;
}

export interface Pending {
  /** Resolved or rejected: nothing more may happen to it. */
  settled: boolean;
  feeds: Record<string, RuntimeTensor>;
  rows: number;
  /** Rows already handed to a batch. */
  taken: number;
  /** Output parts by first row, in order. */
  parts: { start: number; outputs: RuntimeOutputs }[];
  done: number;
  enqueuedAt: number;
  ticket: BatchTicket | undefined;
  failed: boolean;
  resolve: (out: RuntimeOutputs) => void;
  reject: (e: unknown) => void;
}

interface Slice {
  pending: Pending;
  start: number;
  rows: number;
}

export interface BatcherStats {
  batches: number;
  rows: number;
  requests: number;
  rejected: number;
  largestBatch: number;
}

/** The 503 a full queue answers with; the server adds Retry-After. */
export class QueueFullError extends ModelautoError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('UNAVAILABLE', message);
  }
}

export class DynamicBatcher {
  private readonly queue: Pending[] = [];
  private waiting = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  readonly stats: BatcherStats = { batches: 0, rows: 0, requests: 0, rejected: 0, largestBatch: 0 };

  constructor(
    private readonly run: BatchRun,
    readonly options: BatcherOptions,
    private readonly label: string,
  ) {}

  /** Rows waiting to run. */
  get queuedRows(): number {
    return this.waiting;
  }

  /** Runs `rows` samples (every feed's first dimension) as part of one or more batches. */
  submit(feeds: Record<string, RuntimeTensor>, rows: number, ticket?: BatchTicket): Promise<RuntimeOutputs> {
    if (this.closed) {
      return Promise.reject(new ModelautoError('UNAVAILABLE', `${this.label} is being unloaded`));
    }
    if (rows > this.options.queueRows) {
      return Promise.reject(
        new ModelautoError(
          'INVALID_ARGUMENT',
          `batch of ${rows} rows is larger than the server's queue of ${this.options.queueRows} rows; split the request`,
        ),
      );
    }
    if (this.waiting + rows > this.options.queueRows) {
      this.stats.rejected++;
      return Promise.reject(
        new QueueFullError(
          `${this.label}: the queue is full (${this.waiting} of ${this.options.queueRows} rows waiting); retry later`,
          1,
        ),
      );
    }
    return new Promise<RuntimeOutputs>((resolve, reject) => {
      const pending: Pending = {
        settled: false,
        feeds,
        rows,
        taken: 0,
        parts: [],
        done: 0,
        enqueuedAt: performance.now(),
        ticket,
        failed: false,
        resolve,
        reject,
      };
      if (ticket) ticket.pending = pending;
      this.queue.push(pending);
      this.waiting += rows;
      this.stats.requests++;
      this.schedule();
    });
  }

  /**
   * Withdraws a request that has not finished; its promise rejects with `reason`. Rows still queued
   * leave the queue; rows already in a running batch run, and their outputs are dropped.
   */
  cancel(ticket: BatchTicket, reason: unknown): void {
    ticket.cancelled = true;
    const p = ticket.pending;
    if (!p || p.settled) return;
    const i = p.taken < p.rows ? this.queue.indexOf(p) : -1;
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.waiting -= p.rows - p.taken;
    }
    p.failed = true;
    p.settled = true;
    p.reject(reason);
    this.notifyIdle();
  }

  /** Refuses new requests; resolves once every queued and running request has finished. */
  async drain(): Promise<void> {
    this.closed = true;
    if (!this.running && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    if (this.waiting >= this.options.maxBatch) {
      this.clearTimer();
      this.dispatch();
      return;
    }
    // Decide at the end of this turn: requests parsed in the same I/O phase join first.
    this.immediate ??= setImmediate(() => this.check());
  }

  private check(): void {
    this.immediate = undefined;
    if (this.running || this.queue.length === 0) return;
    const oldest = this.queue[0] as Pending;
    const wait = oldest.enqueuedAt + this.options.maxDelayMs - performance.now();
    if (wait <= 0 || this.options.arriving?.() === 0) {
      this.clearTimer();
      this.dispatch();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.check();
    }, wait);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private dispatch(): void {
    const slices: Slice[] = [];
    let rows = 0;
    while (rows < this.options.maxBatch && this.queue.length > 0) {
      const p = this.queue[0] as Pending;
      const take = Math.min(p.rows - p.taken, this.options.maxBatch - rows);
      slices.push({ pending: p, start: p.taken, rows: take });
      p.taken += take;
      rows += take;
      if (p.taken === p.rows) this.queue.shift();
    }
    this.waiting -= rows;
    this.running = true;
    this.stats.batches++;
    this.stats.rows += rows;
    if (rows > this.stats.largestBatch) this.stats.largestBatch = rows;
    let feeds: Record<string, RuntimeTensor>;
    try {
      feeds = mergeFeeds(slices, rows);
    } catch (e) {
      this.finish(slices, rows, undefined, e);
      return;
    }
    const onBatch = this.options.onBatch;
    const started = onBatch ? performance.now() : 0;
    this.run(feeds).then(
      (out) => {
        try {
          onBatch?.(rows, this.waiting, (performance.now() - started) / 1000);
        } catch {
          // An observer's failure must never fail the batch it watches.
        }
        this.finish(slices, rows, out, undefined);
      },
      (e: unknown) => this.finish(slices, rows, undefined, e),
    );
  }

  private finish(slices: Slice[], rows: number, out: RuntimeOutputs | undefined, error: unknown): void {
    let offset = 0;
    for (const s of slices) {
      const p = s.pending;
      if (!p.failed) {
        if (out) {
          try {
            p.parts.push({ start: s.start, outputs: sliceOutputs(out, offset, s.rows, rows) });
            p.done += s.rows;
            if (p.done === p.rows) {
              p.settled = true;
              p.resolve(joinParts(p));
            }
          } catch (e) {
            this.fail(p, e);
          }
        } else {
          this.fail(p, error);
        }
      }
      offset += s.rows;
    }
    this.running = false;
    this.schedule();
    this.notifyIdle();
  }

  private fail(p: Pending, error: unknown): void {
    p.failed = true;
    p.settled = true;
    const i = this.queue.indexOf(p);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.waiting -= p.rows - p.taken;
    }
    p.reject(
      error instanceof ModelautoError
        ? error
        : new ModelautoError(
            'INTERNAL',
            `${this.label}: inference failed: ${error instanceof Error ? error.message : String(error)}`,
            {
              cause: error,
            },
          ),
    );
  }

  private notifyIdle(): void {
    if (this.running || this.queue.length > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

function mergeFeeds(slices: Slice[], rows: number): Record<string, RuntimeTensor> {
  const first = slices[0] as Slice;
  // One request, whole: its own tensors, no copy.
  if (slices.length === 1 && first.start === 0 && first.rows === first.pending.rows)
    return first.pending.feeds;
  const merged: Record<string, RuntimeTensor> = {};
  for (const [name, proto] of Object.entries(first.pending.feeds)) {
    const rowSize = rowSizeOf(proto.dims);
    const dims = [rows, ...proto.dims.slice(1)];
    if (proto.type === 'float32') {
      const data = new Float32Array(rows * rowSize);
      let at = 0;
      for (const s of slices) {
        const t = s.pending.feeds[name];
        if (!t || t.type !== 'float32')
          throw new ModelautoError('INTERNAL', `batch input ${name} is missing or not float32`);
        data.set(t.data.subarray(s.start * rowSize, (s.start + s.rows) * rowSize), at);
        at += s.rows * rowSize;
      }
      merged[name] = { type: 'float32', data, dims };
    } else {
      const data: string[] = [];
      for (const s of slices) {
        const t = s.pending.feeds[name];
        if (!t || t.type !== 'string')
          throw new ModelautoError('INTERNAL', `batch input ${name} is missing or not string`);
        for (let i = s.start * rowSize; i < (s.start + s.rows) * rowSize; i++) data.push(t.data[i] as string);
      }
      merged[name] = { type: 'string', data, dims };
    }
  }
  return merged;
}

function rowSizeOf(dims: readonly number[]): number {
  let size = 1;
  for (let d = 1; d < dims.length; d++) size *= dims[d] as number;
  return size;
}

function sliceOutputs(out: RuntimeOutputs, offset: number, rows: number, batchRows: number): RuntimeOutputs {
  const result: RuntimeOutputs = {};
  for (const [name, o] of Object.entries(out)) {
    if (o.dims[0] !== batchRows) {
      throw new ModelautoError(
        'INTERNAL',
        `output ${name} has ${o.dims[0]} rows for a batch of ${batchRows}: the model does not keep the batch dimension`,
      );
    }
    const rowSize = rowSizeOf(o.dims);
    result[name] = {
      data: o.data.subarray(offset * rowSize, (offset + rows) * rowSize),
      dims: [rows, ...o.dims.slice(1)],
    };
  }
  return result;
}

function joinParts(p: Pending): RuntimeOutputs {
  if (p.parts.length === 1) return (p.parts[0] as Pending['parts'][number]).outputs;
  p.parts.sort((a, b) => a.start - b.start);
  const result: RuntimeOutputs = {};
  for (const name of Object.keys((p.parts[0] as Pending['parts'][number]).outputs)) {
    const pieces = p.parts.map((part) => part.outputs[name] as RuntimeOutputs[string]);
    const data = new Float32Array(pieces.reduce((s, x) => s + x.data.length, 0));
    let at = 0;
    for (const x of pieces) {
      data.set(x.data, at);
      at += x.data.length;
    }
    result[name] = { data, dims: [p.rows, ...(pieces[0] as RuntimeOutputs[string]).dims.slice(1)] };
  }
  return result;
}
