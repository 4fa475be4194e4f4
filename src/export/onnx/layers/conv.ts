import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { attr } from '../graph.js';
import {
  layerWeights,
  requireWeight,
  staticDims,
  unsupported,
  type ConvertContext,
  type Fold,
  type Value,
} from '../context.js';
import { activation } from './activation.js';
import { layerConfig, outputShape, pads2d, pair, single, type LayerCall } from './common.js';

const ConvConfig = z.looseObject({
  kernelSize: pair,
  strides: pair.default([1, 1]),
  dilationRate: pair.default([1, 1]),
  padding: z.enum(['valid', 'same', 'causal']).default('valid'),
  dataFormat: z.string().default('channelsLast'),
  activation: z.string().default('linear'),
  useBias: z.boolean().default(true),
  depthMultiplier: z.number().int().positive().optional(),
});

/**
 * Conv2D and DepthwiseConv2D as ONNX Conv (NCHW). tfjs kernels are [kh, kw, in, out] (depthwise:
 * [kh, kw, in, multiplier]); ONNX wants [out, in/group, kh, kw]. A depthwise conv is a Conv with
 * group = in channels, and TensorFlow's output channel c*multiplier+m is ONNX's group c, filter m.
 */
export function convertConv(ctx: ConvertContext, call: LayerCall): Value {
  const { layer, base, fold } = call;
  const g = ctx.graph;
  const depthwise = layer.getClassName() === 'DepthwiseConv2D';
  const cfg = layerConfig(layer, ConvConfig);
  if (cfg.dataFormat !== 'channelsLast')
    throw unsupported(layer, `dataFormat ${cfg.dataFormat} (only channelsLast)`);
  if (cfg.padding === 'causal') throw unsupported(layer, 'causal padding (2-D convolutions have none)');
  const v = single(call);
  if (v.shape.length !== 4) throw unsupported(layer, `expected a rank-4 input, got rank ${v.shape.length}`);
  const [h, w] = staticDims(v, layer, 'a convolution') as [number, number, number];
  const weights = layerWeights(layer);
  const kernel = requireWeight(layer, weights, depthwise ? 'depthwise_kernel' : 'kernel');
  const [kh, kw, cin, last] = kernel.shape as [number, number, number, number];
  const cout = depthwise ? cin * last : last;
  const onnxKernel = depthwise
    ? depthwiseKernel(kernel.data, kh, kw, cin, last)
    : convKernel(kernel.data, kh, kw, cin, last);
  const rawBias = cfg.useBias ? requireWeight(layer, weights, 'bias').data : new Float32Array(cout);
  const bias = applyFold(onnxKernel, rawBias, cout, fold);
  const hasBias = cfg.useBias || fold !== undefined;

  const wName = g.floats(`${layer.name}_kernel`, [cout, depthwise ? 1 : cin, kh, kw], onnxKernel);
  const inputs = [ctx.nchw(v), wName];
  if (hasBias) inputs.push(g.floats(`${layer.name}_bias`, [cout], bias));
  const linearName = cfg.activation === 'linear' ? base : `${base}_linear`;
  const y = g.op('Conv', inputs, linearName, [
    attr.ints('kernel_shape', [kh, kw]),
    attr.ints('strides', cfg.strides),
    attr.ints('dilations', cfg.dilationRate),
    attr.ints('pads', pads2d(cfg.padding, [h, w], [kh, kw], cfg.strides, cfg.dilationRate)),
    attr.int('group', depthwise ? cin : 1),
  ]);
  const out: Value = { name: y, shape: outputShape(layer, [v]), layout: 'nchw' };
  return activation(ctx, layer, out, cfg.activation, base);
}

function convKernel(k: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(k.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < cin; c++)
        for (let o = 0; o < cout; o++) {
          out[((o * cin + c) * kh + i) * kw + j] = k[((i * kw + j) * cin + c) * cout + o] as number;
        }
  return out;
}

function depthwiseKernel(k: Float32Array, kh: number, kw: number, cin: number, mult: number): Float32Array {
  const out = new Float32Array(k.length);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < cin; c++)
        for (let m = 0; m < mult; m++) {
          out[((c * mult + m) * kh + i) * kw + j] = k[((i * kw + j) * cin + c) * mult + m] as number;
        }
  return out;
}

/** Scales each output filter of an [out, ...] kernel in place; returns the folded bias. */
function applyFold(kernel: Float32Array, bias: Float32Array, cout: number, fold?: Fold): Float32Array {
  if (!fold) return bias;
  const per = kernel.length / cout;
  for (let o = 0; o < cout; o++) {
    const s = fold.scale[o] as number;
    for (let i = o * per; i < (o + 1) * per; i++) kernel[i] = (kernel[i] as number) * s;
  }
  return bias.map((b, o) => b * (fold.scale[o] as number) + (fold.shift[o] as number));
}

export function isConvClass(layer: tf.layers.Layer): boolean {
  return ['Conv2D', 'DepthwiseConv2D'].includes(layer.getClassName());
}
