/**
 * Where the prediction log's writes run. SQLite writes are synchronous (better-sqlite3), and at a few
 * thousand requests per second committing them costs the event loop about as much as answering the
 * requests; so by default the writes run in a worker thread with its own connection to the store,
 * on another core, and the server's thread only encodes the records and hands them over. Reads
 * (feedback joins, quality windows) stay on the server's own connection.
 *
 * The inline writer runs the writes on the caller's thread, on a PredictionLog the caller owns.
 */
import type { Worker } from 'node:worker_threads';
import { ModelautoError } from '../../core/errors.js';
import type { PredictionLog, PredictionRecord, PruneLimits } from '../../store/prediction-log.js';
import { releaseValues, unpackRecords, type PackedRecords } from './packed-records.js';
import { startWorker } from '../../core/worker-source.js';

export interface LogWriter {
  readonly location: string;
  append(records: readonly PredictionRecord[]): Promise<void>;
  /** Writes packed records (packed-records.ts); tensors over `maxValues` values become summaries. */
  appendPacked(packed: PackedRecords, maxValues: number): Promise<void>;
  prune(limits: PruneLimits): Promise<number>;
  close(): Promise<void>;
}

/** Writes on the caller's thread (the log stays open: its owner closes it). */
export class InlineLogWriter implements LogWriter {
  constructor(private readonly log: PredictionLog) {}

  get location(): string {
    return this.log.location;
  }

  append(records: readonly PredictionRecord[]): Promise<void> {
    return this.log.append(records);
  }

  async appendPacked(packed: PackedRecords, maxValues: number): Promise<void> {
    const records = unpackRecords(packed, maxValues);
    releaseValues(packed.values.buffer as ArrayBuffer);
    await this.log.append(records);
  }

  prune(limits: PruneLimits): Promise<number> {
    return this.log.prune(limits);
  }

  async close(): Promise<void> {}
}

/** What the worker is asked (log-writer-worker.ts)... */
export type WriterCall =
  | { op: 'append'; records: readonly PredictionRecord[] }
  | { op: 'appendPacked'; packed: PackedRecords; maxValues: number }
  | { op: 'prune'; limits: PruneLimits }
  | { op: 'close' };
export type WriterRequest = WriterCall & { id: number };

/** ...and what it answers: `ready` once the store is open, then `done` or `failed` per request. */
export type WriterReply =
  | { kind: 'ready'; location: string }
  /** `values`: a packed batch's value buffer, handed back for reuse. */
  | { kind: 'done'; id: number; result: number | null; values?: ArrayBuffer }
  | { kind: 'failed'; id: number | null; error: string; code: string };

export class WorkerLogWriter implements LogWriter {
  private readonly worker: Worker;
  private readonly waiting = new Map<
    number,
    { resolve: (v: number | null) => void; reject: (e: unknown) => void }
  >();
  private next = 0;
  private exited: ModelautoError | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    worker: Worker,
    readonly location: string,
  ) {
    this.worker = worker;
    worker.on('message', (m: WriterReply) => {
      if (m.kind === 'ready' || m.id === null) return;
      if (m.kind === 'done' && m.values) releaseValues(m.values);
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) worker.unref();
      if (m.kind === 'done') w.resolve(m.result);
      else w.reject(new ModelautoError(m.code === 'NOT_FOUND' ? 'NOT_FOUND' : 'STORE', m.error));
    });
    worker.on('exit', (code) => this.fail(`the prediction log writer thread exited (code ${code})`));
    worker.on('error', (e) => this.fail(`the prediction log writer thread failed: ${e.message}`));
    // The server keeps the process alive; an idle writer left open must not. While an answer is
    // awaited the thread is referenced, or a shutdown waiting for the last write could see the
    // event loop empty and the process end under it.
    worker.unref();
  }

  /** Starts the worker and waits until it has opened the store at `uri` (its errors are thrown here). */
  static async start(uri: string): Promise<WorkerLogWriter> {
    const worker = startWorker(import.meta.url, 'log-writer-worker', { workerData: { uri } });
    const location = await new Promise<string>((resolve, reject) => {
      const onMessage = (m: WriterReply) => {
        if (m.kind === 'ready') {
          cleanup();
          resolve(m.location);
        } else if (m.kind === 'failed' && m.id === null) {
          cleanup();
          reject(new ModelautoError(m.code === 'USAGE' ? 'USAGE' : 'STORE', m.error));
        }
      };
      const onError = (e: Error) => {
        cleanup();
        reject(
          new ModelautoError('STORE', `the prediction log writer thread failed to start: ${e.message}`, {
            cause: e,
          }),
        );
      };
      const onExit = (code: number) => {
        cleanup();
        reject(
          new ModelautoError('STORE', `the prediction log writer thread exited at start (code ${code})`),
        );
      };
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    }).catch(async (e: unknown) => {
      await worker.terminate();
      throw e;
    });
    return new WorkerLogWriter(worker, location);
  }

  private fail(message: string): void {
    this.exited ??= new ModelautoError('STORE', message);
    for (const w of this.waiting.values()) w.reject(this.exited);
    this.waiting.clear();
  }

  private call(request: WriterCall, transfer: ArrayBuffer[] = []): Promise<number | null> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id } satisfies WriterRequest, transfer);
    });
  }

  async append(records: readonly PredictionRecord[]): Promise<void> {
    await this.call({ op: 'append', records });
  }

  /** The tensor values are handed to the thread (the buffer is unusable here afterwards). */
  async appendPacked(packed: PackedRecords, maxValues: number): Promise<void> {
    await this.call({ op: 'appendPacked', packed, maxValues }, [packed.values.buffer as ArrayBuffer]);
  }

  async prune(limits: PruneLimits): Promise<number> {
    return (await this.call({ op: 'prune', limits })) ?? 0;
  }

  /** Closes the worker's store connection (after the writes sent before), then ends the thread. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.exited) await this.call({ op: 'close' }).catch(() => undefined);
      await this.worker.terminate();
    })();
    return this.closing;
  }
}
