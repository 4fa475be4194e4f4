import * as tf from '@tensorflow/tfjs';
import { ModelautoError } from '../core/errors.js';

/**
 * Which weight of each layer class is pruned or fake-quantized: the multiplicative kernel, never biases or
 * normalization statistics (tfmot's prune registry does the same for the layers tfjs has).
 */
const KERNEL_OF: Record<string, string> = {
  Dense: 'kernel',
  Conv1D: 'kernel',
  Conv2D: 'kernel',
  Conv3D: 'kernel',
  Conv2DTranspose: 'kernel',
  DepthwiseConv2D: 'depthwise_kernel',
  Embedding: 'embeddings',
};

export interface KernelWeight {
  layer: tf.layers.Layer;
  layerName: string;
  className: string;
  variable: tf.LayerVariable;
  shape: number[];
  size: number;
}

function suffix(v: tf.LayerVariable): string {
  const name = v.originalName;
  return name.slice(name.lastIndexOf('/') + 1);
}

/** The kernel weight of every layer that has one, in layer order. */
export function kernelWeights(model: tf.LayersModel): KernelWeight[] {
  const out: KernelWeight[] = [];
  for (const layer of model.layers) {
    const className = layer.getClassName();
    const want = KERNEL_OF[className];
    if (!want) continue;
    const variable = layer.weights.find((w) => suffix(w) === want);
    if (!variable) continue;
    const shape = variable.shape.map((d) => d ?? 1);
    out.push({
      layer,
      layerName: layer.name,
      className,
      variable,
      shape,
      size: shape.reduce((a, b) => a * b, 1),
    });
  }
  return out;
}

/** Refuses layer names the model does not have, listing the ones it has. */
export function checkLayerNames(model: tf.LayersModel, names: readonly string[], field: string): void {
  const known = new Set(model.layers.map((l) => l.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `${field}: unknown layer ${unknown.map((n) => `"${n}"`).join(', ')}; the model's layers are ${[...known].join(', ')}`,
    );
  }
}

/** Values of a variable as a fresh Float32Array. */
export function readValues(v: tf.LayerVariable): Float32Array {
  return Float32Array.from(v.read().dataSync() as Float32Array);
}

export function writeValues(v: tf.LayerVariable, values: Float32Array): void {
  tf.tidy(() => {
    v.write(
      tf.tensor(
        values,
        v.shape.map((d) => d ?? 1),
        'float32',
      ),
    );
  });
}
