import { ModelautoError } from '../core/errors.js';

/**
 * Pruning masks over flat row-major weights (1 keeps a weight, 0 prunes it), computed the way tfmot's
 * pruning_impl.py does so that a sparsity means the same thing here and there.
 */

/** tf.round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** How many weights of `n` a sparsity keeps: max(round(n * (1 - s)), 1), computed in float32 like tfmot. */
export function keepCount(n: number, sparsity: number): number {
  const keepShare = Math.fround(1 - Math.fround(sparsity));
  return Math.max(roundHalfEven(Math.fround(Math.fround(n) * keepShare)), 1);
}

/**
 * The magnitude threshold that keeps the `keepCount` largest |w| of all given tensors together
 * (tfmot: the k-th largest absolute value; ties at the threshold are kept, so a few more may survive).
 */
export function magnitudeThreshold(tensors: readonly Float32Array[], sparsity: number): number {
  const n = tensors.reduce((s, t) => s + t.length, 0);
  if (n === 0) return 0;
  const abs = new Float32Array(n);
  let o = 0;
  for (const t of tensors) for (let i = 0; i < t.length; i++) abs[o++] = Math.abs(t[i] as number);
  abs.sort();
  return abs[n - keepCount(n, sparsity)] as number;
}

export function thresholdMask(values: Float32Array, threshold: number): Uint8Array {
  const mask = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) mask[i] = Math.abs(values[i] as number) >= threshold ? 1 : 0;
  return mask;
}

/** tfmot's per-tensor magnitude mask: keeps the round(n * (1 - sparsity)) largest weights (at least one). */
export function magnitudeMask(values: Float32Array, sparsity: number): Uint8Array {
  return thresholdMask(values, magnitudeThreshold([values], sparsity));
}

/**
 * m-by-n sparsity (tfmot `sparsity_m_by_n`): `m` zeros in every block of `n` consecutive weights along the
 * input-channel axis (the second-to-last axis of a dense [in, out] or conv [h, w, in, out] kernel), for
 * each output channel and kernel position. A trailing partial block keeps at most n - m weights.
 */
export function mByNMask(values: Float32Array, shape: readonly number[], m: number, n: number): Uint8Array {
  if (shape.length < 2) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `m-by-n sparsity needs a kernel of rank 2 or more, got shape [${shape.join(', ')}]`,
    );
  }
  const out = shape[shape.length - 1] as number;
  const inDim = shape[shape.length - 2] as number;
  const outer = values.length / (out * inDim);
  const keep = n - m;
  const mask = new Uint8Array(values.length);
  const idx: number[] = [];
  for (let r = 0; r < outer; r++) {
    for (let o = 0; o < out; o++) {
      for (let start = 0; start < inDim; start += n) {
        idx.length = 0;
        for (let i = start; i < Math.min(inDim, start + n); i++) idx.push((r * inDim + i) * out + o);
        // Largest magnitudes first; equal magnitudes keep the lower index (stable sort).
        idx.sort((a, b) => Math.abs(values[b] as number) - Math.abs(values[a] as number));
        for (let j = 0; j < Math.min(keep, idx.length); j++) mask[idx[j] as number] = 1;
      }
    }
  }
  return mask;
}

/** Share of zeros in a mask (or of exact zeros in weights). */
export function zeroFraction(values: ArrayLike<number>): number {
  if (values.length === 0) return 0;
  let zeros = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) zeros++;
  return zeros / values.length;
}
