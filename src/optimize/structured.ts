import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ModelautoError } from '../core/errors.js';
import type { TensorData } from '../train/trainer.js';
import { parseWith } from './parse.js';
import { modelFromTopology, sequentialTopology, weightKey } from './topology.js';
import { checkLayerNames } from './weights.js';

/**
 * Structured pruning: whole dense units or conv filters are removed and a physically smaller model is
 * rebuilt, with the inputs of the layers that consume them cut to match (through batch normalization,
 * depthwise convolutions, pooling, dropout and flatten). Unlike zeroed weights, this makes inference faster.
 */
export const STRUCTURED_CRITERIA = ['l1', 'l2', 'activation'] as const;
export type StructuredCriterion = (typeof STRUCTURED_CRITERIA)[number];

const share = z
  .number({ error: 'expected a share of units to remove in [0, 1)' })
  .min(0, 'expected a share of units to remove in [0, 1)')
  .lt(1, 'expected a share of units to remove in [0, 1)');

export const StructuredPruningSchema = z.strictObject({
  /** Share of units/filters removed from every prunable layer. */
  ratio: share,
  /** Per-layer shares overriding `ratio`, by layer name. */
  layers: z.record(z.string(), share).default({}),
  /** Layers kept whole. */
  skip: z.array(z.string()).default([]),
  /**
   * How units are ranked: l1 / l2 norm of their incoming kernel weights, or `activation`: mean absolute
   * output on sample data (data-driven; needs samples).
   */
  criterion: z.enum(STRUCTURED_CRITERIA).default('l1'),
});
export type StructuredPruning = z.infer<typeof StructuredPruningSchema>;
export type StructuredPruningInput = z.input<typeof StructuredPruningSchema>;

export function parseStructuredPruning(input: unknown, path = 'structured'): StructuredPruning {
  return parseWith(StructuredPruningSchema, input, path);
}

const PRODUCERS = new Set(['Dense', 'Conv1D', 'Conv2D', 'Conv3D']);
const UNITS_KEY: Record<string, string> = {
  Dense: 'units',
  Conv1D: 'filters',
  Conv2D: 'filters',
  Conv3D: 'filters',
};
/** Layers that keep the channel axis as it is. */
const PASS = new Set([
  'Dropout',
  'SpatialDropout1D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'Activation',
  'ReLU',
  'LeakyReLU',
  'PReLU',
  'ELU',
  'ThresholdedReLU',
  'MaxPooling1D',
  'MaxPooling2D',
  'AveragePooling1D',
  'AveragePooling2D',
  'GlobalAveragePooling1D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling1D',
  'GlobalMaxPooling2D',
  'ZeroPadding2D',
  'Cropping2D',
  'UpSampling2D',
]);
/** Layers with per-channel weights that are sliced along with the channels. */
const SLICED = new Set(['BatchNormalization', 'DepthwiseConv2D']);

export interface StructuredCandidate {
  layer: string;
  className: string;
  units: number;
  /** Why the layer cannot be pruned (its channels reach the output or an unsupported layer), if so. */
  blocked?: string;
}

function lastDim(layer: tf.layers.Layer): number {
  const shape = layer.outputShape as (number | null)[];
  return shape[shape.length - 1] ?? 0;
}

/** Every dense/conv layer with whether its units can be removed (and why not). */
export function structuredCandidates(model: tf.LayersModel): StructuredCandidate[] {
  sequentialTopology(model, 'structured pruning');
  const layers = model.layers;
  const out: StructuredCandidate[] = [];
  layers.forEach((layer, i) => {
    const className = layer.getClassName();
    if (!PRODUCERS.has(className)) return;
    const c: StructuredCandidate = { layer: layer.name, className, units: lastDim(layer) };
    let blocked: string | undefined = 'its units are the model output';
    for (let j = i + 1; j < layers.length; j++) {
      const next = layers[j] as tf.layers.Layer;
      const cls = next.getClassName();
      if (PRODUCERS.has(cls)) {
        blocked = undefined;
        break;
      }
      if (cls === 'BatchNormalization' && !lastAxisNorm(next)) {
        blocked = `${next.name} normalizes an axis other than the channels`;
        break;
      }
      if (!PASS.has(cls) && !SLICED.has(cls) && cls !== 'Flatten') {
        blocked = `${next.name} (${cls}) between it and the next dense/conv layer cannot be cut to match`;
        break;
      }
    }
    out.push(blocked ? { ...c, blocked } : c);
  });
  return out;
}

