import * as tf from '@tensorflow/tfjs';
import { ModelautoError } from '../core/errors.js';
import type { LayerSpec, ModelSpec, Regularizer } from './spec.js';
import { ModelSpecSchema, type ModelSpecInput } from './spec.js';
import { formatZodError } from '../core/zod-error.js';

type InitializerName = Extract<LayerSpec, { type: 'dense' }>['kernelInitializer'];

/** Validates a model spec (from YAML/JSON or code); errors carry the path, e.g. `model.layers[2].units`. */
export function parseModelSpec(input: unknown, prefix = 'model'): ModelSpec {
  const r = ModelSpecSchema.safeParse(input);
  if (!r.success) throw new ModelautoError('INVALID_SPEC', formatZodError(r.error, prefix));
  return r.data;
}

export interface BuildOptions {
  /** Per-sample input shape from the data; the spec's own inputShape wins when both are set and agree. */
  inputShape?: number[];
  /** Model name shown in summaries and saved files. */
  name?: string;
}

/**
 * Builds a tfjs Sequential model from a validated spec. Each layer gets its own initializer seed derived
 * from the model seed, so the whole model is reproducible while layers do not share random streams.
 */
export function buildModel(specInput: ModelSpec | ModelSpecInput, options: BuildOptions = {}): tf.Sequential {
  const spec = parseModelSpec(specInput);
  const inputShape = spec.inputShape ?? options.inputShape;
  if (!inputShape) {
    throw new ModelautoError('INVALID_SPEC', 'model.inputShape: required when the data does not give one');
  }
  if (spec.inputShape && options.inputShape && spec.inputShape.join('x') !== options.inputShape.join('x')) {
    throw new ModelautoError(
      'INVALID_SPEC',
      `model.inputShape: [${spec.inputShape.join(', ')}] does not match the data's per-sample shape [${options.inputShape.join(', ')}]`,
    );
  }
  const model = tf.sequential(options.name ? { name: options.name } : {});
  spec.layers.forEach((layer, i) => {
    const seed = spec.seed === undefined ? undefined : spec.seed * 1000 + i;
    try {
      model.add(makeLayer(layer, seed, i === 0 ? inputShape : undefined));
    } catch (e) {
      if (e instanceof ModelautoError) throw e;
      // tfjs reports shape problems (a conv on a flat input, a too-large pool) with its own words: keep them,
      // but say which layer of the spec caused it.
      const msg = e instanceof Error ? e.message : String(e);
      throw new ModelautoError('INVALID_SPEC', `model.layers[${i}] (${layer.type}): ${msg}`, { cause: e });
    }
  });
  return model;
}

type Initializer = ReturnType<typeof tf.initializers.zeros>;
type Regularizer_ = ReturnType<typeof tf.regularizers.l1l2>;

function init(name: InitializerName, seed: number | undefined): Initializer {
  const s = seed === undefined ? {} : { seed };
  switch (name) {
    case 'glorotUniform':
      return tf.initializers.glorotUniform(s);
    case 'glorotNormal':
      return tf.initializers.glorotNormal(s);
    case 'heUniform':
      return tf.initializers.heUniform(s);
    case 'heNormal':
      return tf.initializers.heNormal(s);
    case 'leCunUniform':
      return tf.initializers.leCunUniform(s);
    case 'leCunNormal':
      return tf.initializers.leCunNormal(s);
    case 'zeros':
      return tf.initializers.zeros();
    case 'ones':
      return tf.initializers.ones();
    case 'randomUniform':
      return tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, ...s });
    case 'randomNormal':
      return tf.initializers.randomNormal({ mean: 0, stddev: 0.05, ...s });
    case 'truncatedNormal':
      return tf.initializers.truncatedNormal({ mean: 0, stddev: 0.05, ...s });
    case 'orthogonal':
      return tf.initializers.orthogonal({ gain: 1, ...s });
  }
}

