import { z } from 'zod';
import { attr } from '../graph.js';
import { staticDims, unsupported, type ConvertContext, type Value } from '../context.js';
import { layerConfig, outputShape, pads2d, pair, single, type LayerCall } from './common.js';

const PoolConfig = z.looseObject({
  poolSize: pair,
  strides: pair.nullish(),
  padding: z.enum(['valid', 'same']).default('valid'),
  dataFormat: z.string().default('channelsLast'),
});

/**
 * MaxPooling2D / AveragePooling2D in NCHW. TensorFlow's average pooling leaves the padding out of the
 * count, which is ONNX's count_include_pad = 0.
 */
export function convertPool2d(ctx: ConvertContext, call: LayerCall): Value {
  const { layer, base } = call;
  const cfg = layerConfig(layer, PoolConfig);
  if (cfg.dataFormat !== 'channelsLast')
    throw unsupported(layer, `dataFormat ${cfg.dataFormat} (only channelsLast)`);
  const v = single(call);
  if (v.shape.length !== 4) throw unsupported(layer, `expected a rank-4 input, got rank ${v.shape.length}`);
  const [h, w] = staticDims(v, layer, 'pooling') as [number, number, number];
  const strides = cfg.strides ?? cfg.poolSize;
  const max = layer.getClassName() === 'MaxPooling2D';
  const attrs = [
    attr.ints('kernel_shape', cfg.poolSize),
    attr.ints('strides', strides),
    attr.ints('pads', pads2d(cfg.padding, [h, w], cfg.poolSize, strides)),
    ...(max ? [] : [attr.int('count_include_pad', 0)]),
  ];
  const y = ctx.graph.op(max ? 'MaxPool' : 'AveragePool', [ctx.nchw(v)], base, attrs);
  return { name: y, shape: outputShape(layer, [v]), layout: 'nchw' };
}

/**
 * Global pooling over the spatial axes (2-D) or the steps (1-D); the result is [batch, channels], the
 * same in either layout, so it comes back in tfjs layout.
 */
export function convertGlobalPool(ctx: ConvertContext, call: LayerCall): Value {
  const { layer, base } = call;
  const cls = layer.getClassName();
  const cfg = layerConfig(layer, z.looseObject({ dataFormat: z.string().default('channelsLast') }));
  if (cfg.dataFormat !== 'channelsLast')
    throw unsupported(layer, `dataFormat ${cfg.dataFormat} (only channelsLast)`);
  const v = single(call);
  const mean = cls.startsWith('GlobalAverage');
  const twoD = cls.endsWith('2D');
  const g = ctx.graph;
  let y: string;
  if (twoD && v.layout === 'nchw') {
    const pooled = g.op(mean ? 'GlobalAveragePool' : 'GlobalMaxPool', [v.name], `${base}_pool`);
    y = g.op('Flatten', [pooled], base, [attr.int('axis', 1)]);
  } else {
    const axes = twoD ? [1, 2] : [1];
    y = g.op(mean ? 'ReduceMean' : 'ReduceMax', [ctx.tf(v)], base, [
      attr.ints('axes', axes),
      attr.int('keepdims', 0),
    ]);
  }
  return { name: y, shape: outputShape(layer, [v]), layout: 'tf' };
}
