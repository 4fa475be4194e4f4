import * as tf from '@tensorflow/tfjs';
import type { NativeAddon, Words } from '../addon.js';
import { i32, sizeOf, words } from '../cpu-data.js';
import { numArrayAttr, numAttr, outF32, outI32, type NativeKernel, type NativeResult } from '../kernel.js';

const MAX_RANK = 8;

/**
 * Drops size-1 axes and merges runs of axes that stay adjacent under the permutation, so a
 * rank-6 transpose that only swaps two blocks becomes a rank-2 one.
 */
export function simplifyPermutation(
  shape: readonly number[],
  perm: readonly number[],
): { shape: number[]; perm: number[] } {
  const keep = shape.map((d, i) => (d !== 1 ? i : -1)).filter((i) => i >= 0);
  const renum = new Map(keep.map((axis, k) => [axis, k]));
  const s1 = keep.map((i) => shape[i] ?? 1);
  const p1 = perm.filter((a) => renum.has(a)).map((a) => renum.get(a) ?? 0);
  // group runs in output order whose input axes are consecutive
  const groups: number[][] = [];
  for (const a of p1) {
    const g = groups[groups.length - 1];
    if (g && g[g.length - 1] === a - 1) g.push(a);
    else groups.push([a]);
  }
  const order = groups.map((g, k) => ({ first: g[0] ?? 0, k })).sort((p, q) => p.first - q.first);
  const newIndex = new Map(order.map(({ k }, pos) => [k, pos]));
  const newShape = new Array<number>(groups.length);
  order.forEach(({ k }, pos) => {
    newShape[pos] = (groups[k] ?? []).reduce((acc, a) => acc * (s1[a] ?? 1), 1);
  });
  return { shape: newShape, perm: groups.map((_, k) => newIndex.get(k) ?? 0) };
}

/** out = transpose(x, perm); false when the simplified rank is too large for the addon. */
export function transposeInto(
  addon: NativeAddon,
  x: Words,
  shape: readonly number[],
  perm: readonly number[],
  out: Words,
): boolean {
  const s = simplifyPermutation(shape, perm);
  if (s.shape.length > MAX_RANK) return false;
  if (s.perm.every((p, i) => p === i)) {
    out.set(x.subarray(0, out.length));
    return true;
  }
  const p = new Float64Array(1 + 2 * s.shape.length);
  p[0] = s.shape.length;
  s.shape.forEach((d, i) => (p[1 + i] = d));
  s.perm.forEach((q, i) => (p[1 + s.shape.length + i] = q));
  addon.transpose(x, out, p);
  return true;
}

function allocLike(x: Words, n: number): Words {
  return x instanceof Float32Array ? outF32(n) : outI32(n);
}

const transpose: NativeKernel = {
  name: 'Transpose',
  note: 'float32 and int32',
  run: ({ inputs, attrs, backend, addon }): NativeResult => {
    const x = inputs['x'];
    const xv = words(backend, x);
    const perm = numArrayAttr(attrs, 'perm');
    if (!x || !xv) return 'input is not float32/int32';
    if (!perm || perm.length !== x.shape.length || !sameSet(perm, x.shape.length)) return 'invalid perm';
    const outShape = perm.map((a) => x.shape[a] ?? 1);
    const out = allocLike(xv, xv.length);
    if (out.length > 0 && !transposeInto(addon, xv, x.shape, perm, out)) return 'rank too large';
    return backend.makeTensorInfo(outShape, x.dtype, out);
  },
};

function sameSet(perm: readonly number[], rank: number): boolean {
  const seen = new Set(perm);
  return seen.size === rank && perm.every((p) => Number.isInteger(p) && p >= 0 && p < rank);
}

const gatherV2: NativeKernel = {
  name: 'GatherV2',
  note: 'float32/int32 values, int32 indices',
  run: ({ inputs, attrs, backend, addon }): NativeResult => {
    const { x, indices } = inputs;
    const iv = i32(backend, indices);
    // tfjs's OneHot stores its int32 result in a Float32Array: gather those as floats and
    // convert, as the JS kernel does when it copies them into an int32 buffer.
    const raw = x?.dtype === 'int32' ? backend.data.get(x.dataId)?.values : undefined;
    const floatInts = raw instanceof Float32Array ? raw : undefined;
    const xv = floatInts ?? words(backend, x);
    if (!x || !indices || !xv || !iv) return 'not float32/int32 values with int32 indices';
    const rank = x.shape.length;
    const axisAttr = numAttr(attrs, 'axis') ?? 0;
    const axis = axisAttr < 0 ? axisAttr + rank : axisAttr;
    const batchDims = numAttr(attrs, 'batchDims') ?? 0;
    if (axis < 0 || axis >= rank || !Number.isInteger(axis)) return 'invalid axis';
    let info: tf.backend_util.segment_util.GatherOpShapeInfo;
    try {
      info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x, indices, axis, batchDims);
    } catch (err) {
      return `invalid gather: ${err instanceof Error ? err.message : String(err)}`;
    }
    const nidx = info.batchSize === 0 ? 0 : sizeOf(indices.shape) / info.batchSize;
    const out = allocLike(xv, sizeOf(info.outputShape));
    if (out.length > 0) {
      const p = new Float64Array([info.batchSize, info.outerSize, info.dimSize, info.sliceSize, nidx]);
      if (!addon.gather(xv, iv, out, p)) return 'index out of range';
    } else if (iv.some((i) => i < 0 || i >= (x.shape[axis] ?? 0))) {
      return 'index out of range';
    }
    return backend.makeTensorInfo(info.outputShape, x.dtype, floatInts ? Int32Array.from(out) : out);
  },
};

export const layoutKernels: NativeKernel[] = [transpose, gatherV2];
