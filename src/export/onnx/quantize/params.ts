import { z } from 'zod';
import { ModelautoError } from '../../../core/errors.js';
import { formatZodError } from '../../../core/zod-error.js';

/**
 * Affine int8 quantization parameters, as ONNX QuantizeLinear/DequantizeLinear define them:
 * q = saturate(round(x / scale) + zero_point), x ≈ (q - zero_point) * scale (round half to even).
 */
export interface Range {
  min: number;
  max: number;
}

/**
 * Activation ranges by layer name, as quantization-aware training records them (`qat-ranges.json`) and
 * as `--ranges file.json` takes them.
 */
export const RangesSchema = z.record(
  z.string(),
  z.strictObject({ min: z.number(), max: z.number() }).refine((r) => r.max >= r.min, 'expected min <= max'),
);

/** Parses a JSON text of ranges; errors name the file (or artifact) and the offending field. */
export function parseRanges(text: string, file: string): Record<string, Range> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelautoError('USAGE', `cannot read a JSON object of ranges: ${(e as Error).message}`, {
      location: { file },
    });
  }
  const r = RangesSchema.safeParse(json);
  if (!r.success)
    throw new ModelautoError('USAGE', formatZodError(r.error, 'ranges'), { location: { file } });
  return r.data;
}

export interface ActivationParams {
  scale: number;
  zeroPoint: number;
}

/** uint8 activation parameters for a calibrated range; the range is widened to hold 0 exactly. */
export function activationParams(range: Range): ActivationParams {
  const lo = Math.min(range.min, 0);
  const hi = Math.max(range.max, 0);
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((hi - lo) / 255);
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { scale, zeroPoint };
}

export interface WeightQuantization {
  q: Int8Array;
  /** One scale per channel along `axis` (or one for the tensor). */
  scales: Float32Array;
}

/**
 * Symmetric int8 weights, one scale per channel along `axis` of a row-major tensor. `bits` 7 keeps
 * values in [-64, 63] so that AVX2's u8*s8 pair sums cannot saturate on machines without VNNI.
 */
export function quantizeWeights(
  data: Float32Array,
  dims: number[],
  axis: number,
  bits: 7 | 8 = 8,
): WeightQuantization {
  const channels = dims[axis] ?? 1;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const qmax = bits === 8 ? 127 : 63;
  const absMax = new Float32Array(channels);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    absMax[c] = Math.max(absMax[c] as number, Math.abs(data[i] as number));
  }
  const scales = absMax.map((m) => (m > 0 ? Math.fround(m / qmax) : 1));
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    q[i] = Math.max(-qmax, Math.min(qmax, roundHalfEven((data[i] as number) / (scales[c] as number))));
  }
  return { q, scales };
}

/** Bias as int32 with scale input_scale * weight_scale[c] (what QLinearConv/QGemm add in their accumulator). */
export function quantizeBias(
  bias: Float32Array,
  inputScale: number,
  weightScales: Float32Array,
): { q: Int32Array; scales: Float32Array } {
  const scales = Float32Array.from(
    bias,
    (_, c) =>
      inputScale * (weightScales.length === 1 ? (weightScales[0] as number) : (weightScales[c] as number)),
  );
  const q = Int32Array.from(bias, (b, c) => {
    const v = roundHalfEven(b / (scales[c] as number));
    return Math.max(-2147483647, Math.min(2147483647, v));
  });
  return { q, scales };
}

export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
