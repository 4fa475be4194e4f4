/**
 * An ONNX model run in an inference thread of its own (a worker thread holding the session).
 *
 * onnxruntime-node runs a session synchronously on the calling thread. On the server's thread that is
 * a stall of every connection for the length of each batch; here the server's thread only copies the
 * batch over and goes on reading, parsing and answering requests (and gathering the next batch) while
 * the model runs on another core. The cost is a message each way per batch, not per request.
 *
 * If the thread dies (a crash in native code, an out-of-memory kill of the worker), the batches it held
 * fail with 503 and the next batch starts a new thread from the same model bytes.
 */
import type { Worker } from 'node:worker_threads';
import { ERROR_CODES, ModelautoError, type ErrorCode } from '../core/errors.js';
import { startWorker } from '../core/worker-source.js';
import type { OnnxThreadCall, OnnxThreadData, OnnxThreadReply } from './onnx-thread-protocol.js';
import type { ModelRuntime, RuntimeOutputs, RuntimeTensor, RuntimeTensorInfo } from './runtime.js';

interface Waiting {
  resolve: (out: RuntimeOutputs) => void;
  reject: (e: unknown) => void;
}

function threadError(m: { error: string; code: string }): ModelautoError {
  const code = (Object.hasOwn(ERROR_CODES, m.code) ? m.code : 'INTERNAL') as ErrorCode;
  return new ModelautoError(code, m.error);
}

/** A started thread, once its session is ready. */
function start(
  data: OnnxThreadData,
): Promise<{ worker: Worker; ready: Extract<OnnxThreadReply, { kind: 'ready' }> }> {
  const worker = startWorker(import.meta.url, 'onnx-thread-worker', { workerData: data });
  return new Promise((resolve, reject) => {
    const onExit = (code: number) =>
      reject(
        new ModelautoError(
          'INTERNAL',
          `${data.source}: the inference thread exited (code ${code}) while loading`,
        ),
      );
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (m: OnnxThreadReply) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      if (m.kind === 'ready') {
        resolve({ worker, ready: m });
      } else {
        void worker.terminate();
        reject(
          m.kind === 'refused'
            ? threadError(m)
            : new ModelautoError(
                'INTERNAL',
                `${data.source}: unexpected ${m.kind} from the inference thread`,
              ),
        );
      }
    });
  });
}

export class OnnxThreadRuntime implements ModelRuntime {
  readonly kind = 'onnxruntime' as const;
  private worker: Worker | undefined;
  private starting: Promise<Worker> | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private next = 0;
  private released = false;

  private constructor(
    private readonly data: OnnxThreadData,
    worker: Worker,
    readonly inputs: readonly RuntimeTensorInfo[],
    readonly outputs: readonly RuntimeTensorInfo[],
  ) {
    this.adopt(worker);
  }

  /** `source` names the model in error messages. */
  static async create(
    bytes: Uint8Array,
    options: { threads: number; source: string },
  ): Promise<OnnxThreadRuntime> {
    // The thread gets its own copy: the caller's bytes may be a view into a larger buffer.
    const data: OnnxThreadData = { bytes: bytes.slice(), threads: options.threads, source: options.source };
    const { worker, ready } = await start(data);
    return new OnnxThreadRuntime(data, worker, ready.inputs, ready.outputs);
  }

  async run(feeds: Record<string, RuntimeTensor>): Promise<RuntimeOutputs> {
    if (this.released) throw new ModelautoError('UNAVAILABLE', 'the ONNX session was released');
    const worker = this.worker ?? (await this.restart());
    const copies: Record<string, RuntimeTensor> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, f] of Object.entries(feeds)) {
      if (f.type === 'float32') {
        // A copy of its own, transferred: the batch's arrays may be views of a request's buffers,
        // which the server still reads after the run (the monitor's prediction log).
        const data = f.data.slice();
        transfer.push(data.buffer);
        copies[name] = { type: 'float32', data, dims: f.dims };
      } else {
        copies[name] = f;
      }
    }
    const id = this.next++;
    return new Promise<RuntimeOutputs>((resolve, reject) => {
      if (this.waiting.size === 0) worker.ref();
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ op: 'run', id, feeds: copies } satisfies OnnxThreadCall, transfer);
    });
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const worker = this.worker ?? (await this.starting?.catch(() => undefined));
    this.worker = undefined;
    if (!worker) return;
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ op: 'release' } satisfies OnnxThreadCall);
    // A thread that does not answer within a few seconds is stopped.
    const timer = setTimeout(() => void worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }

  /** Listens to a started thread; it keeps the process alive only while a batch is running. */
  private adopt(worker: Worker): void {
    this.worker = worker;
    worker.unref();
    worker.on('message', (m: OnnxThreadReply) => this.onMessage(m));
    worker.on('error', (e) => this.lost(worker, e.message));
    worker.on('exit', (code) => this.lost(worker, `exit code ${code}`));
  }

  private onMessage(m: OnnxThreadReply): void {
    if (m.kind !== 'result' && m.kind !== 'failed') return;
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    if (this.waiting.size === 0) this.worker?.unref();
    if (m.kind === 'result') w.resolve(m.outputs);
    else w.reject(threadError(m));
  }

  /** The thread is gone: its batches fail, the next one starts a new thread (unless released). */
  private lost(worker: Worker, why: string): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const e = new ModelautoError(
      'UNAVAILABLE',
      `${this.data.source}: the inference thread stopped (${why}); the batch was not run, retry`,
    );
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }

  private restart(): Promise<Worker> {
    this.starting ??= start(this.data)
      .then(({ worker }) => {
        if (this.released) {
          void worker.terminate();
          throw new ModelautoError('UNAVAILABLE', 'the ONNX session was released');
        }
        this.adopt(worker);
        return worker;
      })
      .finally(() => {
        this.starting = undefined;
      });
    return this.starting;
  }
}