function lastAxisNorm(layer: tf.layers.Layer): boolean {
  const axis = layer.getConfig()['axis'];
  const rank = (layer.outputShape as (number | null)[]).length;
  return axis === -1 || axis === rank - 1;
}

interface Weight {
  values: Float32Array;
  shape: number[];
}

/** Keeps the indices `keep` along `axis` of a row-major tensor. */
export function sliceAxis(w: Weight, axis: number, keep: readonly number[]): Weight {
  const a = axis < 0 ? w.shape.length + axis : axis;
  const outer = w.shape.slice(0, a).reduce((x, y) => x * y, 1);
  const dim = w.shape[a] as number;
  const inner = w.shape.slice(a + 1).reduce((x, y) => x * y, 1);
  const values = new Float32Array(outer * keep.length * inner);
  for (let o = 0; o < outer; o++) {
    keep.forEach((k, j) => {
      const from = (o * dim + k) * inner;
      values.set(w.values.subarray(from, from + inner), (o * keep.length + j) * inner);
    });
  }
  const shape = [...w.shape];
  shape[a] = keep.length;
  return { values, shape };
}

/** Score of each output channel (last axis) of a kernel: L1 or L2 norm of its incoming weights. */
export function channelNorms(kernel: Weight, norm: 'l1' | 'l2'): Float64Array {
  const out = kernel.shape[kernel.shape.length - 1] as number;
  const scores = new Float64Array(out);
  for (let i = 0; i < kernel.values.length; i++) {
    const v = kernel.values[i] as number;
    const c = i % out;
    scores[c] = (scores[c] as number) + (norm === 'l1' ? Math.abs(v) : v * v);
  }
  if (norm === 'l2') for (let c = 0; c < out; c++) scores[c] = Math.sqrt(scores[c] as number);
  return scores;
}

/** Indices of the `count` highest scores, ascending (ties: lower index first). */
export function topChannels(scores: ArrayLike<number>, count: number): number[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
  return idx.slice(0, count).sort((a, b) => a - b);
}

/** Mean |output| per channel of a layer over sample data (the data-driven criterion). */
async function activationScores(
  model: tf.LayersModel,
  layer: tf.layers.Layer,
  data: TensorData,
): Promise<Float64Array> {
  const probe = tf.model({ inputs: model.inputs, outputs: layer.output as tf.SymbolicTensor });
  const channels = lastDim(layer);
  const sums = new Float64Array(channels);
  let count = 0;
  const d = data.xShape.reduce((a, b) => a * b, 1);
  const n = Math.min(data.n, 2048);
  for (let from = 0; from < n; from += 256) {
    const to = Math.min(n, from + 256);
    const values = tf.tidy(() => {
      const x = tf.tensor(data.x.subarray(from * d, to * d), [to - from, ...data.xShape], 'float32');
      return (probe.predict(x) as tf.Tensor).abs().reshape([-1, channels]).sum(0);
    });
    const v = await values.data();
    values.dispose();
    for (let c = 0; c < channels; c++) sums[c] = (sums[c] as number) + (v[c] as number);
    count += to - from;
  }
  return sums.map((s) => s / Math.max(1, count));
}

export interface StructuredLayerResult {
  layer: string;
  className: string;
  before: number;
  after: number;
  /** Indices of the units/filters kept, ascending. */
  kept: number[];
}

export interface StructuredResult {
  model: tf.LayersModel;
  layers: StructuredLayerResult[];
  paramsBefore: number;
  paramsAfter: number;
}

/**
 * Removes the lowest-ranked units/filters of every prunable layer (the output layer and layers listed in
 * `skip` stay whole) and rebuilds the smaller model with the surviving weights. Bad options (unknown or
 * unprunable layer names, shares outside [0, 1), the data-driven criterion without data) fail before work.
 */
