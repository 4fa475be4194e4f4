import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { formatZodError } from '../../../core/zod-error.js';
import { type ConvertContext, type Fold, type Value, unsupported } from '../context.js';

/** One call of a layer: its inputs (already in the graph), the name its output takes, a folded BatchNorm. */
export interface LayerCall {
  layer: tf.layers.Layer;
  inputs: Value[];
  base: string;
  fold?: Fold;
}

export type LayerConverter = (ctx: ConvertContext, call: LayerCall) => Value;

/** Validates the part of a layer's config a converter reads; the error names the layer. */
export function layerConfig<S extends z.ZodType>(layer: tf.layers.Layer, schema: S): z.infer<S> {
  const r = schema.safeParse(layer.getConfig());
  if (!r.success) throw unsupported(layer, `unexpected config: ${formatZodError(r.error, 'config')}`);
  return r.data;
}

export const pair = z
  .union([z.number().int(), z.array(z.number().int())])
  .transform((v): [number, number] => (typeof v === 'number' ? [v, v] : [v[0] ?? 1, v[1] ?? v[0] ?? 1]));

/** The one input of a single-input layer. */
export function single(call: LayerCall): Value {
  const v = call.inputs[0];
  if (call.inputs.length !== 1 || !v)
    throw unsupported(call.layer, `expected one input, got ${call.inputs.length}`);
  return v;
}

/** The layer's tfjs output shape for the given input values. */
export function outputShape(layer: tf.layers.Layer, inputs: Value[]): (number | null)[] {
  const shapes = inputs.map((v) => v.shape);
  const out = layer.computeOutputShape(shapes.length === 1 ? (shapes[0] as (number | null)[]) : shapes);
  if (Array.isArray(out[0])) throw unsupported(layer, 'layers with several outputs are not supported');
  return out as (number | null)[];
}

/** A tfjs axis (negative from the end) as an axis of the value's ONNX tensor. */
export function onnxAxis(v: Value, tfAxis: number): number {
  const rank = v.shape.length;
  const a = tfAxis < 0 ? tfAxis + rank : tfAxis;
  if (v.layout === 'tf') return a;
  return ([0, 2, 3, 1] as const)[a] ?? a;
}

/** Explicit begin/end padding that reproduces TensorFlow's 'same' (extra on the bottom/right). */
export function samePads(input: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(input / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - input, 0);
  const begin = Math.floor(total / 2);
  return [begin, total - begin];
}

/** ONNX `pads` ([top, left, bottom, right]) for a 2-D window over `hw`. */
export function pads2d(
  padding: string,
  hw: [number, number],
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number] = [1, 1],
): number[] {
  if (padding === 'valid') return [0, 0, 0, 0];
  const [t, b] = samePads(hw[0], kernel[0], strides[0], dilations[0]);
  const [l, r] = samePads(hw[1], kernel[1], strides[1], dilations[1]);
  return [t, l, b, r];
}
