import { z } from 'zod';
import { attr } from '../graph.js';
import type { ConvertContext, Value } from '../context.js';
import { activation } from './activation.js';
import { layerConfig, onnxAxis, single, type LayerCall } from './common.js';

/** Activation, ReLU, LeakyReLU, ELU, Softmax and ThresholdedReLU layers; each keeps its input's layout. */
export function convertActivationLayer(ctx: ConvertContext, call: LayerCall): Value {
  const { layer, base } = call;
  const g = ctx.graph;
  const v = single(call);
  const keep = (name: string): Value => ({ name, shape: v.shape, layout: v.layout });
  switch (layer.getClassName()) {
    case 'Activation': {
      const cfg = layerConfig(layer, z.looseObject({ activation: z.string() }));
      return activation(ctx, layer, v, cfg.activation, base);
    }
    case 'ReLU': {
      const cfg = layerConfig(layer, z.looseObject({ maxValue: z.number().nullish() }));
      if (cfg.maxValue === null || cfg.maxValue === undefined) return keep(g.op('Relu', [v.name], base));
      const lo = g.floats(`${base}_min`, [], [0]);
      const hi = g.floats(`${base}_max`, [], [cfg.maxValue]);
      return keep(g.op('Clip', [v.name, lo, hi], base));
    }
    case 'LeakyReLU': {
      const cfg = layerConfig(layer, z.looseObject({ alpha: z.number().default(0.3) }));
      return keep(g.op('LeakyRelu', [v.name], base, [attr.float('alpha', cfg.alpha)]));
    }
    case 'ELU': {
      const cfg = layerConfig(layer, z.looseObject({ alpha: z.number().default(1) }));
      return keep(g.op('Elu', [v.name], base, [attr.float('alpha', cfg.alpha)]));
    }
    case 'ThresholdedReLU': {
      const cfg = layerConfig(layer, z.looseObject({ theta: z.number().default(1) }));
      return keep(g.op('ThresholdedRelu', [v.name], base, [attr.float('alpha', cfg.theta)]));
    }
    default: {
      // tfjs's Softmax layer defaults to axis 1 (and always writes its axis).
      const cfg = layerConfig(layer, z.looseObject({ axis: z.number().int().default(1) }));
      return keep(g.op('Softmax', [v.name], base, [attr.int('axis', onnxAxis(v, cfg.axis))]));
    }
  }
}