export async function structuredPrune(
  model: tf.LayersModel,
  optionsInput: StructuredPruning | StructuredPruningInput,
  data?: TensorData,
): Promise<StructuredResult> {
  const options = parseStructuredPruning(optionsInput);
  checkLayerNames(model, options.skip, 'structured.skip');
  checkLayerNames(model, Object.keys(options.layers), 'structured.layers');
  const candidates = new Map(structuredCandidates(model).map((c) => [c.layer, c]));
  for (const name of Object.keys(options.layers)) {
    const c = candidates.get(name);
    if (!c || c.blocked) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `structured.layers: layer "${name}" cannot lose units: ${c?.blocked ?? 'it is not a dense or conv layer'}`,
      );
    }
  }
  if (options.criterion === 'activation' && (!data || data.n === 0)) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      'structured.criterion: "activation" ranks units on sample data; none was given',
    );
  }
  const skip = new Set(options.skip);
  const shareOf = (name: string): number => options.layers[name] ?? (skip.has(name) ? 0 : options.ratio);

  const topology = sequentialTopology(model, 'structured pruning');
  const newWeights = new Map<string, Map<string, Weight>>();
  const results: StructuredLayerResult[] = [];
  let keep: number[] | null = null;

  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const weights = new Map<string, Weight>(
      layer.weights.map((w) => [
        weightKey(w),
        { values: Float32Array.from(w.read().dataSync()), shape: w.shape.map((d) => d ?? 1) },
      ]),
    );
    if (PRODUCERS.has(cls)) {
      let kernel = weights.get('kernel') as Weight;
      if (keep) kernel = sliceAxis(kernel, -2, keep);
      const c = candidates.get(layer.name);
      const units = kernel.shape[kernel.shape.length - 1] as number;
      const s = c && !c.blocked ? shareOf(layer.name) : 0;
      let outKeep: number[] | null = null;
      if (s > 0) {
        const count = Math.max(1, Math.round(units * (1 - s)));
        const scores =
          options.criterion === 'activation'
            ? await activationScores(model, layer, data as TensorData)
            : channelNorms(kernel, options.criterion);
        outKeep = topChannels(scores, count);
        kernel = sliceAxis(kernel, -1, outKeep);
        const bias = weights.get('bias');
        if (bias) weights.set('bias', sliceAxis(bias, 0, outKeep));
        const json = topology.config.layers.find((l) => l.config.name === layer.name);
        if (json) json.config[UNITS_KEY[cls] as string] = outKeep.length;
        results.push({
          layer: layer.name,
          className: cls,
          before: units,
          after: outKeep.length,
          kept: outKeep,
        });
      }
      weights.set('kernel', kernel);
      keep = outKeep;
    } else if (keep && cls === 'BatchNormalization') {
      for (const [k, w] of weights) weights.set(k, sliceAxis(w, 0, keep));
    } else if (keep && cls === 'DepthwiseConv2D') {
      const kernel = weights.get('depthwise_kernel') as Weight;
      const mult = kernel.shape[3] as number;
      weights.set('depthwise_kernel', sliceAxis(kernel, 2, keep));
      const expanded: number[] = keep.flatMap((c) => Array.from({ length: mult }, (_, m) => c * mult + m));
      const bias = weights.get('bias');
      if (bias) weights.set('bias', sliceAxis(bias, 0, expanded));
      keep = expanded;
    } else if (keep && cls === 'Flatten') {
      const inShape = (layer.input as tf.SymbolicTensor).shape;
      const channels = inShape[inShape.length - 1] as number;
      const positions = inShape.slice(1, -1).reduce<number>((a, b) => a * (b ?? 1), 1);
      const kept: number[] = keep;
      keep = Array.from({ length: positions }, (_, p) => kept.map((c) => p * channels + c)).flat();
    } else if (keep && !PASS.has(cls)) {
      throw new ModelautoError(
        'INTERNAL',
        `structured pruning reached ${layer.name} (${cls}) with cut channels`,
      );
    }
    newWeights.set(layer.name, weights);
  }

  const pruned = await modelFromTopology(topology);
  for (const layer of pruned.layers) {
    const weights = newWeights.get(layer.name);
    if (!weights || layer.weights.length === 0) continue;
    const tensors = layer.weights.map((w) => {
      const v = weights.get(weightKey(w)) as Weight;
      return tf.tensor(v.values, v.shape, 'float32');
    });
    layer.setWeights(tensors);
    tf.dispose(tensors);
  }
  return {
    model: pruned,
    layers: results,
    paramsBefore: model.countParams(),
    paramsAfter: pruned.countParams(),
  };
}
