import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import {
  layerWeights,
  requireWeight,
  unsupported,
  type ConvertContext,
  type Fold,
  type Value,
} from '../context.js';
import { layerConfig, single, type LayerCall } from './common.js';

const BatchNormConfig = z.looseObject({
  axis: z.union([z.number().int(), z.array(z.number().int())]).default(-1),
  epsilon: z.number().positive().default(1e-3),
  center: z.boolean().default(true),
  scale: z.boolean().default(true),
});

/** The normalized axis, positive; refuses several axes. */
export function batchNormAxis(layer: tf.layers.Layer, rank: number): number {
  const cfg = layerConfig(layer, BatchNormConfig);
  const axes = Array.isArray(cfg.axis) ? cfg.axis : [cfg.axis];
  const [axis] = axes;
  if (axes.length !== 1 || axis === undefined)
    throw unsupported(layer, `normalization over several axes [${axes.join(', ')}]`);
  return axis < 0 ? axis + rank : axis;
}

/** Inference-time BatchNormalization as y = x * scale + shift per channel (moving statistics). */
export function batchNormAffine(layer: tf.layers.Layer): Fold {
  const cfg = layerConfig(layer, BatchNormConfig);
  const w = layerWeights(layer);
  const mean = requireWeight(layer, w, 'moving_mean').data;
  const variance = requireWeight(layer, w, 'moving_variance').data;
  const gamma = cfg.scale ? requireWeight(layer, w, 'gamma').data : undefined;
  const beta = cfg.center ? requireWeight(layer, w, 'beta').data : undefined;
  const scale = new Float32Array(mean.length);
  const shift = new Float32Array(mean.length);
  for (let c = 0; c < mean.length; c++) {
    const s = (gamma?.[c] ?? 1) / Math.sqrt((variance[c] as number) + cfg.epsilon);
    scale[c] = s;
    shift[c] = (beta?.[c] ?? 0) - (mean[c] as number) * s;
  }
  return { scale, shift, name: layer.name };
}

/**
 * A BatchNormalization that could not be folded: Mul + Add broadcast along the channel axis. Only the
 * last axis (tfjs's default) is exported: for other axes tfjs 4's inference tiles the parameters along
 * the flattened value instead of broadcasting them, so no correct graph could match it.
 */
export function convertBatchNorm(ctx: ConvertContext, call: LayerCall): Value {
  const { layer, base } = call;
  const g = ctx.graph;
  const v = single(call);
  const rank = v.shape.length;
  const axis = batchNormAxis(layer, rank);
  if (axis !== rank - 1)
    throw unsupported(layer, `normalization over axis ${axis} of a rank-${rank} value (only the last axis)`);
  const { scale, shift } = batchNormAffine(layer);
  // [C] broadcasts along the last axis of a tfjs-layout value, [C, 1, 1] along the channels of NCHW.
  const dims = v.layout === 'nchw' ? [scale.length, 1, 1] : [scale.length];
  const scaled = g.op('Mul', [v.name, g.floats(`${layer.name}_scale`, dims, scale)], `${base}_scaled`);
  const y = g.op('Add', [scaled, g.floats(`${layer.name}_shift`, dims, shift)], base);
  return { name: y, shape: v.shape, layout: v.layout };
}
