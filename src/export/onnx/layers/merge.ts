import { z } from 'zod';
import { attr } from '../graph.js';
import { unsupported, type ConvertContext, type Value } from '../context.js';
import { layerConfig, onnxAxis, outputShape, type LayerCall } from './common.js';

const BINARY: Record<string, string> = {
  Add: 'Add',
  Multiply: 'Mul',
  Maximum: 'Max',
  Minimum: 'Min',
};

/** The inputs in one layout: NCHW when all of them are, else tfjs layout. */
function common(ctx: ConvertContext, inputs: Value[]): Value[] {
  if (inputs.every((v) => v.layout === 'nchw')) return inputs;
  return inputs.map((v) => ctx.asTf(v));
}

/** Add, Multiply, Maximum, Minimum and Average of functional models (tfjs has no Subtract layer). */
export function convertMerge(ctx: ConvertContext, call: LayerCall): Value {
  const { layer, base } = call;
  const g = ctx.graph;
  const cls = layer.getClassName();
  if (call.inputs.length < 2)
    throw unsupported(layer, `expected at least two inputs, got ${call.inputs.length}`);
  const xs = common(ctx, call.inputs);
  const layout = (xs[0] as Value).layout;
  const shape = outputShape(layer, call.inputs);
  const names = xs.map((v) => v.name);
  let y: string;
  if (cls === 'Average') {
    y = g.op('Mean', names, base);
  } else {
    const op = BINARY[cls];
    if (!op) throw unsupported(layer, 'unknown merge layer');
    // Pairwise nodes rather than the variadic Sum/Max: binary Add is what int8 kernels fuse.
    y = names
      .slice(1)
      .reduce(
        (acc, n, i) => g.op(op, [acc, n], i === names.length - 2 ? base : `${base}_${i}`),
        names[0] as string,
      );
  }
  return { name: y, shape, layout };
}

export function convertConcatenate(ctx: ConvertContext, call: LayerCall): Value {
  const { layer, base } = call;
  const cfg = layerConfig(layer, z.looseObject({ axis: z.number().int().default(-1) }));
  if (call.inputs.length < 2)
    throw unsupported(layer, `expected at least two inputs, got ${call.inputs.length}`);
  const xs = common(ctx, call.inputs);
  const first = xs[0] as Value;
  const y = ctx.graph.op(
    'Concat',
    xs.map((v) => v.name),
    base,
    [attr.int('axis', onnxAxis(first, cfg.axis))],
  );
  return { name: y, shape: outputShape(layer, call.inputs), layout: first.layout };
}
