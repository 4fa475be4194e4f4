import { ModelautoError } from '../../../core/errors.js';
import type { OnnxGraph } from '../graph.js';
import { DataType } from '../proto.js';
import { encodeModel } from '../proto.js';
import { createSession, runSession, type FeedValue } from '../runtime.js';
import type { Range } from './params.js';

export const CALIBRATION_METHODS = ['minmax', 'percentile'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

export interface CalibrationOptions {
  method?: CalibrationMethod;
  /** For `percentile`: the share of values kept inside the range, in percent (default 99.999). */
  percentile?: number;
  /** Values kept per tensor for percentile estimates (default 200,000; evenly strided). */
  sampleLimit?: number;
}

/**
 * Runs the float graph on calibration batches with the listed tensors exposed as extra outputs and
 * returns each tensor's range: the observed min/max, or the percentile range (both tails clipped) that
 * ignores rare outliers so the common values keep more of the 256 levels.
 */
export async function calibrate(
  graph: OnnxGraph,
  tensors: string[],
  batches: Record<string, FeedValue>[],
  options: CalibrationOptions = {},
): Promise<Map<string, Range>> {
  if (batches.length === 0)
    throw new ModelautoError('INVALID_ARGUMENT', 'calibration: no calibration samples given');
  const method = options.method ?? 'minmax';
  const percentile = options.percentile ?? 99.999;
  if (!(percentile > 50 && percentile <= 100)) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `calibration.percentile: expected a value in (50, 100], got ${percentile}`,
    );
  }
  const probe = graph.clone();
  const outputs = new Set(probe.outputs.map((o) => o.name));
  for (const t of tensors)
    if (!outputs.has(t)) probe.addOutput({ name: t, elemType: DataType.FLOAT, shape: [] });
  // Shapes of probed tensors are left to onnxruntime's inference: declare them rank-free.
  const model = probe.toModel({ producerVersion: 'calibration' });
  for (const o of model.graph.output) {
    if (!outputs.has(o.name)) o.type = { tensor_type: { elem_type: DataType.FLOAT } };
  }
  const session = await createSession(encodeModel(model));
  const minmax = new Map<string, Range>();
  const samples = new Map<string, number[]>();
  const limit = options.sampleLimit ?? 200_000;
  try {
    for (const feeds of batches) {
      const result = await runSession(session, feeds);
      for (const t of tensors) {
        const out = result[t];
        if (!out) throw new ModelautoError('INTERNAL', `calibration: tensor ${t} was not produced`);
        const r = minmax.get(t) ?? { min: Infinity, max: -Infinity };
        for (const v of out.data) {
          if (v < r.min) r.min = v;
          if (v > r.max) r.max = v;
        }
        minmax.set(t, r);
        if (method === 'percentile') {
          const kept = samples.get(t) ?? [];
          const stride = Math.max(1, Math.ceil((out.data.length * batches.length) / limit));
          for (let i = 0; i < out.data.length; i += stride) kept.push(out.data[i] as number);
          samples.set(t, kept);
        }
      }
    }
  } finally {
    await session.release();
  }
  if (method === 'minmax') return minmax;
  const ranges = new Map<string, Range>();
  for (const t of tensors) {
    const values = Float32Array.from(samples.get(t) ?? []).sort();
    ranges.set(t, { min: quantile(values, 1 - percentile / 100), max: quantile(values, percentile / 100) });
  }
  return ranges;
}

/** Linear-interpolated quantile of sorted values. */
export function quantile(sorted: Float32Array, q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}
