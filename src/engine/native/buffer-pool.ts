import type * as tf from '@tensorflow/tfjs';

/**
 * Recycles the large float32 output arrays of native kernels. A training step allocates tens of
 * megabytes of activations and gradients; as fresh ArrayBuffers they are only freed by V8's
 * garbage collector, whose external-memory accounting then runs a full mark-compact about
 * every step (a quarter of the CPU time of a small CNN), and every new buffer's pages are
 * faulted in again. Recycled arrays are also still warm in cache.
 *
 * An array goes back to the pool only when it is certain nothing can read it any more:
 * - it was allocated here (outF32) and stored in the cpu backend as exactly that array;
 * - every backend entry holding it has been disposed (entries are counted through the
 *   backend's write/move, the only ways data enters it);
 * - it never escaped: readSync/read (dataSync, data, array, print, ...) hand the backend's own
 *   array to the caller, and kernels such as Slice store subarray views of their input, so
 *   either marks the array as never to be recycled.
 * Anything else (another backend, a replaced backend instance) simply never recycles.
 */

/** Arrays below this many elements (4 KB) are cheap to allocate and not pooled. */
export const POOL_MIN_ELEMENTS = 1 << 10;
const DEFAULT_POOL_MB = 256;

interface CpuBackendMethods {
  data: { get(dataId: tf.DataId): { values?: unknown } | undefined; has(dataId: tf.DataId): boolean };
  write(values: unknown, shape: number[], dtype: tf.DataType): tf.DataId;
  move(dataId: tf.DataId, values: unknown, shape: number[], dtype: tf.DataType, refCount: number): void;
  readSync(dataId: tf.DataId): unknown;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

type Patched = Pick<CpuBackendMethods, 'write' | 'move' | 'readSync' | 'disposeData'>;

/**
 * The pooled array that owns each buffer handed out, with the attachment it was counted under:
 * entries stored while detached were not counted, so older arrays are never recycled.
 */
const owners = new WeakMap<ArrayBufferLike, { array: Float32Array; generation: number }>();
let generation = 0;
/** Backend entries currently holding each pooled array. */
const holders = new WeakMap<Float32Array, number>();
/** Buffers that were read out of the backend or viewed by another entry: never recycled. */
const escaped = new WeakSet<ArrayBufferLike>();
/** Free arrays by length. */
const free = new Map<number, Float32Array[]>();
let freeBytes = 0;
let capBytes = DEFAULT_POOL_MB * 2 ** 20;
let attached: { backend: CpuBackendMethods; originals: Patched } | undefined;
const counters = { reused: 0, allocated: 0, recycled: 0 };

function poolCapFromEnv(): number {
  const env = process.env['MODELAUTO_BUFFER_POOL_MB'];
  if (env === undefined || env.trim() === '') return DEFAULT_POOL_MB * 2 ** 20;
  const mb = Number(env);
  return Number.isFinite(mb) && mb >= 0 ? mb * 2 ** 20 : DEFAULT_POOL_MB * 2 ** 20;
}

/** A pooled array of n elements (contents unspecified), or undefined when none is free. */
export function takePooled(n: number): Float32Array | undefined {
  if (!attached || n < POOL_MIN_ELEMENTS) return undefined;
  const list = free.get(n);
  const a = list?.pop();
  if (!a) return undefined;
  freeBytes -= a.byteLength;
  counters.reused++;
  return a;
}

/**
 * Registers a freshly allocated array (owning its whole buffer) as recyclable. `track` also
 * registers arrays below POOL_MIN_ELEMENTS (never recycled, but exclusiveValues can then vouch
 * for them, so optimizers update small variables such as biases in place too).
 */
export function adoptPooled(a: Float32Array, track = false): Float32Array {
  if (
    attached &&
    (track || a.length >= POOL_MIN_ELEMENTS) &&
    a.byteOffset === 0 &&
    a.byteLength === a.buffer.byteLength
  ) {
    owners.set(a.buffer, { array: a, generation });
    counters.allocated++;
  }
  return a;
}

function noteStored(values: unknown): void {
  if (!ArrayBuffer.isView(values)) return;
  const owner = owners.get(values.buffer)?.array;
  if (!owner) return;
  if (values !== owner) {
    escaped.add(values.buffer);
    return;
  }
  holders.set(owner, (holders.get(owner) ?? 0) + 1);
}

function noteEscaped(values: unknown): void {
  if (ArrayBuffer.isView(values) && owners.has(values.buffer)) escaped.add(values.buffer);
}

function noteReleased(values: unknown): void {
  if (!(values instanceof Float32Array)) return;
  const entry = owners.get(values.buffer);
  if (entry?.array !== values || entry.generation !== generation) return;
  const owner = entry.array;
  const left = (holders.get(owner) ?? 1) - 1;
  holders.set(owner, left);
  if (left > 0 || escaped.has(owner.buffer) || freeBytes + owner.byteLength > capBytes) return;
  if (owner.length < POOL_MIN_ELEMENTS) return;
  let list = free.get(owner.length);
  if (!list) {
    list = [];
    free.set(owner.length, list);
  }
  list.push(owner);
  freeBytes += owner.byteLength;
  counters.recycled++;
}

/**
 * The float32 values of a tensor when nobody but that one tensor can observe them, so that a
 * kernel may overwrite them in place: the array was allocated here, exactly one backend entry
 * holds it, that entry has a single reference (no clone, reshape or variable shares it), and
 * it never escaped (no dataSync()/data() result or subarray view aliases it). Otherwise
 * undefined, and the caller must write a new array.
 */
export function exclusiveValues(backend: unknown, dataId: tf.DataId): Float32Array | undefined {
  if (!attached || attached.backend !== backend) return undefined;
  const entry = attached.backend.data.get(dataId) as { values?: unknown; refCount?: unknown } | undefined;
  const values = entry?.values;
  if (!(values instanceof Float32Array) || entry?.refCount !== 1) return undefined;
  const owner = owners.get(values.buffer);
  if (owner?.array !== values || owner.generation !== generation) return undefined;
  if (holders.get(values) !== 1 || escaped.has(values.buffer)) return undefined;
  return values;
}

function isCpuBackend(b: unknown): b is CpuBackendMethods {
  if (typeof b !== 'object' || b === null) return false;
  const r = b as Record<string, unknown>;
  const data = r['data'] as Record<string, unknown> | undefined;
  return (
    ['write', 'move', 'readSync', 'disposeData'].every((m) => typeof r[m] === 'function') &&
    typeof data === 'object' &&
    data !== null &&
    typeof data['get'] === 'function' &&
    typeof data['has'] === 'function'
  );
}

/**
 * Starts recycling for this cpu backend instance (idempotent); false when pooling is off
 * (MODELAUTO_BUFFER_POOL_MB=0) or the backend does not look like tfjs's MathBackendCPU.
 */
export function attachBufferPool(backend: unknown): boolean {
  if (attached) return attached.backend === backend;
  capBytes = poolCapFromEnv();
  if (capBytes <= 0 || !isCpuBackend(backend)) return false;
  const b = backend;
  const originals: Patched = {
    write: b.write,
    move: b.move,
    readSync: b.readSync,
    disposeData: b.disposeData,
  };
  // Instance properties shadow the prototype's methods; detach deletes them again.
  b.write = function (values, shape, dtype) {
    noteStored(values);
    return originals.write.call(this, values, shape, dtype);
  };
  b.move = function (dataId, values, shape, dtype, refCount) {
    noteStored(values);
    originals.move.call(this, dataId, values, shape, dtype, refCount);
  };
  b.readSync = function (dataId) {
    noteEscaped(this.data.get(dataId)?.values);
    return originals.readSync.call(this, dataId);
  };
  b.disposeData = function (dataId, force) {
    const values = this.data.get(dataId)?.values;
    const done = originals.disposeData.call(this, dataId, force);
    if (values !== undefined && !this.data.has(dataId)) noteReleased(values);
    return done;
  };
  attached = { backend: b, originals };
  return true;
}

/** Stops recycling and drops the free arrays (arrays still in use just stop being tracked). */
export function detachBufferPool(): void {
  if (!attached) return;
  const b = attached.backend as unknown as Record<string, unknown>;
  for (const m of ['write', 'move', 'readSync', 'disposeData']) delete b[m];
  attached = undefined;
  generation++;
  free.clear();
  freeBytes = 0;
}

export interface BufferPoolStats {
  enabled: boolean;
  capMB: number;
  freeMB: number;
  /** Outputs served from the pool / freshly allocated (and registered) / returned to the pool. */
  reused: number;
  allocated: number;
  recycled: number;
}

export function bufferPoolStats(): BufferPoolStats {
  return {
    enabled: attached !== undefined,
    capMB: capBytes / 2 ** 20,
    freeMB: freeBytes / 2 ** 20,
    ...counters,
  };
}
