import type * as tf from '@tensorflow/tfjs';
import { sameShape } from '../broadcast.js';
import { asCpuBackend, f32, sizeOf, type CpuBackendLike } from '../cpu-data.js';
import { numAttr, outF32, type NativeKernel, type NativeResult } from '../kernel.js';

/**
 * Fused kernels for the tail of a classifier's training step. tfjs computes the Softmax
 * gradient with four kernels and layers' categoricalCrossentropy with eight forward and about
 * twenty backward kernels on [batch, classes] tensors that are tiny: each kernel costs far more
 * in tfjs's dispatch and tape bookkeeping than in arithmetic. These are not tfjs kernels; the
 * gradient override in ../gradients.ts and the loss override in ../losses.ts call them, and
 * each has a plain JS implementation (`reference`) that runs when the addon declines a call.
 */
export const SOFTMAX_GRAD = 'ModelautoSoftmaxGrad';
export const CATEGORICAL_CROSSENTROPY = 'ModelautoCategoricalCrossentropy';
export const CATEGORICAL_CROSSENTROPY_GRAD = 'ModelautoCategoricalCrossentropyGrad';

const fround = Math.fround;

/** Row count and width of a tensor viewed as [rows, last axis]. */
function rowsCols(shape: readonly number[]): { rows: number; cols: number } {
  const cols = shape[shape.length - 1] ?? 1;
  return { rows: cols === 0 ? 0 : sizeOf(shape) / cols, cols };
}

/**
 * Targets as float32 values, as tfjs's cast(target, 'float32') gives them. int32 and bool
 * targets are converted; tfjs's OneHot keeps int32 results in a Float32Array, used as is.
 */
function targetValues(backend: CpuBackendLike, t: tf.TensorInfo | undefined): Float32Array | undefined {
  if (!t) return undefined;
  const v = backend.data.get(t.dataId)?.values;
  if (v instanceof Float32Array) return v;
  if ((t.dtype === 'int32' && v instanceof Int32Array) || (t.dtype === 'bool' && v instanceof Uint8Array))
    return Float32Array.from(v);
  return undefined;
}

function cpu(backend: unknown, kernel: string): CpuBackendLike {
  const b = asCpuBackend(backend);
  if (!b) throw new Error(`${kernel}: not tfjs's cpu backend`);
  return b;
}

// ---- Softmax gradient: dx = dy * y - sum(dy * y, last axis) * y -------------------------------

const softmaxGradReference: tf.KernelFunc = ({ inputs, backend }) => {
  const b = cpu(backend, SOFTMAX_GRAD);
  const { dy, y } = inputs;
  const dv = f32(b, dy);
  const yv = f32(b, y);
  if (!dy || !y || !dv || !yv || dv.length !== yv.length) throw new Error(`${SOFTMAX_GRAD}: bad inputs`);
  const { rows, cols } = rowsCols(y.shape);
  const out = new Float32Array(yv.length);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = r * cols; j < (r + 1) * cols; j++) {
      out[j] = fround((dv[j] as number) * (yv[j] as number));
      s += out[j] as number;
    }
    const sf = fround(s);
    for (let j = r * cols; j < (r + 1) * cols; j++)
      out[j] = fround((out[j] as number) - fround(sf * (yv[j] as number)));
  }
  return b.makeTensorInfo(y.shape.slice(), 'float32', out);
};

export const softmaxGradKernel: NativeKernel = {
  name: SOFTMAX_GRAD,
  note: 'Softmax gradient (tfjs: Multiply, Sum, Multiply, Sub) in one pass',
  reference: softmaxGradReference,
  run: ({ inputs, backend, addon }): NativeResult => {
    const { dy, y } = inputs;
    const dv = f32(backend, dy);
    const yv = f32(backend, y);
    if (!dy || !y || !dv || !yv || !sameShape(dy.shape, y.shape) || y.shape.length === 0)
      return 'inputs are not float32 of one shape';
    const { rows, cols } = rowsCols(y.shape);
    const out = outF32(yv.length);
    if (out.length > 0) addon.softmaxGrad(dv, yv, out, rows, cols);
    return backend.makeTensorInfo(y.shape.slice(), 'float32', out);
  },
};

// ---- categoricalCrossentropy of probabilities (tfjs-layers' losses.categoricalCrossentropy) ----

interface CceArgs {
  backend: CpuBackendLike;
  t: Float32Array;
  o: Float32Array;
  shape: number[];
  rows: number;
  cols: number;
  eps: number;
}

