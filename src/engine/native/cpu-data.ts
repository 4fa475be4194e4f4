import type * as tf from '@tensorflow/tfjs';

/**
 * The slice of tfjs's MathBackendCPU that native kernels use. tfjs types a kernel's backend as
 * `{}`; `asCpuBackend` checks the shape at run time instead of trusting a cast.
 */
export interface CpuBackendLike {
  data: { get(dataId: tf.DataId): { values?: unknown } | undefined };
  makeTensorInfo(
    shape: number[],
    dtype: tf.DataType,
    values?: Float32Array | Int32Array | Uint8Array,
  ): tf.TensorInfo;
}

export function asCpuBackend(backend: unknown): CpuBackendLike | undefined {
  if (typeof backend !== 'object' || backend === null) return undefined;
  const b = backend as { data?: { get?: unknown }; makeTensorInfo?: unknown };
  if (typeof b.makeTensorInfo !== 'function' || typeof b.data !== 'object' || b.data === null)
    return undefined;
  if (typeof b.data.get !== 'function') return undefined;
  return backend as CpuBackendLike;
}

/** The float32 values behind a tensor, or undefined when it is not a plain float32 tensor. */
export function f32(backend: CpuBackendLike, t: tf.TensorInfo | undefined): Float32Array | undefined {
  if (t === undefined || t.dtype !== 'float32') return undefined;
  const values = backend.data.get(t.dataId)?.values;
  return values instanceof Float32Array ? values : undefined;
}

export function i32(backend: CpuBackendLike, t: tf.TensorInfo | undefined): Int32Array | undefined {
  if (t === undefined || t.dtype !== 'int32') return undefined;
  const values = backend.data.get(t.dataId)?.values;
  return values instanceof Int32Array ? values : undefined;
}

/** float32 or int32 values (4-byte elements), for kernels that only move data. */
export function words(
  backend: CpuBackendLike,
  t: tf.TensorInfo | undefined,
): Float32Array | Int32Array | undefined {
  if (t === undefined) return undefined;
  if (t.dtype === 'float32') return f32(backend, t);
  if (t.dtype === 'int32') return i32(backend, t);
  return undefined;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i] ?? 1;
  }
  return s;
}
