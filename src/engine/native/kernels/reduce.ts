import type * as tf from '@tensorflow/tfjs';
import { f32, sizeOf } from '../cpu-data.js';
import { outF32, outI32, type NativeCall, type NativeKernel, type NativeResult } from '../kernel.js';
import { transposeInto } from './layout.js';
import { columnSumsFor } from './relu-grad.js';

/** Codes shared with native/src/reduce.h. */
const OPS = { Sum: 0, Mean: 1, Max: 2, Min: 3, Prod: 4, ArgMax: 5, ArgMin: 6 } as const;
type ReduceName = keyof typeof OPS;

/** tfjs's util.parseAxisParam: undefined/null means every axis; negatives count from the end. */
export function parseAxes(value: tf.NamedAttrMap[string] | undefined, rank: number): number[] | undefined {
  if (value === undefined || value === null) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof value === 'number' ? [value] : Array.isArray(value) ? value : undefined;
  if (!list || !list.every((v): v is number => typeof v === 'number' && Number.isInteger(v)))
    return undefined;
  const axes = list.map((a) => (a < 0 ? a + rank : a));
  if (axes.some((a) => a < 0 || a >= Math.max(rank, 1))) return undefined;
  return [...new Set(axes)].sort((p, q) => p - q);
}

function reduce(name: ReduceName, axisAttr: string): NativeKernel {
  const arg = name === 'ArgMax' || name === 'ArgMin';
  return {
    name,
    run: (call: NativeCall): NativeResult => {
      const { inputs, attrs, backend, addon } = call;
      const x = inputs['x'];
      let xv = f32(backend, x);
      if (!x || !xv) return 'input is not float32';
      const rank = x.shape.length;
      let axes = parseAxes(attrs[axisAttr], rank);
      if (!axes) return 'invalid axis';
      if (arg) {
        if (axes.length === 0) return 'no axis';
        axes = [axes[0] ?? 0];
      }
      const keepDims = attrs['keepDims'] === true;
      const reduced = new Set(axes);
      const outShape: number[] = [];
      x.shape.forEach((d, i) => {
        if (!reduced.has(i)) outShape.push(d);
        else if (keepDims && !arg) outShape.push(1);
      });
      // a bias gradient the fused Relu gradient already summed
      const known = name === 'Sum' ? columnSumsFor(x, axes) : undefined;
      if (known) return backend.makeTensorInfo(outShape, 'float32', known.slice());
      // [O, R, I] view: the reduced axes (ignoring size-1 axes) must be one contiguous block,
      // otherwise move them to the end first.
      const big = x.shape.map((d, i) => ({ d, i })).filter(({ d }) => d !== 1);
      const firstR = big.findIndex(({ i }) => reduced.has(i));
      let lastR = -1;
      big.forEach(({ i }, k) => {
        if (reduced.has(i)) lastR = k;
      });
      let O = 1;
      let R = 1;
      let I = 1;
      const contiguous = firstR < 0 || big.slice(firstR, lastR + 1).every(({ i }) => reduced.has(i));
      if (contiguous) {
        big.forEach(({ d }, k) => {
          if (firstR < 0 || k < firstR) O *= d;
          else if (k <= lastR) R *= d;
          else I *= d;
        });
      } else {
        const kept = x.shape.map((_, i) => i).filter((i) => !reduced.has(i));
        const perm = [...kept, ...axes];
        const moved = outF32(xv.length);
        transposeInto(addon, xv, x.shape, perm, moved);
        xv = moved;
        O = sizeOf(kept.map((i) => x.shape[i] ?? 1));
        R = sizeOf(axes.map((i) => x.shape[i] ?? 1));
      }
      const n = O * I;
      if (arg) {
        const out = outI32(n);
        if (n > 0) addon.reduce(OPS[name], xv, out, O, R, I);
        return backend.makeTensorInfo(outShape, 'int32', out);
      }
      const out = outF32(n);
      if (n > 0) addon.reduce(OPS[name], xv, out, O, R, I);
      return backend.makeTensorInfo(outShape, 'float32', out);
    },
  };
}

const softmax: NativeKernel = {
  name: 'Softmax',
  note: 'last axis only (as in tfjs)',
  run: ({ inputs, attrs, backend, addon }): NativeResult => {
    const x = inputs['logits'];
    const xv = f32(backend, x);
    if (!x || !xv) return 'input is not float32';
    const rank = x.shape.length;
    const dim = attrs['dim'];
    if (rank === 0 || (dim !== -1 && dim !== rank - 1)) return 'softmax over a non-last axis';
    const cols = x.shape[rank - 1] ?? 1;
    const out = outF32(xv.length);
    if (out.length > 0) addon.softmax(xv, out, xv.length / cols, cols, false);
    return backend.makeTensorInfo(x.shape.slice(), 'float32', out);
  },
};

export const reduceKernels: NativeKernel[] = [
  reduce('Sum', 'axis'),
  reduce('Mean', 'axis'),
  reduce('Max', 'reductionIndices'),
  reduce('Min', 'axis'),
  reduce('Prod', 'axis'),
  reduce('ArgMax', 'axis'),
  reduce('ArgMin', 'axis'),
  softmax,
];
