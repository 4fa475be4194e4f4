import * as tf from '@tensorflow/tfjs';
import { sameShape } from '../broadcast.js';
import { f32, sizeOf } from '../cpu-data.js';
import { outF32, type NativeKernel, type NativeResult } from '../kernel.js';

/**
 * tfjs computes the Relu gradient as mul(dy, step(x)): two passes over the activations and an
 * intermediate tensor. This kernel (not one of tfjs's; the gradient override in
 * ../gradients.ts calls it) does it in one pass, and in the same pass sums the result over all
 * but its last axis: the gradient of the bias added just before the ReLU, which tfjs's Add
 * gradient asks for next (see columnSumsFor).
 */
export const RELU_GRAD = 'ModelautoReluGrad';

/** Last-axis widths for which the fused pass also sums columns. */
const MAX_SUM_COLUMNS = 4096;

interface ColumnSums {
  rank: number;
  sums: Float32Array;
}

/**
 * Column sums of a ReluGrad output, keyed by its data id (tensor data is immutable, and the
 * entry goes away with the data id).
 */
const columnSums = new WeakMap<object, ColumnSums>();

/**
 * The sums over axes 0..rank-2 of `x` when a fused kernel computed them already, else undefined.
 * `axes` must be sorted (as parseAxes returns them).
 */
export function columnSumsFor(x: tf.TensorInfo, axes: readonly number[]): Float32Array | undefined {
  const memo = columnSums.get(x.dataId);
  if (!memo || memo.rank !== x.shape.length || axes.length !== memo.rank - 1) return undefined;
  return axes.every((a, i) => a === i) ? memo.sums : undefined;
}

/** What tfjs computes (mul(dy, step(x))), through whatever Step and Multiply kernels are registered. */
const reference: tf.KernelFunc = ({ inputs, backend }) => {
  const step = tf.getKernel('Step', 'cpu');
  const mul = tf.getKernel('Multiply', 'cpu');
  const { dy, x } = inputs;
  if (!step || !mul || !dy || !x) throw new Error(`${RELU_GRAD}: the cpu backend lacks Step/Multiply`);
  const s = step.kernelFunc({ inputs: { x }, backend, attrs: { alpha: 0 } }) as tf.TensorInfo;
  try {
    return mul.kernelFunc({ inputs: { a: dy, b: s }, backend, attrs: {} });
  } finally {
    const b = backend as { disposeIntermediateTensorInfo?: (t: tf.TensorInfo) => void };
    b.disposeIntermediateTensorInfo?.(s);
  }
};

export const reluGradKernel: NativeKernel = {
  name: RELU_GRAD,
  note: 'Relu gradient (dy * step(x)) and the following bias gradient in one pass',
  reference,
  run: ({ inputs, backend, addon }): NativeResult => {
    const { dy, x } = inputs;
    const dv = f32(backend, dy);
    const xv = f32(backend, x);
    if (!dy || !x || !dv || !xv || !sameShape(dy.shape, x.shape))
      return 'inputs are not float32 of one shape';
    const n = sizeOf(x.shape);
    const out = outF32(n);
    const rank = x.shape.length;
    const cols = rank >= 2 ? (x.shape[rank - 1] ?? 0) : 0;
    const sums = cols > 0 && cols <= MAX_SUM_COLUMNS && n > cols ? new Float32Array(cols) : null;
    if (n > 0) addon.reluGrad(dv, xv, out, sums, sums ? cols : 0);
    const info = backend.makeTensorInfo(x.shape.slice(), 'float32', out);
    if (sums && n > 0) columnSums.set(info.dataId, { rank, sums });
    return info;
  },
};
