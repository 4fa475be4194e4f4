import { z } from 'zod';
import { attr } from '../graph.js';
import { layerWeights, requireWeight, type ConvertContext, type Fold, type Value } from '../context.js';
import { activation } from './activation.js';
import { layerConfig, outputShape, single, type LayerCall } from './common.js';

const DenseConfig = z.looseObject({
  units: z.number().int().positive(),
  activation: z.string().default('linear'),
  useBias: z.boolean().default(true),
});

/** Kernel [in, out] and bias with a folded BatchNorm applied per output unit. */
function foldedDense(kernel: Float32Array, bias: Float32Array, units: number, fold?: Fold) {
  if (!fold) return { kernel, bias };
  const k = Float32Array.from(kernel);
  for (let i = 0; i < k.length; i++) k[i] = (k[i] as number) * (fold.scale[i % units] as number);
  const b = bias.map((v, j) => v * (fold.scale[j] as number) + (fold.shift[j] as number));
  return { kernel: k, bias: b };
}

/**
 * Dense: Gemm on 2-D inputs (what onnxruntime's int8 kernels fuse best), MatMul + Add on higher ranks
 * (tfjs applies the kernel to the last axis).
 */
export function convertDense(ctx: ConvertContext, call: LayerCall): Value {
  const { layer, base, fold } = call;
  const g = ctx.graph;
  const cfg = layerConfig(layer, DenseConfig);
  const v = single(call);
  const weights = layerWeights(layer);
  const kernel = requireWeight(layer, weights, 'kernel');
  const [inDim, units] = kernel.shape as [number, number];
  const rawBias = cfg.useBias ? requireWeight(layer, weights, 'bias').data : new Float32Array(units);
  const { kernel: k, bias } = foldedDense(kernel.data, rawBias, units, fold);
  const hasBias = cfg.useBias || fold !== undefined;
  const x = ctx.tf(v);
  const linearName = cfg.activation === 'linear' ? base : `${base}_linear`;
  const w = g.floats(`${layer.name}_kernel`, [inDim, units], k);
  let y: string;
  if (v.shape.length === 2) {
    const inputs = hasBias ? [x, w, g.floats(`${layer.name}_bias`, [units], bias)] : [x, w];
    y = g.op('Gemm', inputs, linearName, [attr.float('alpha', 1), attr.float('beta', 1)]);
  } else {
    const mm = g.op('MatMul', [x, w], hasBias ? `${base}_matmul` : linearName);
    y = hasBias ? g.op('Add', [mm, g.floats(`${layer.name}_bias`, [units], bias)], linearName) : mm;
  }
  const out: Value = { name: y, shape: outputShape(layer, [v]), layout: 'tf' };
  return activation(ctx, layer, out, cfg.activation, base);
}
