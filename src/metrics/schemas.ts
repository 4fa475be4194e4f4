import { z } from 'zod';
import type { Label } from './labels.js';
import type { WarningHandler } from './warnings.js';

/** Labels are checked in detail by LabelKindGuard; here only the container shape. */
export const labelSchema = z.custom<Label>((v) => typeof v === 'number' || typeof v === 'string', {
  error: 'expected a number or a string label',
});

export const labelsSchema = z
  .array(labelSchema, { error: 'labels must be an array of labels' })
  .min(1, { error: 'labels must contain at least one label' })
  .readonly();

export const sampleWeightSchema = z
  .array(z.number({ error: 'sample weights must be finite numbers' }), {
    error: 'sampleWeight must be an array of numbers',
  })
  .readonly();

/** zeroDivision: what a ratio with a zero denominator becomes ('warn' = 0 and a warning). */
export const zeroDivisionSchema = z.union([z.literal('warn'), z.literal(0), z.literal(1), z.nan()], {
  error: 'zeroDivision must be one of "warn", 0, 1, NaN',
});
export type ZeroDivision = z.output<typeof zeroDivisionSchema>;

export const onWarningSchema = z.custom<WarningHandler>((v) => typeof v === 'function', {
  error: 'onWarning must be a function (message: string) => void',
});
