/**
 * Decoding the fast lane's bodies (fast-body.ts) against a version's signature: the common case of
 * one tensor input (images, raw feature vectors), already read into typed arrays. Returns undefined
 * whenever the general decoder (decode-tf.ts, decode-oip.ts) might say anything else than "fine", so
 * that the caller takes the general path and its exact answers and messages.
 */
import { numbersFit } from './datatypes.js';
import type { DecodedRequest } from './decode-tf.js';
import { shapeFits } from './decode-oip.js';
import { sampleSizeOf } from './decode-values.js';
import type { FastInfer, FastInstances } from './fast-body.js';
import type { ServedInput, ServedSignature } from './signature.js';

type TensorInput = Extract<ServedInput, { role: 'tensor' }>;

/** The signature's only input when it is a tensor with at least one dimension per sample. */
function singleTensor(sig: ServedSignature): TensorInput | undefined {
  if (sig.inputs.length !== 1) return undefined;
  const input = sig.inputs[0] as ServedInput;
  return input.role === 'tensor' && input.sampleShape.length > 0 ? input : undefined;
}

/** TF Serving rows of flat samples (what decode-tf.ts reads from `instances` for such an input). */
export function decodeFastInstances(body: FastInstances, sig: ServedSignature): DecodedRequest | undefined {
  const input = singleTensor(sig);
  if (!input || sampleSizeOf(input.sampleShape) !== body.width) return undefined;
  return {
    inputs: new Map([[input.name, { role: 'tensor', data: body.data }]]),
    rows: body.rows,
    rowName: (row, name) => `instances[${row}]${name !== undefined ? `.${name}` : ''}`,
  };
}

/** One OIP input tensor with flat data (what decode-oip.ts reads for such an input). */
export function decodeFastInfer(body: FastInfer, sig: ServedSignature): DecodedRequest | undefined {
  const input = singleTensor(sig);
  const t = body.inputs[0];
  if (!input || !t || body.inputs.length !== 1 || t.name !== input.name) return undefined;
  const rows = t.shape[0];
  if (!rows || !shapeFits(input, t.shape)) return undefined;
  if (t.data.values.length !== sampleSizeOf(t.shape)) return undefined;
  if (!numbersFit(t.datatype, t.data.values, t.data.integers)) return undefined;
  return {
    inputs: new Map([[input.name, { role: 'tensor', data: Float32Array.from(t.data.values) }]]),
    rows,
    rowName: (row, name) =>
      name !== undefined ? `inputs[${name === t.name ? t.index : '?'}] ("${name}") row ${row}` : `row ${row}`,
  };
}
