/**
 * The drift computation in a worker thread. Comparing a 784-pixel window with its reference takes
 * hundreds of milliseconds (a KS test per pixel); on the server's thread that is a stall of every
 * request once per drift interval. Here the thread holds each version's reference (loaded there,
 * from artifact bytes the server reads for it) and computes the reports; the server's thread only
 * copies the window out of its ring and hands the columns over (transferred, not copied again).
 *
 * The thread is started at the first reference, and does not keep the process alive while idle.
 */
import type { Worker } from 'node:worker_threads';
import { ERROR_CODES, ModelautoError, type ErrorCode } from '../../core/errors.js';
import type { DriftReport } from '../types.js';
import type { DriftComputeOptions } from './drift-compute.js';
import type { WindowSlice } from './input-window.js';
import { startWorker } from '../../core/worker-source.js';

/** What the thread is asked (drift-worker.ts)... */
export type DriftCall =
  | { op: 'load'; key: string; allowProfileFallback: boolean }
  | { op: 'detect'; key: string; current: WindowSlice; options: DriftComputeOptions }
  | { op: 'forget'; key: string };
export type DriftRequest = DriftCall & { id: number };

/** ...what it answers (`read` asks the server for an artifact of the version being loaded)... */
export type DriftReply =
  | { kind: 'loaded'; id: number }
  | { kind: 'report'; id: number; report: DriftReport }
  | { kind: 'done'; id: number }
  | { kind: 'failed'; id: number; error: string; code: string }
  | { kind: 'read'; id: number; read: number; name: string };

/** ...and the server's answer to a `read`. */
export interface ArtifactReply {
  op: 'artifact';
  read: number;
  bytes: Uint8Array | null;
  error?: string;
}

type ReadArtifact = (name: string) => Promise<Uint8Array | undefined>;

export class DriftThread {
  private worker: Worker | undefined;
  private readonly waiting = new Map<
    number,
    { resolve: (r: DriftReply) => void; reject: (e: unknown) => void }
  >();
  /** Artifact readers of the loads in progress, by request id. */
  private readonly readers = new Map<number, ReadArtifact>();
  private next = 0;
  private failure: ModelautoError | undefined;
  private closed = false;

  /** Loads a version's reference in the thread (loadDriftReference over `read`). */
  async load(key: string, read: ReadArtifact, allowProfileFallback: boolean): Promise<void> {
    await this.call({ op: 'load', key, allowProfileFallback }, read);
  }

  /** One report of `current` against the reference loaded as `key`. */
  async detect(key: string, current: WindowSlice, options: DriftComputeOptions): Promise<DriftReport> {
    const transfer = [...current.data.numeric.values()].map((c) => c.buffer as ArrayBuffer);
    const reply = await this.call({ op: 'detect', key, current, options }, undefined, transfer);
    if (reply.kind !== 'report') throw new ModelautoError('INTERNAL', `drift thread answered ${reply.kind}`);
    return reply.report;
  }

  /** Frees the reference loaded as `key`. */
  forget(key: string): void {
    if (this.worker && !this.failure) void this.call({ op: 'forget', key }).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
    this.fail(new ModelautoError('UNAVAILABLE', 'the drift thread was stopped'));
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker(import.meta.url, 'drift-worker');
    worker.on('message', (m: DriftReply) => this.onMessage(m));
    worker.on('error', (e) =>
      this.fail(new ModelautoError('INTERNAL', `the drift thread failed: ${e.message}`)),
    );
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      this.fail(new ModelautoError('INTERNAL', `the drift thread exited (code ${code})`));
    });
    worker.unref();
    this.worker = worker;
    this.failure = undefined;
    return worker;
  }

  private onMessage(m: DriftReply): void {
    if (m.kind === 'read') {
      void this.serveRead(m);
      return;
    }
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    this.readers.delete(m.id);
    if (this.waiting.size === 0) this.worker?.unref();
    if (m.kind === 'failed') {
      // The thread's error, with its code (a message already carries its location).
      const code = (Object.hasOwn(ERROR_CODES, m.code) ? m.code : 'INTERNAL') as ErrorCode;
      w.reject(new ModelautoError(code, m.error));
    } else {
      w.resolve(m);
    }
  }

  private async serveRead(m: Extract<DriftReply, { kind: 'read' }>): Promise<void> {
    const reader = this.readers.get(m.id);
    let reply: ArtifactReply;
    try {
      if (!reader) throw new Error('no load in progress');
      reply = { op: 'artifact', read: m.read, bytes: (await reader(m.name)) ?? null };
    } catch (e) {
      reply = {
        op: 'artifact',
        read: m.read,
        bytes: null,
        error: e instanceof Error ? e.message : String(e),
      };
    }
    this.worker?.postMessage(reply);
  }

  private fail(e: ModelautoError): void {
    this.failure = e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
    this.readers.clear();
  }

  private call(request: DriftCall, read?: ReadArtifact, transfer: ArrayBuffer[] = []): Promise<DriftReply> {
    if (this.closed) return Promise.reject(new ModelautoError('UNAVAILABLE', 'the drift thread was stopped'));
    const worker = this.started();
    const id = this.next++;
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) worker.ref();
      this.waiting.set(id, { resolve, reject });
      if (read) this.readers.set(id, read);
      worker.postMessage({ ...request, id } satisfies DriftRequest, transfer);
    });
  }
}
