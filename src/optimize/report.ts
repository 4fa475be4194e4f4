import type * as tf from '@tensorflow/tfjs';
import { gzipSize, modelFiles, sizeOfFiles, type ModelFiles, type ModelSize } from './serialize.js';
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
  /** Bytes of the layer's weights in weights.bin (after quantization), and those bytes gzipped alone. */
  rawBytes: number;
  gzipBytes: number;
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

/** Stored bytes per value of a manifest entry (tfjs quantization: uint8 1, uint16/float16 2). */
function bytesPerValue(w: tf.io.WeightsManifestEntry): number {
  const q = w.quantization?.dtype;
  if (q === 'uint8') return 1;
  if (q === 'uint16' || q === 'float16') return 2;
  return w.dtype === 'bool' ? 1 : 4;
}

/** Raw and gzipped bytes of each layer's slice of weights.bin, read from model.json's manifest. */
export function layerBytes(
  files: Pick<ModelFiles, 'modelJson' | 'weights'>,
): Map<string, { rawBytes: number; gzipBytes: number }> {
  const json = JSON.parse(Buffer.from(files.modelJson).toString('utf8')) as {
    weightsManifest?: { weights: tf.io.WeightsManifestEntry[] }[];
  };
  const slices = new Map<string, Uint8Array[]>();
  let offset = 0;
  for (const group of json.weightsManifest ?? []) {
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1) * bytesPerValue(w);
      const slash = w.name.lastIndexOf('/');
      const layer = slash < 0 ? w.name : w.name.slice(0, slash);
      slices.set(layer, [...(slices.get(layer) ?? []), files.weights.subarray(offset, offset + n)]);
      offset += n;
    }
  }
  const out = new Map<string, { rawBytes: number; gzipBytes: number }>();
  for (const [layer, parts] of slices) {
    const joined = Buffer.concat(parts);
    out.set(layer, { rawBytes: joined.byteLength, gzipBytes: gzipSize(joined) });
  }
  return out;
}

/** Per layer: parameters, exact zeros and kernel sparsity (bytes: see compressionReport). */
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
    return {
      layer: layer.name,
      className: layer.getClassName(),
      params,
      zeros: z,
      kernelSparsity,
      rawBytes: 0,
      gzipBytes: 0,
    };
  });
}

/**
 * Per layer (parameters, zeros, kernel sparsity, bytes raw and gzipped) and for the whole model, from
 * the given files (e.g. quantized) or the float model as saveModel writes it.
 */
export async function compressionReport(
  model: tf.LayersModel,
  files?: ModelFiles,
): Promise<CompressionReport> {
  const f = files ?? (await modelFiles(model));
  const bytes = layerBytes(f);
  const layers = layerReport(model).map((l) => ({ ...l, ...(bytes.get(l.layer) ?? {}) }));
  const params = layers.reduce((s, l) => s + l.params, 0);
  const z = layers.reduce((s, l) => s + l.zeros, 0);
  return {
    layers,
    params,
    nonzeroParams: params - z,
    sparsity: params === 0 ? 0 : z / params,
    size: sizeOfFiles(f),
  };
}
