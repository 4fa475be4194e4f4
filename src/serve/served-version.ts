/**
 * One loaded model version: its runtime, its batcher, its served signature, and a count of the
 * requests using it, so that unloading waits for the last of them (a hot swap drops nothing).
 */
import { ModelautoError } from '../core/errors.js';
import type { ModelVersionRecord } from '../store/registry.js';
import { BatchTicket, DynamicBatcher, type BatcherOptions } from './batcher.js';
import type { DecodedInputs, RowNamer } from './features.js';
import type { LoadedModel } from './loader.js';
import type { ServeObserver } from './observer.js';
import type { RuntimeOutputs } from './runtime.js';
import type { ServedSignature } from './signature.js';

/** TF Serving's servable states (get_model_status.proto). */
export type VersionState = 'LOADING' | 'AVAILABLE' | 'UNLOADING' | 'END';

export interface ServedOutputs {
  /** Rows in the request. */
  rows: number;
  /** By served output name: `rows` samples, row-major. */
  tensors: Map<string, { data: Float32Array; sampleShape: number[] }>;
}

export interface VersionStats {
  requests: number;
  rows: number;
  errors: number;
}

export class ServedVersion {
  state: VersionState = 'AVAILABLE';
  readonly batcher: DynamicBatcher;
  readonly stats: VersionStats = { requests: 0, rows: 0, errors: 0 };
  readonly loadedAt = Date.now();
  private inflight = 0;
  private drained: (() => void) | undefined;
  private retiring: Promise<void> | undefined;

  constructor(
    readonly record: ModelVersionRecord,
    readonly loaded: LoadedModel,
    batching: BatcherOptions,
    observer?: ServeObserver,
  ) {
    const onBatch = observer?.onBatch?.bind(observer);
    this.batcher = new DynamicBatcher(
      (feeds) => loaded.runtime.run(feeds),
      onBatch
        ? {
            ...batching,
            onBatch: (rows, queuedRows, runSeconds) =>
              onBatch({ model: record.model, version: record.version, rows, queuedRows, runSeconds }),
          }
        : batching,
      `${record.model}:${record.version}`,
    );
  }

  get model(): string {
    return this.record.model;
  }

  get version(): number {
    return this.record.version;
  }

  get signature(): ServedSignature {
    return this.loaded.signature;
  }

  /**
   * Runs valid rows (zeros, known categories) through the preprocessing and the runtime at batch 1 and
   * at the largest batch, so that the first requests pay no first-call costs.
   */
  async warmUp(maxBatch: number): Promise<void> {
    for (const rows of [1, 1, maxBatch]) {
      const inputs: DecodedInputs = new Map();
      for (const i of this.signature.inputs) {
        if (i.role === 'tensor') {
          inputs.set(i.name, {
            role: 'tensor',
            data: new Float32Array(rows * i.sampleShape.reduce((a, b) => a * b, 1)),
          });
        } else {
          const value = i.kind === 'numeric' ? 0 : (i.categories[0] ?? null);
          inputs.set(i.name, { role: 'column', values: new Array(rows).fill(value) });
        }
      }
      await this.loaded.runtime.run(this.loaded.features(inputs, rows, (row) => `warm-up row ${row}`));
    }
  }

  /** Marks the version in use; callers must call `release()` exactly once afterwards. */
  acquire(): void {
    if (this.state !== 'AVAILABLE') {
      throw new ModelautoError(
        'UNAVAILABLE',
        `version ${this.version} of ${this.model} is ${this.state.toLowerCase()}`,
      );
    }
    this.inflight++;
  }

  release(): void {
    this.inflight--;
    if (this.inflight === 0 && this.drained) this.drained();
  }

  /** Preprocesses, batches and runs `rows` decoded rows; the outputs as served. */
  async infer(
    inputs: DecodedInputs,
    rows: number,
    rowName: RowNamer,
    ticket?: BatchTicket,
  ): Promise<ServedOutputs> {
    this.stats.requests++;
    this.stats.rows += rows;
    try {
      const feeds = this.loaded.features(inputs, rows, rowName);
      const out = await this.batcher.submit(feeds, rows, ticket);
      return this.served(out, rows);
    } catch (e) {
      this.stats.errors++;
      throw e;
    }
  }

  private served(out: RuntimeOutputs, rows: number): ServedOutputs {
    const tensors = new Map<string, { data: Float32Array; sampleShape: number[] }>();
    for (const o of this.signature.outputs) {
      const t = out[o.runtimeName];
      if (!t) throw new ModelautoError('INTERNAL', `the runtime returned no output ${o.runtimeName}`);
      tensors.set(o.name, { data: t.data, sampleShape: o.sampleShape });
    }
    return { rows, tensors };
  }

  /** Stops taking requests, waits for the ones in flight, frees the runtime (once, however often called). */
  retire(): Promise<void> {
    this.retiring ??= (async () => {
      this.state = 'UNLOADING';
      if (this.inflight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      await this.batcher.drain();
      await this.loaded.runtime.release();
      this.state = 'END';
    })();
    return this.retiring;
  }
}
