import { z } from 'zod';

/**
 * Keras-style model spec: a list of layers, each `{type, ...config}`. Option names and defaults follow
 * tfjs-layers so that a Keras or tfjs user can read a spec without a manual.
 */

export const ACTIVATIONS = [
  'elu',
  'hardSigmoid',
  'linear',
  'relu',
  'relu6',
  'selu',
  'sigmoid',
  'softmax',
  'softplus',
  'softsign',
  'tanh',
  'swish',
  'mish',
  'gelu',
] as const;
export const ActivationSchema = z.enum(ACTIVATIONS);

export const INITIALIZERS = [
  'glorotUniform',
  'glorotNormal',
  'heUniform',
  'heNormal',
  'leCunUniform',
  'leCunNormal',
  'zeros',
  'ones',
  'randomUniform',
  'randomNormal',
  'truncatedNormal',
  'orthogonal',
] as const;
export const InitializerSchema = z.enum(INITIALIZERS);

export const RegularizerSchema = z.strictObject({
  l1: z.number().nonnegative().default(0),
  l2: z.number().nonnegative().default(0),
});

const POSITIVE_INT = 'expected positive integer';
const positiveInt = z
  .number({ error: POSITIVE_INT })
  .int({ error: POSITIVE_INT })
  .positive({ error: POSITIVE_INT });
const size2 = z.union([positiveInt, z.tuple([positiveInt, positiveInt])]);
const padding = z.enum(['valid', 'same']);
const name = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'expected a name of letters, digits and underscores')
  .optional();

const DenseSchema = z.strictObject({
  type: z.literal('dense'),
  name,
  units: positiveInt,
  activation: ActivationSchema.default('linear'),
  useBias: z.boolean().default(true),
  kernelInitializer: InitializerSchema.default('glorotUniform'),
  biasInitializer: InitializerSchema.default('zeros'),
  kernelRegularizer: RegularizerSchema.optional(),
  biasRegularizer: RegularizerSchema.optional(),
});

const Conv2DSchema = z.strictObject({
  type: z.literal('conv2d'),
  name,
  filters: positiveInt,
  kernelSize: size2,
  strides: size2.default(1),
  padding: padding.default('valid'),
  dilationRate: size2.default(1),
  activation: ActivationSchema.default('linear'),
  useBias: z.boolean().default(true),
  kernelInitializer: InitializerSchema.default('glorotUniform'),
  biasInitializer: InitializerSchema.default('zeros'),
  kernelRegularizer: RegularizerSchema.optional(),
  biasRegularizer: RegularizerSchema.optional(),
});

const DepthwiseConv2DSchema = z.strictObject({
  type: z.literal('depthwiseConv2d'),
  name,
  kernelSize: size2,
  depthMultiplier: positiveInt.default(1),
  strides: size2.default(1),
  padding: padding.default('valid'),
  dilationRate: size2.default(1),
  activation: ActivationSchema.default('linear'),
  useBias: z.boolean().default(true),
  depthwiseInitializer: InitializerSchema.default('glorotUniform'),
  biasInitializer: InitializerSchema.default('zeros'),
  depthwiseRegularizer: RegularizerSchema.optional(),
  biasRegularizer: RegularizerSchema.optional(),
});

const PoolingSchema = (type: 'maxPooling2d' | 'averagePooling2d') =>
  z.strictObject({
    type: z.literal(type),
    name,
    poolSize: size2.default(2),
    strides: size2.optional(),
    padding: padding.default('valid'),
  });

const GlobalAveragePooling2DSchema = z.strictObject({ type: z.literal('globalAveragePooling2d'), name });
const FlattenSchema = z.strictObject({ type: z.literal('flatten'), name });

const DropoutSchema = z.strictObject({
  type: z.literal('dropout'),
  name,
  rate: z.number().min(0).lt(1),
});

const BatchNormalizationSchema = z.strictObject({
  type: z.literal('batchNormalization'),
  name,
  momentum: z.number().gt(0).lt(1).default(0.99),
  epsilon: z.number().positive().default(1e-3),
  center: z.boolean().default(true),
  scale: z.boolean().default(true),
});

const ActivationLayerSchema = z.strictObject({
  type: z.literal('activation'),
  name,
  activation: ActivationSchema,
});

const ReshapeSchema = z.strictObject({
  type: z.literal('reshape'),
  name,
  targetShape: z.array(z.union([positiveInt, z.literal(-1)])).min(1),
});

const EmbeddingSchema = z.strictObject({
  type: z.literal('embedding'),
  name,
  inputDim: positiveInt,
  outputDim: positiveInt,
  embeddingsInitializer: InitializerSchema.default('randomUniform'),
  embeddingsRegularizer: RegularizerSchema.optional(),
  maskZero: z.boolean().default(false),
});

export const LayerSpecSchema = z.discriminatedUnion('type', [
  DenseSchema,
  Conv2DSchema,
  DepthwiseConv2DSchema,
  PoolingSchema('maxPooling2d'),
  PoolingSchema('averagePooling2d'),
  GlobalAveragePooling2DSchema,
  FlattenSchema,
  DropoutSchema,
  BatchNormalizationSchema,
  ActivationLayerSchema,
  ReshapeSchema,
  EmbeddingSchema,
]);

export const LAYER_TYPES = LayerSpecSchema.options.map((o) => o.shape.type.value);

export const ModelSpecSchema = z.strictObject({
  /** Per-sample input shape; derived from the data when omitted. */
  inputShape: z.array(positiveInt).min(1).optional(),
  /** Seed for weight initialisers and dropout, so that two runs with one seed start identically. */
  seed: z.number().int().nonnegative().optional(),
  layers: z.array(LayerSpecSchema).min(1, 'expected at least one layer'),
});

export type LayerSpec = z.infer<typeof LayerSpecSchema>;
export type LayerSpecInput = z.input<typeof LayerSpecSchema>;
export type ModelSpec = z.infer<typeof ModelSpecSchema>;
export type ModelSpecInput = z.input<typeof ModelSpecSchema>;
export type Regularizer = z.infer<typeof RegularizerSchema>;
