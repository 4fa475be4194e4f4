import { z } from 'zod';
import { DataType } from '../proto.js';
import { attr } from '../graph.js';
import { layerWeights, requireWeight, type ConvertContext, type Value } from '../context.js';
import { layerConfig, outputShape, single, type LayerCall } from './common.js';

/**
 * Layers that move data without arithmetic. Each works on the tfjs layout: Flatten after a conv block
 * transposes back to NHWC first, so the flattened order is tfjs's (h, w, c), not ONNX's (c, h, w).
 */
export function convertFlatten(ctx: ConvertContext, call: LayerCall): Value {
  const v = single(call);
  const y = ctx.graph.op('Flatten', [ctx.tf(v)], call.base, [attr.int('axis', 1)]);
  return { name: y, shape: outputShape(call.layer, [v]), layout: 'tf' };
}

export function convertReshape(ctx: ConvertContext, call: LayerCall): Value {
  // tfjs writes the inferred dimension (-1) as null.
  const cfg = layerConfig(call.layer, z.looseObject({ targetShape: z.array(z.number().int().nullable()) }));
  const v = single(call);
  const target = cfg.targetShape.map((d) => d ?? -1);
  // 0 copies the batch dimension (allowzero = 0), -1 is inferred as in tfjs.
  const shape = ctx.graph.int64s(`${call.layer.name}_shape`, [target.length + 1], [0, ...target]);
  const y = ctx.graph.op('Reshape', [ctx.tf(v), shape], call.base);
  return { name: y, shape: outputShape(call.layer, [v]), layout: 'tf' };
}

export function convertPermute(ctx: ConvertContext, call: LayerCall): Value {
  const cfg = layerConfig(call.layer, z.looseObject({ dims: z.array(z.number().int().positive()) }));
  const v = single(call);
  const y = ctx.graph.op('Transpose', [ctx.tf(v)], call.base, [attr.ints('perm', [0, ...cfg.dims])]);
  return { name: y, shape: outputShape(call.layer, [v]), layout: 'tf' };
}

/** Dropout and noise layers do nothing at inference. */
export function convertIdentity(_ctx: ConvertContext, call: LayerCall): Value {
  return single(call);
}

/** Embedding: the float indices tfjs takes are cast to int64 and gathered from the table. */
export function convertEmbedding(ctx: ConvertContext, call: LayerCall): Value {
  const { layer, base } = call;
  const g = ctx.graph;
  const v = single(call);
  const table = requireWeight(layer, layerWeights(layer), 'embeddings');
  const indices = g.op('Cast', [ctx.tf(v)], `${base}_indices`, [attr.int('to', DataType.INT64)]);
  const w = g.floats(`${layer.name}_embeddings`, table.shape, table.data);
  const y = g.op('Gather', [w, indices], base, [attr.int('axis', 0)]);
  return { name: y, shape: outputShape(layer, [v]), layout: 'tf' };
}