function cceArgs(
  backend: CpuBackendLike,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
): CceArgs | string {
  const { target, output } = inputs;
  const o = f32(backend, output);
  const t = targetValues(backend, target);
  if (!target || !output || !o || !t) return 'output is not float32 or target not float32/int32/bool';
  if (!sameShape(target.shape, output.shape) || output.shape.length === 0)
    return 'target and output differ in shape';
  const eps = numAttr(attrs, 'epsilon');
  if (eps === undefined) return 'epsilon missing';
  return { backend, t, o, shape: output.shape, eps, ...rowsCols(output.shape) };
}

/** tfjs's ClipByValue: compared as numbers, stored as float32. */
const clip = (p: number, lo: number, hi: number): number => fround(p > hi ? hi : p < lo ? lo : p);

const cceReference: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const a = cceArgs(cpu(backend, CATEGORICAL_CROSSENTROPY), inputs, attrs ?? {});
  if (typeof a === 'string') throw new Error(`${CATEGORICAL_CROSSENTROPY}: ${a}`);
  const loss = new Float32Array(a.rows);
  for (let r = 0; r < a.rows; r++) {
    const base = r * a.cols;
    let s = 0;
    for (let j = 0; j < a.cols; j++) s += a.o[base + j] as number;
    const sf = fround(s);
    let acc = 0;
    for (let j = 0; j < a.cols; j++) {
      const q = clip(fround((a.o[base + j] as number) / sf), a.eps, 1 - a.eps);
      acc += fround((a.t[base + j] as number) * fround(Math.log(q)));
    }
    loss[r] = -fround(acc);
  }
  return a.backend.makeTensorInfo(a.shape.slice(0, -1), 'float32', loss);
};

export const categoricalCrossentropyKernel: NativeKernel = {
  name: CATEGORICAL_CROSSENTROPY,
  note: "tfjs-layers' categoricalCrossentropy (normalise, clip, log, sum) in one pass",
  reference: cceReference,
  run: ({ inputs, attrs, backend, addon }): NativeResult => {
    const a = cceArgs(backend, inputs, attrs);
    if (typeof a === 'string') return a;
    const loss = outF32(a.rows);
    if (a.rows > 0) addon.categoricalCrossentropy(a.t, a.o, loss, a.rows, a.cols, a.eps);
    return backend.makeTensorInfo(a.shape.slice(0, -1), 'float32', loss);
  },
};

const cceGradReference: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const b = cpu(backend, CATEGORICAL_CROSSENTROPY_GRAD);
  const a = cceArgs(b, inputs, attrs ?? {});
  const dl = f32(b, inputs['dy']);
  if (typeof a === 'string' || !dl || dl.length !== a.rows)
    throw new Error(`${CATEGORICAL_CROSSENTROPY_GRAD}: bad inputs`);
  const g = new Float32Array(a.rows * a.cols);
  const flo = fround(a.eps);
  const fhi = fround(1 - a.eps);
  for (let r = 0; r < a.rows; r++) {
    const base = r * a.cols;
    let s = 0;
    for (let j = 0; j < a.cols; j++) s += a.o[base + j] as number;
    const sf = fround(s);
    const up = -(dl[r] as number);
    let dot = 0;
    for (let j = 0; j < a.cols; j++) {
      const o = a.o[base + j] as number;
      const p = fround(o / sf);
      const q = clip(p, a.eps, 1 - a.eps);
      const dq = fround(fround(up * (a.t[base + j] as number)) / q);
      const dp = p >= flo && p <= fhi ? dq : 0;
      g[base + j] = fround(dp / sf);
      dot += fround(dp * o);
    }
    const ds = -fround(fround(dot) / fround(sf * sf));
    for (let j = 0; j < a.cols; j++) g[base + j] = fround((g[base + j] as number) + ds);
  }
  return b.makeTensorInfo(a.shape.slice(), 'float32', g);
};

export const categoricalCrossentropyGradKernel: NativeKernel = {
  name: CATEGORICAL_CROSSENTROPY_GRAD,
  note: 'its gradient w.r.t. the predictions in one pass',
  reference: cceGradReference,
  run: ({ inputs, attrs, backend, addon }): NativeResult => {
    const a = cceArgs(backend, inputs, attrs);
    if (typeof a === 'string') return a;
    const dy = inputs['dy'];
    const dl = f32(backend, dy);
    if (!dy || !dl || dl.length !== a.rows) return 'dy is not float32 with one value per row';
    const g = outF32(a.rows * a.cols);
    if (g.length > 0) addon.categoricalCrossentropyGrad(dl, a.t, a.o, g, a.rows, a.cols, a.eps);
    return backend.makeTensorInfo(a.shape.slice(), 'float32', g);
  },
};

export const lossKernels: NativeKernel[] = [
  softmaxGradKernel,
  categoricalCrossentropyKernel,
  categoricalCrossentropyGradKernel,
];
