import * as tf from '@tensorflow/tfjs';
import { describe, expect } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import {
  installNativeKernels,
  nativeStatus,
  uninstallNativeKernels,
} from '../../../src/engine/native/index.js';

/**
 * Native kernels are checked against tfjs's own JS kernels in the same process: run the op with
 * the originals, install the native wrappers, run it again, compare.
 */
export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}

const probe = installNativeKernels();
uninstallNativeKernels();
export const nativeAvailable = probe.available;
if (!nativeAvailable && process.env['MODELAUTO_REQUIRE_NATIVE'] === '1') {
  throw new Error(`MODELAUTO_REQUIRE_NATIVE=1 but the addon is unavailable: ${probe.reason ?? 'unknown'}`);
}

/** describe() that is skipped, visibly, when the addon is not built. */
export function describeNative(name: string, fn: () => void): void {
  describe.skipIf(!nativeAvailable)(
    nativeAvailable ? name : `${name} (skipped: ${probe.reason ?? 'no addon'})`,
    fn,
  );
}

export function randomArray(rng: Rng, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.next();
  return a;
}

export function randomTensor(rng: Rng, shape: number[], lo = -1, hi = 1): tf.Tensor {
  return tf.tensor(
    randomArray(
      rng,
      shape.reduce((a, b) => a * b, 1),
      lo,
      hi,
    ),
    shape,
    'float32',
  );
}

export type TypedValues = Float32Array | Int32Array | Uint8Array;

export interface RunResult {
  shapes: number[][];
  dtypes: string[];
  values: TypedValues[];
}

function collect(out: tf.Tensor | tf.Tensor[]): RunResult {
  const list = Array.isArray(out) ? out : [out];
  const r: RunResult = {
    shapes: list.map((t) => t.shape),
    dtypes: list.map((t) => t.dtype),
    values: list.map((t) => t.dataSync() as TypedValues),
  };
  // copy: the cpu backend hands out its own buffers
  r.values = r.values.map((v) => v.slice());
  tf.dispose(list);
  return r;
}

/** Runs fn with tfjs's JS kernels and with the native ones; returns both results. */
export function runBoth(fn: () => tf.Tensor | tf.Tensor[]): { js: RunResult; native: RunResult } {
  uninstallNativeKernels();
  const js = collect(tf.tidy(fn));
  installNativeKernels();
  const native = collect(tf.tidy(fn));
  return { js, native };
}

/**
 * |actual - expected| <= rtol * |expected| + atol, elementwise. The default atol is rtol times the
 * RMS of `expected`: a sum whose terms cancel is only as exact as its terms, not its result.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-4,
  atol?: number,
  label = '',
): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  let sq = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] ?? 0;
    if (Number.isFinite(e)) sq += e * e;
  }
  const tol = atol ?? rtol * Math.sqrt(sq / Math.max(1, expected.length));
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] ?? 0;
    const e = expected[i] ?? 0;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (Number.isNaN(e) !== Number.isNaN(a)) {
        worst = i;
        worstErr = Infinity;
        break;
      }
      continue;
    }
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (a !== e) {
        worst = i;
        worstErr = Infinity;
        break;
      }
      continue;
    }
    const err = Math.abs(a - e) - (rtol * Math.abs(e) + tol);
    if (err > worstErr) {
      worstErr = err;
      worst = i;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `${label} element ${worst}: native ${actual[worst]} vs js ${expected[worst]} (rtol ${rtol}, atol ${tol})`,
    );
  }
}

/** Same shapes and dtypes, values within tolerance. */
export function expectSameResult(r: { js: RunResult; native: RunResult }, rtol = 1e-4, label = ''): void {
  expect(r.native.shapes, `${label} shapes`).toEqual(r.js.shapes);
  expect(r.native.dtypes, `${label} dtypes`).toEqual(r.js.dtypes);
  r.js.values.forEach((v, i) =>
    expectClose(r.native.values[i] ?? new Float32Array(0), v, rtol, undefined, `${label}[${i}]`),
  );
}

/** A kernel's cumulative status counters. */
export function kernelCalls(name: string): { calls: number; fallbacks: number; lastFallback?: string } {
  const k = nativeStatus().kernels.find((s) => s.name === name);
  return {
    calls: k?.calls ?? 0,
    fallbacks: k?.fallbacks ?? 0,
    ...(k?.lastFallback !== undefined ? { lastFallback: k.lastFallback } : {}),
  };
}

/** Native calls and fallbacks of a kernel while fn runs: proves which path ran. */
export function countCalls(name: string, fn: () => void): { calls: number; fallbacks: number } {
  const before = kernelCalls(name);
  fn();
  const after = kernelCalls(name);
  return { calls: after.calls - before.calls, fallbacks: after.fallbacks - before.fallbacks };
}
