import { z } from 'zod';

/** Bumped whenever the saved state changes meaning; fromJSON rejects other versions. */
export const PREPROCESSOR_STATE_VERSION = 1;

const finite = z.number().refine(Number.isFinite, 'expected a finite number');

export const NumericScalingSchema = z.discriminatedUnion('method', [
  z.strictObject({
    method: z.literal('standardize'),
    mean: finite,
    std: finite.refine((v) => v >= 0, 'expected std >= 0'),
  }),
  z.strictObject({ method: z.literal('minmax'), min: finite, max: finite }),
  z.strictObject({ method: z.literal('none') }),
]);
export type NumericScaling = z.infer<typeof NumericScalingSchema>;

export const ColumnStateSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    name: z.string(),
    kind: z.literal('numeric'),
    /** Value that replaces a missing one (fitted mean / median, or the constant). */
    fill: finite,
    scaling: NumericScalingSchema,
  }),
  z.strictObject({
    name: z.string(),
    kind: z.literal('categorical'),
    fill: z.string(),
    /** One-hot slots, in this order. */
    categories: z.array(z.string()),
  }),
]);
export type ColumnState = z.infer<typeof ColumnStateSchema>;

export const TargetStateSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('classification'),
    name: z.string(),
    classes: z.array(z.string()).min(1),
  }),
  z.strictObject({ kind: z.literal('regression'), name: z.string() }),
]);
export type TargetState = z.infer<typeof TargetStateSchema>;

export const PixelScalingSchema = z.discriminatedUnion('method', [
  z.strictObject({
    method: z.literal('scale'),
    divisor: finite.refine((v) => v > 0, 'expected a positive divisor'),
  }),
  z.strictObject({
    method: z.literal('standardize'),
    mean: finite,
    std: finite.refine((v) => v >= 0, 'expected std >= 0'),
  }),
  z.strictObject({ method: z.literal('none') }),
]);
export type PixelScaling = z.infer<typeof PixelScalingSchema>;

export const PreprocessorStateSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    version: z.literal(PREPROCESSOR_STATE_VERSION),
    kind: z.literal('table'),
    columns: z.array(ColumnStateSchema).min(1),
    unknownCategory: z.enum(['ignore', 'error']),
    /** How prediction-time records treat a missing value: fill it in, or reject the record. */
    missing: z.enum(['impute', 'error']),
    /** Texts that count as missing in prediction-time records. */
    missingValues: z.array(z.string()),
    target: TargetStateSchema,
  }),
  z.strictObject({
    version: z.literal(PREPROCESSOR_STATE_VERSION),
    kind: z.literal('tensor'),
    shape: z.array(z.int().positive()).min(1),
    pixels: PixelScalingSchema,
    target: TargetStateSchema,
  }),
]);
export type PreprocessorState = z.infer<typeof PreprocessorStateSchema>;
export type TablePreprocessorState = Extract<PreprocessorState, { kind: 'table' }>;
export type TensorPreprocessorState = Extract<PreprocessorState, { kind: 'tensor' }>;
