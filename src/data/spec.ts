import { z } from 'zod';
import { ModelautoError } from '../core/errors.js';
import { formatZodError } from '../core/zod-error.js';

export const DEFAULT_MISSING_VALUES = ['', 'NA', 'N/A', 'null', '?'] as const;

export const BUILTIN_DATASETS = ['mnist', 'iris'] as const;
export type BuiltinName = (typeof BUILTIN_DATASETS)[number];

export const MissingSpecSchema = z.strictObject({
  /** Cell texts that mean "no value" (compared after trimming whitespace). */
  values: z.array(z.string()).default([...DEFAULT_MISSING_VALUES]),
  /** error: reject the file; drop: drop rows with a missing feature; impute: keep them for the preprocessor. */
  policy: z.enum(['error', 'drop', 'impute']).default('error'),
});
export type MissingSpec = z.infer<typeof MissingSpecSchema>;
export type MissingPolicy = MissingSpec['policy'];

const columnList = z.array(z.string().min(1));

/** Options shared by the tabular file formats (CSV, JSON Lines). */
const tableOptions = {
  label: z.string().min(1),
  numeric: columnList.optional(),
  categorical: columnList.optional(),
  ignore: columnList.optional(),
  /** Fixes the class order and rejects labels outside it. */
  classes: z.array(z.string()).min(2).optional(),
  task: z.enum(['classification', 'regression']).default('classification'),
  missing: MissingSpecSchema.prefault({}),
};

export const SplitSpecSchema = z.strictObject({
  validation: z.number().min(0).max(0.9).default(0.1),
  test: z.number().min(0).max(0.9).default(0.1),
  seed: z.int().default(42),
  stratify: z.boolean().default(true),
});
export type SplitSpec = z.infer<typeof SplitSpecSchema>;

export const ImputeSpecSchema = z.strictObject({
  numeric: z.enum(['mean', 'median', 'constant']).default('mean'),
  categorical: z.enum(['mostFrequent', 'constant']).default('mostFrequent'),
  /** Value for the 'constant' strategies; like scikit-learn's SimpleImputer: 0 for numbers, 'missing' for categories. */
  fillValue: z.union([z.number(), z.string()]).optional(),
});
export type ImputeSpec = z.infer<typeof ImputeSpecSchema>;

export const PreprocessSpecSchema = z
  .strictObject({
    numeric: z.enum(['standardize', 'minmax', 'none']).default('standardize'),
    categorical: z.enum(['onehot']).default('onehot'),
    /** ignore: an unseen category encodes as all zeros; error: reject it. */
    unknownCategory: z.enum(['ignore', 'error']).default('ignore'),
    impute: ImputeSpecSchema.prefault({}),
    /** Tensor features: scale divides by 255, standardize uses the training mean and std of all values. */
    pixels: z.enum(['scale', 'standardize', 'none']).default('scale'),
  })
  .superRefine((p, ctx) => {
    if (p.impute.numeric === 'constant' && typeof p.impute.fillValue === 'string') {
      ctx.addIssue({
        code: 'custom',
        path: ['impute', 'fillValue'],
        message: `expected a number for impute.numeric 'constant', got ${JSON.stringify(p.impute.fillValue)}`,
      });
    }
  });
export type PreprocessSpec = z.infer<typeof PreprocessSpecSchema>;
export type PreprocessSpecInput = z.input<typeof PreprocessSpecSchema>;

const common = {
  /** Keep only the first N training rows (quick runs). */
  limit: z.int().positive().optional(),
  /** Keep only the first N rows of a predefined test set. */
  testLimit: z.int().positive().optional(),
  split: SplitSpecSchema.prefault({}),
  preprocess: PreprocessSpecSchema.prefault({}),
};

const BuiltinDataSpecSchema = z.strictObject({ source: z.enum(BUILTIN_DATASETS), ...common });
const CsvDataSpecSchema = z.strictObject({
  csv: z.string().min(1),
  delimiter: z.string().length(1).optional(),
  ...tableOptions,
  ...common,
});
const JsonlDataSpecSchema = z.strictObject({ jsonl: z.string().min(1), ...tableOptions, ...common });
const IdxDataSpecSchema = z.strictObject({
  idx: z.strictObject({ images: z.string().min(1), labels: z.string().min(1) }),
  name: z.string().min(1).optional(),
  ...common,
});

/** The `data:` section of a spec: one source (built-in, CSV, JSON Lines or IDX) plus split and preprocessing. */
export const DataSpecSchema = z
  .union([BuiltinDataSpecSchema, CsvDataSpecSchema, JsonlDataSpecSchema, IdxDataSpecSchema])
  .superRefine((spec, ctx) => {
    if (spec.split.validation + spec.split.test >= 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['split'],
        message: `validation + test must be < 1 (got ${spec.split.validation} + ${spec.split.test})`,
      });
    }
    if (!('label' in spec)) return;
    const seen = new Map<string, string>();
    for (const key of ['numeric', 'categorical', 'ignore'] as const) {
      (spec[key] ?? []).forEach((name, i) => {
        if (name === spec.label) {
          ctx.addIssue({ code: 'custom', path: [key, i], message: `"${name}" is the label column` });
        }
        const other = seen.get(name);
        if (other !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key, i],
            message: `"${name}" is already listed in ${other}`,
          });
        }
        seen.set(name, key);
      });
    }
    if (spec.classes) {
      const dup = spec.classes.find((c, i) => spec.classes?.indexOf(c) !== i);
      if (dup !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['classes'],
          message: `duplicate class ${JSON.stringify(dup)}`,
        });
      }
      if (spec.task === 'regression') {
        ctx.addIssue({
          code: 'custom',
          path: ['classes'],
          message: 'classes cannot be used with task: regression',
        });
      }
    }
  });

export type DataSpec = z.infer<typeof DataSpecSchema>;
export type DataSpecInput = z.input<typeof DataSpecSchema>;
export type TableDataSpec = Extract<DataSpec, { label: string }>;
export type TableOptions = Pick<
  TableDataSpec,
  'label' | 'numeric' | 'categorical' | 'ignore' | 'classes' | 'task' | 'missing'
>;

/** Validates a `data:` section; `path` names it in error messages. */
export function parseDataSpec(input: unknown, path = 'data'): DataSpec {
  const result = DataSpecSchema.safeParse(input);
  if (!result.success) {
    throw new ModelautoError('INVALID_SPEC', formatZodError(result.error, path), { cause: result.error });
  }
  return result.data;
}
