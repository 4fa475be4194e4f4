import type * as tf from '@tensorflow/tfjs';
import { modelFiles, sizeOfFiles, type ModelFiles, type ModelSize } from './serialize.js';
import { kernelWeights } from './weights.js';

export interface LayerReport {
  layer: string;
  className: string;
  /** All weights of the layer (kernel, bias, normalization statistics). */
  params: number;
  /** Weights that are exactly zero. */
  zeros: number;
  /** Share of the layer's kernel that is zero (0 for layers without a kernel). */
  kernelSparsity: number;
}

export interface CompressionReport {
  layers: LayerReport[];
  params: number;
  nonzeroParams: number;
  /** Zeros over all parameters. */
  sparsity: number;
  size: ModelSize;
}

function zeros(values: ArrayLike<number>): number {
  let z = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) z++;
  return z;
}

/** Per layer: parameters, exact zeros and kernel sparsity. */
export function layerReport(model: tf.LayersModel): LayerReport[] {
  const kernels = new Map(kernelWeights(model).map((k) => [k.layerName, k]));
  return model.layers.map((layer) => {
    let params = 0;
    let z = 0;
    for (const w of layer.weights) {
      const values = w.read().dataSync();
      params += values.length;
      z += zeros(values);
    }
    const k = kernels.get(layer.name);
    const kernelSparsity = k ? zeros(k.variable.read().dataSync()) / Math.max(1, k.size) : 0;
    return { layer: layer.name, className: layer.getClassName(), params, zeros: z, kernelSparsity };
  });
}

/** Layer report plus the size of the model's files (the given files, or the float model as saved). */
export async function compressionReport(
  model: tf.LayersModel,
  files?: ModelFiles,
): Promise<CompressionReport> {
  const layers = layerReport(model);
  const params = layers.reduce((s, l) => s + l.params, 0);
  const z = layers.reduce((s, l) => s + l.zeros, 0);
  return {
    layers,
    params,
    nonzeroParams: params - z,
    sparsity: params === 0 ? 0 : z / params,
    size: sizeOfFiles(files ?? (await modelFiles(model))),
  };
}
