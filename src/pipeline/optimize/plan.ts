import { z } from 'zod';
import { ModelSpecSchema } from '../../model/spec.js';
import { DEFAULT_ALPHA, DEFAULT_TEMPERATURE } from '../../optimize/distill.js';
import { MByNSchema, PRUNE_SCOPES } from '../../optimize/prune.js';
import { parseWith } from '../../optimize/parse.js';
import { QUANT_DTYPES } from '../../optimize/quantize.js';
import { STRUCTURED_CRITERIA } from '../../optimize/structured.js';

/**
 * One candidate: which techniques to apply to the source model, in the fixed order
 * distill → structured → prune → quantize, each on the result of the previous one.
 */
const sparsity = z
  .number({ error: 'expected a sparsity in [0, 1)' })
  .min(0, 'expected a sparsity in [0, 1)')
  .lt(1, 'expected a sparsity in [0, 1)');
const share = z
  .number({ error: 'expected a share of units to remove in [0, 1)' })
  .min(0, 'expected a share of units to remove in [0, 1)')
  .lt(1, 'expected a share of units to remove in [0, 1)');
const epochs = z.number().int('expected a whole number of epochs').nonnegative('expected epochs >= 0');
const layerNames = z.array(z.string().min(1)).default([]);

export const PrunePlanSchema = z
  .strictObject({
    /** Final sparsity. */
    sparsity,
    /** Start of a PolynomialDecay schedule; absent: ConstantSparsity at `sparsity`. */
    initialSparsity: sparsity.optional(),
    /** Steps between mask updates (tfmot default 100). */
    frequency: z.number().int().positive('expected a frequency > 0').default(100),
    beginStep: z.number().int().nonnegative().default(0),
    /** PolynomialDecay power. */
    power: z.number().default(3),
    scope: z.enum(PRUNE_SCOPES).default('layer'),
    skip: layerNames,
    mByN: MByNSchema.optional(),
    /** Fine-tuning epochs with the schedule (its end step is the end of fine-tuning). */
    epochs: epochs.default(2),
  })
  .superRefine((p, ctx) => {
    if (p.initialSparsity !== undefined && p.initialSparsity > p.sparsity) {
      ctx.addIssue({
        code: 'custom',
        path: ['initialSparsity'],
        message: `expected initialSparsity <= sparsity (${p.sparsity})`,
      });
    }
  });

export const StructuredPlanSchema = z.strictObject({
  /** Share of units/filters removed per prunable layer. */
  ratio: share,
  layers: z.record(z.string(), share).default({}),
  skip: layerNames,
  criterion: z.enum(STRUCTURED_CRITERIA).default('l1'),
  epochs: epochs.default(2),
});

export const DistillPlanSchema = z
  .strictObject({
    /** The student architecture; absent: the teacher's with every resizable layer narrowed by `width`. */
    student: ModelSpecSchema.optional(),
    width: z
      .number()
      .gt(0, 'expected a width factor in (0, 1]')
      .max(1, 'expected a width factor in (0, 1]')
      .optional(),
    /** A run id/prefix or a model folder/model.json; default: the source run's model. */
    teacher: z.string().min(1).optional(),
    temperature: z.number().positive('expected a temperature > 0').default(DEFAULT_TEMPERATURE),
    alpha: z
      .number()
      .min(0, 'expected alpha in [0, 1]')
      .max(1, 'expected alpha in [0, 1]')
      .default(DEFAULT_ALPHA),
    /** Training epochs of the student; default: the source run's epochs. */
    epochs: z.number().int().positive('expected epochs >= 1').optional(),
    seed: z.number().int().nonnegative().default(1),
  })
  .superRefine((d, ctx) => {
    if (d.student && d.width !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['width'],
        message: 'give either a student spec or a width, not both',
      });
    }
  });

/** tfjs weight dtypes, plus int8: QAT for the int8 (ONNX) export, which keeps a float model on the int8 grid. */
export const QUANTIZE_TARGETS = [...QUANT_DTYPES.filter((d) => d !== 'float32'), 'int8'] as const;
export type QuantizeTarget = (typeof QUANTIZE_TARGETS)[number];

export const QuantizePlanSchema = z.strictObject({
  dtype: z.enum(QUANTIZE_TARGETS),
  /** Per-layer dtypes fixed by the user (not searched). */
  layers: z.record(z.string(), z.enum(QUANT_DTYPES)).default({}),
  /** Largest validation-score drop a layer (and the whole model) may cost before it keeps more precision. */
  maxDrop: z.number().min(0, 'expected maxDrop >= 0').default(0.005),
  /** Quantization-aware fine-tuning epochs before quantizing (required > 0 for int8). */
  qatEpochs: epochs.default(0),
  /** int8 QAT: also fake-quantize activations (ranges saved as qat-ranges.json). */
  activations: z.boolean().default(false),
  /** int8 QAT: 7-bit weights, matching the int8 export's reduce-range option. */
  reduceRange: z.boolean().default(false),
});

export const CandidatePlanSchema = z
  .strictObject({
    key: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.+=-]*$/, 'expected letters, digits and . _ + = -')
      .optional(),
    distill: DistillPlanSchema.optional(),
    structured: StructuredPlanSchema.optional(),
    prune: PrunePlanSchema.optional(),
    quantize: QuantizePlanSchema.optional(),
    /** Learning rate for every fine-tuning step; default: the source run's. */
    learningRate: z.number().positive('expected a learning rate > 0').optional(),
  })
  .superRefine((p, ctx) => {
    if (!p.distill && !p.structured && !p.prune && !p.quantize) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'expected at least one of distill, structured, prune, quantize',
      });
    }
    if (p.quantize?.dtype === 'int8' && p.quantize.qatEpochs === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['quantize', 'qatEpochs'],
        message: 'int8 means quantization-aware training for the int8 export: expected qatEpochs >= 1',
      });
    }
  });

export type CandidatePlan = z.infer<typeof CandidatePlanSchema>;
export type CandidatePlanInput = z.input<typeof CandidatePlanSchema>;

export function parseCandidatePlan(input: unknown, path = 'candidate'): CandidatePlan {
  return parseWith(CandidatePlanSchema, input, path);
}

/** A short, stable name for a plan: `distill-w0.5+structured-0.5+prune-0.8+uint8`. */
export function planKey(p: CandidatePlan): string {
  if (p.key) return p.key;
  const parts: string[] = [];
  if (p.distill) parts.push(p.distill.student ? 'distill' : `distill-w${p.distill.width ?? 0.5}`);
  if (p.structured) parts.push(`structured-${p.structured.ratio}`);
  if (p.prune)
    parts.push(`prune-${p.prune.mByN ? `${p.prune.mByN.m}of${p.prune.mByN.n}` : p.prune.sparsity}`);
  if (p.quantize) parts.push(p.quantize.qatEpochs > 0 ? `qat-${p.quantize.dtype}` : p.quantize.dtype);
  return parts.join('+');
}
