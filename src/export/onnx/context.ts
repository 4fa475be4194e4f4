import type * as tf from '@tensorflow/tfjs';
import { ModelautoError } from '../../core/errors.js';
import { attr, type OnnxGraph } from './graph.js';

/**
 * What converters share: the graph being built and the values flowing between layers.
 *
 * tfjs works channels-last (NHWC) and ONNX's Conv/pooling channels-first (NCHW). The model's inputs
 * and outputs stay NHWC, as in tfjs; a value can be held in either layout and is transposed only when
 * a consumer needs the other one, so a run of conv/pool/activation layers pays one Transpose in and
 * one out rather than two per layer.
 */
export type Layout = 'tf' | 'nchw';

export interface Value {
  /** Name of the ONNX tensor. */
  name: string;
  /** The tfjs shape of the value (batch first, null for the batch). */
  shape: (number | null)[];
  /** 'tf': the ONNX tensor is laid out as in tfjs; 'nchw': it is the NHWC tfjs tensor transposed to NCHW. */
  layout: Layout;
}

/** A BatchNormalization folded into the layer before it: y = x * scale + shift, per channel. */
export interface Fold {
  scale: Float32Array;
  shift: Float32Array;
  /** The BatchNormalization layer's name, which names the folded output. */
  name: string;
}

export class ConvertContext {
  private readonly alternates = new Map<string, string>();

  constructor(readonly graph: OnnxGraph) {}

  /** The value's tensor in tfjs layout (a Transpose is added once, then reused). */
  tf(v: Value): string {
    if (v.layout === 'tf') return v.name;
    return this.transposed(v.name, [0, 2, 3, 1], 'nhwc');
  }

  /** The value's tensor in NCHW layout; only for rank-4 values. */
  nchw(v: Value): string {
    if (v.layout === 'nchw') return v.name;
    return this.transposed(v.name, [0, 3, 1, 2], 'nchw');
  }

  /** The value moved to tfjs layout. */
  asTf(v: Value): Value {
    return { name: this.tf(v), shape: v.shape, layout: 'tf' };
  }

  private transposed(name: string, perm: number[], suffix: string): string {
    const key = `${name}|${perm.join(',')}`;
    const known = this.alternates.get(key);
    if (known) return known;
    const out = this.graph.op('Transpose', [name], `${name}_${suffix}`, [attr.ints('perm', perm)]);
    // The reverse transpose of the new tensor is the original one: no Transpose pairs back and forth.
    const reverse = perm.map((_, i) => perm.indexOf(i));
    this.alternates.set(key, out);
    this.alternates.set(`${out}|${reverse.join(',')}`, name);
    return out;
  }
}

/** Per-sample dimensions of a value; refused when one is unknown (converters need static sizes). */
export function staticDims(v: Value, layer: tf.layers.Layer, what: string): number[] {
  const dims = v.shape.slice(1);
  if (dims.some((d) => d === null)) {
    throw unsupported(
      layer,
      `${what} needs a fixed input shape, got [${v.shape.map((d) => d ?? '?').join(', ')}]`,
    );
  }
  return dims as number[];
}

export function unsupported(layer: tf.layers.Layer, why: string): ModelautoError {
  return new ModelautoError(
    'INVALID_ARGUMENT',
    `ONNX export: layer "${layer.name}" (${layer.getClassName()}) cannot be exported: ${why}`,
    { location: { path: `layers.${layer.name}` } },
  );
}

/** Reads a layer's weights by the end of their variable names (kernel, bias, gamma, moving_mean, ...). */
export function layerWeights(layer: tf.layers.Layer): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const values = layer.getWeights();
  layer.weights.forEach((w, i) => {
    const t = values[i];
    if (!t) return;
    const key = (w.originalName ?? w.name).split('/').pop() ?? w.name;
    out.set(key.replace(/_\d+$/, ''), { shape: [...t.shape], data: Float32Array.from(t.dataSync()) });
  });
  return out;
}

export function requireWeight(
  layer: tf.layers.Layer,
  weights: Map<string, { shape: number[]; data: Float32Array }>,
  key: string,
): { shape: number[]; data: Float32Array } {
  const w = weights.get(key);
  if (!w) {
    throw unsupported(layer, `no "${key}" weight (found: ${[...weights.keys()].join(', ') || 'none'})`);
  }
  return w;
}
