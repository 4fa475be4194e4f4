import type * as tf from '@tensorflow/tfjs';
import { constants as bufferConstants } from 'node:buffer';
import type { NativeAddon } from './addon.js';
import { adoptPooled, POOL_MIN_ELEMENTS, takePooled } from './buffer-pool.js';
import type { CpuBackendLike } from './cpu-data.js';

/** What a native kernel receives: tfjs's kernel arguments plus the cpu backend and the addon. */
export interface NativeCall {
  inputs: tf.NamedTensorInfoMap;
  attrs: tf.NamedAttrMap;
  backend: CpuBackendLike;
  addon: NativeAddon;
}

/**
 * A native kernel returns its outputs, or a string saying why it cannot handle this call
 * (dtype, attribute, layout); the caller then runs tfjs's original kernel with the same
 * arguments, so an unsupported case is slower, never different.
 */
export type NativeResult = tf.TensorInfo | tf.TensorInfo[] | string;

export interface NativeKernel {
  name: string;
  run(call: NativeCall): NativeResult;
  /** Limits shown by `modelauto doctor`, e.g. "NHWC only". */
  note?: string;
  /**
   * For kernels tfjs does not have (fused ones modelauto's gradient overrides call): the JS
   * implementation used when run() declines a call.
   */
  reference?: tf.KernelFunc;
}

/**
 * Large outputs skip zero-filling (Node's uninitialised Buffer memory): a kernel that writes
 * every element would otherwise pay for clearing megabytes it overwrites anyway.
 */
const UNINITIALISED_MIN = 1 << 14;

/** An output array with unspecified contents; only for kernels that write every element. */
export function outF32(n: number): Float32Array {
  if (n < POOL_MIN_ELEMENTS || n * 4 > bufferConstants.MAX_LENGTH) return new Float32Array(n);
  const pooled = takePooled(n);
  if (pooled) return pooled;
  if (n < UNINITIALISED_MIN) return adoptPooled(new Float32Array(n));
  const b = Buffer.allocUnsafeSlow(n * 4);
  return adoptPooled(new Float32Array(b.buffer, b.byteOffset, n));
}

export function outI32(n: number): Int32Array {
  if (n < UNINITIALISED_MIN || n * 4 > bufferConstants.MAX_LENGTH) return new Int32Array(n);
  const b = Buffer.allocUnsafeSlow(n * 4);
  return new Int32Array(b.buffer, b.byteOffset, n);
}

/** Fused activations; the numbers are shared with native/src/common.h. */
export const ACTIVATIONS: Readonly<Record<string, number>> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  elu: 3,
  leakyrelu: 4,
  sigmoid: 5,
  prelu: 6,
};

export function numAttr(attrs: tf.NamedAttrMap, name: string): number | undefined {
  const v = attrs[name];
  return typeof v === 'number' ? v : undefined;
}

export function boolAttr(attrs: tf.NamedAttrMap, name: string): boolean {
  return attrs[name] === true;
}

export function numArrayAttr(attrs: tf.NamedAttrMap, name: string): number[] | undefined {
  const v = attrs[name];
  if (typeof v === 'number') return [v];
  if (Array.isArray(v) && v.every((x): x is number => typeof x === 'number')) return v;
  return undefined;
}
