import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ModelautoError } from '../core/errors.js';
import { parseWith } from './parse.js';
import { encodeModelFiles, type CapturedModel, type ModelFiles } from './serialize.js';
import { encodeFloat16 } from './float16.js';

/**
 * Weight quantization in tfjs's own model.json format, so that stock `tf.loadLayersModel` dequantizes
 * on load: `quantization: {dtype: 'uint8' | 'uint16', scale, min}` (value = q * scale + min) or
 * `{dtype: 'float16'}`. Affine parameters are computed as the tfjs converter does (quantization.py):
 * scale = (max - min) / (2^bits - 1) over the whole tensor, and when the range holds 0 the minimum is
 * nudged to -round(-min / scale) * scale so that 0 is represented exactly — pruned zeros stay zeros.
 * This shrinks the download only: tfjs computes in float32 after loading.
 */
export const QUANT_DTYPES = ['float32', 'float16', 'uint16', 'uint8'] as const;
export type QuantDtype = (typeof QUANT_DTYPES)[number];
export const QuantDtypeSchema = z.enum(QUANT_DTYPES);

export const QuantizationPlanSchema = z.strictObject({
  /** dtype for every layer's float weights not named in `layers`. */
  default: QuantDtypeSchema,
  /** Per-layer dtype by layer name. */
  layers: z.record(z.string(), QuantDtypeSchema).default({}),
});
export type QuantizationPlan = z.infer<typeof QuantizationPlanSchema>;
export type QuantizationPlanInput = z.input<typeof QuantizationPlanSchema>;

export function parseQuantizationPlan(input: unknown, path = 'quantize'): QuantizationPlan {
  return parseWith(QuantizationPlanSchema, input, path);
}

/** numpy's np.round: halves to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface AffineQuantized {
  q: Uint8Array | Uint16Array;
  scale: number;
  min: number;
}

/** tfjs converter's affine quantization of one tensor (quantize_weights + _get_affine_quantization_range). */
export function quantizeAffine(values: Float32Array, dtype: 'uint8' | 'uint16'): AffineQuantized {
  const qmax = dtype === 'uint8' ? 255 : 65535;
  const q = dtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (values.length === 0 || lo === hi) return { q, scale: 1, min: values.length === 0 ? 0 : lo };
  const scale = (hi - lo) / qmax;
  let min = lo;
  let max = hi;
  if (lo <= 0 && 0 <= hi) {
    const zeroPoint = roundHalfEven(-lo / scale);
    min = -zeroPoint * scale;
    max = qmax * scale + min;
  }
  for (let i = 0; i < values.length; i++) {
    const v = Math.min(max, Math.max(min, values[i] as number));
    q[i] = Math.min(qmax, Math.max(0, roundHalfEven((v - min) / scale)));
  }
  return { q, scale, min };
}

/** What stock tfjs reconstructs from affine codes (io_utils decodeWeight: q * scale + min, in float32). */
export function dequantizeAffine(a: AffineQuantized): Float32Array {
  const out = new Float32Array(a.q.length);
  for (let i = 0; i < a.q.length; i++) out[i] = (a.q[i] as number) * a.scale + a.min;
  return out;
}

function layerOf(weightName: string): string {
  const slash = weightName.lastIndexOf('/');
  return slash < 0 ? weightName : weightName.slice(0, slash);
}

export interface QuantizedWeight {
  name: string;
  layer: string;
  dtype: QuantDtype;
  values: number;
  bytes: number;
}

export interface QuantizedModel {
  files: ModelFiles;
  weights: QuantizedWeight[];
}

/** Layer names the plan may mention: layers that own at least one float32 weight. */
export function quantizableLayers(captured: CapturedModel): string[] {
  return [...new Set(captured.weightSpecs.filter((s) => s.dtype === 'float32').map((s) => layerOf(s.name)))];
}

/**
 * Re-encodes a captured model's weights following the plan and returns model.json + weights.bin bytes.
 * Every float32 weight of a layer (kernel and bias alike, as the tfjs converter does) takes the layer's
 * dtype; other dtypes are copied as they are.
 */
export function quantizeModelFiles(
  captured: CapturedModel,
  planInput: QuantizationPlan | QuantizationPlanInput,
): QuantizedModel {
  const plan = parseQuantizationPlan(planInput);
  const known = new Set(quantizableLayers(captured));
  const unknown = Object.keys(plan.layers).filter((l) => !known.has(l));
  if (unknown.length > 0) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `quantize.layers: unknown layer ${unknown.map((n) => `"${n}"`).join(', ')}; layers with float weights: ${[...known].join(', ')}`,
    );
  }
  const chunks: Uint8Array[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  const weights: QuantizedWeight[] = [];
  let offset = 0;
  for (const spec of captured.weightSpecs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const nbytes = count * (spec.dtype === 'bool' ? 1 : 4);
    const raw = captured.weightData.subarray(offset, offset + nbytes);
    offset += nbytes;
    const layer = layerOf(spec.name);
    const dtype: QuantDtype = spec.dtype === 'float32' ? (plan.layers[layer] ?? plan.default) : 'float32';
    const base = { name: spec.name, shape: spec.shape, dtype: spec.dtype };
    let bytes: Uint8Array;
    if (dtype === 'float32' || spec.dtype !== 'float32') {
      bytes = raw.slice();
      specs.push(base);
    } else {
      const values = new Float32Array(raw.slice().buffer);
      if (dtype === 'float16') {
        bytes = new Uint8Array(encodeFloat16(values).buffer);
        specs.push({ ...base, quantization: { dtype: 'float16' } });
      } else {
        const a = quantizeAffine(values, dtype);
        bytes = new Uint8Array(a.q.buffer, a.q.byteOffset, a.q.byteLength);
        specs.push({ ...base, quantization: { dtype, scale: a.scale, min: a.min } });
      }
    }
    chunks.push(bytes);
    weights.push({
      name: spec.name,
      layer,
      dtype: spec.dtype === 'float32' ? dtype : 'float32',
      values: count,
      bytes: bytes.byteLength,
    });
  }
  if (offset !== captured.weightData.byteLength) {
    throw new ModelautoError(
      'INTERNAL',
      `weight specs cover ${offset} bytes but the model saved ${captured.weightData.byteLength}`,
    );
  }
  const total = chunks.reduce((s, c) => s + c.byteLength, 0);
  const data = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    data.set(c, o);
    o += c.byteLength;
  }
  return { files: encodeModelFiles(captured, specs, data), weights };
}
