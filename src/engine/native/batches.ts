import * as tf from '@tensorflow/tfjs';
import { loadAddon } from './addon.js';
import { asCpuBackend } from './cpu-data.js';
import { nativeKernelsInstalled } from './install.js';
import { outF32 } from './kernel.js';

/**
 * A mini-batch tensor of the rows `idx[from..to)` of a flat row-major float32 matrix (rows of
 * prod(rowShape) values), shape [to - from, ...rowShape]. A training loop makes two of these
 * per step; built from a fresh JS array each time, they cost a multi-hundred-kilobyte
 * allocation (zero-filled, then page-faulted in and left to the garbage collector) plus a
 * row-by-row copy. On tfjs's cpu backend with the native kernels installed, the rows are copied
 * by the addon (on several threads) into a recycled buffer-pool array instead; the result is
 * the same tensor.
 */
export function gatherRowsTensor(
  src: Float32Array,
  rowShape: readonly number[],
  idx: Int32Array,
  from: number,
  to: number,
): tf.Tensor {
  const d = rowShape.reduce((a, b) => a * b, 1);
  const rows = to - from;
  const shape = [rows, ...rowShape];
  const load = loadAddon();
  // only while the native kernels are installed: the 'cpu' backend choice means JS only
  const nativeActive =
    load.ok &&
    nativeKernelsInstalled() &&
    tf.getBackend() === 'cpu' &&
    asCpuBackend(tf.backend()) !== undefined;
  if (nativeActive && d > 0 && rows > 0 && src.length % d === 0) {
    const out = outF32(rows * d);
    const p = new Float64Array([1, 1, src.length / d, d, rows]);
    // false: an index out of range (nothing written); the JS path below reports it the same way
    if (load.addon.gather(src, idx.subarray(from, to), out, p)) return tf.tensor(out, shape, 'float32');
  }
  const out = new Float32Array(rows * d);
  for (let i = from; i < to; i++) {
    const r = idx[i] as number;
    if (!(r >= 0 && (r + 1) * d <= src.length)) throw new RangeError(`row ${r} out of range`);
    out.set(src.subarray(r * d, (r + 1) * d), (i - from) * d);
  }
  return tf.tensor(out, shape, 'float32');
}