function reg(r: Regularizer | undefined): Regularizer_ | undefined {
  if (!r || (r.l1 === 0 && r.l2 === 0)) return undefined;
  return tf.regularizers.l1l2({ l1: r.l1, l2: r.l2 });
}

function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : v;
}

function makeLayer(
  l: LayerSpec,
  seed: number | undefined,
  inputShape: number[] | undefined,
): tf.layers.Layer {
  const base = { ...(l.name ? { name: l.name } : {}), ...(inputShape ? { inputShape } : {}) };
  switch (l.type) {
    case 'dense':
      return tf.layers.dense({
        ...base,
        units: l.units,
        activation: l.activation,
        useBias: l.useBias,
        kernelInitializer: init(l.kernelInitializer, seed),
        biasInitializer: init(l.biasInitializer, seed),
        kernelRegularizer: reg(l.kernelRegularizer),
        biasRegularizer: reg(l.biasRegularizer),
      });
    case 'conv2d':
      return tf.layers.conv2d({
        ...base,
        filters: l.filters,
        kernelSize: pair(l.kernelSize),
        strides: pair(l.strides),
        padding: l.padding,
        dilationRate: pair(l.dilationRate),
        activation: l.activation,
        useBias: l.useBias,
        kernelInitializer: init(l.kernelInitializer, seed),
        biasInitializer: init(l.biasInitializer, seed),
        kernelRegularizer: reg(l.kernelRegularizer),
        biasRegularizer: reg(l.biasRegularizer),
        dataFormat: 'channelsLast',
      });
    case 'depthwiseConv2d':
      return tf.layers.depthwiseConv2d({
        ...base,
        kernelSize: pair(l.kernelSize),
        depthMultiplier: l.depthMultiplier,
        strides: pair(l.strides),
        padding: l.padding,
        dilationRate: pair(l.dilationRate),
        activation: l.activation,
        useBias: l.useBias,
        depthwiseInitializer: init(l.depthwiseInitializer, seed),
        biasInitializer: init(l.biasInitializer, seed),
        depthwiseRegularizer: reg(l.depthwiseRegularizer),
        biasRegularizer: reg(l.biasRegularizer),
        dataFormat: 'channelsLast',
      });
    case 'maxPooling2d':
    case 'averagePooling2d': {
      const cfg = {
        ...base,
        poolSize: pair(l.poolSize),
        strides: pair(l.strides ?? l.poolSize),
        padding: l.padding,
        dataFormat: 'channelsLast' as const,
      };
      return l.type === 'maxPooling2d' ? tf.layers.maxPooling2d(cfg) : tf.layers.averagePooling2d(cfg);
    }
    case 'globalAveragePooling2d':
      return tf.layers.globalAveragePooling2d({ ...base, dataFormat: 'channelsLast' });
    case 'flatten':
      return tf.layers.flatten(base);
    case 'dropout':
      return tf.layers.dropout({ ...base, rate: l.rate, ...(seed === undefined ? {} : { seed }) });
    case 'batchNormalization':
      return tf.layers.batchNormalization({
        ...base,
        momentum: l.momentum,
        epsilon: l.epsilon,
        center: l.center,
        scale: l.scale,
      });
    case 'activation':
      return tf.layers.activation({ ...base, activation: l.activation });
    case 'reshape':
      return tf.layers.reshape({ ...base, targetShape: l.targetShape });
    case 'embedding':
      return tf.layers.embedding({
        ...base,
        inputDim: l.inputDim,
        outputDim: l.outputDim,
        embeddingsInitializer: init(l.embeddingsInitializer, seed),
        embeddingsRegularizer: reg(l.embeddingsRegularizer),
        maskZero: l.maskZero,
      });
  }
}

/** Layer types whose gradients need convolution/pooling backprop kernels (not in tfjs's wasm backend). */
export function needsConvGradients(spec: ModelSpec): boolean {
  return spec.layers.some((l) =>
    ['conv2d', 'depthwiseConv2d', 'maxPooling2d', 'averagePooling2d', 'globalAveragePooling2d'].includes(
      l.type,
    ),
  );
}
