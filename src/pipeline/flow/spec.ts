/**
 * A pipeline file: a name, parameters with defaults (overridable with `--set a.b=1`), and a map of
 * steps, each `{ uses: <step type>, with: {...}, needs: [ids] }`. Step inputs may reference parameters
 * and other steps' outputs with `${{ params.x }}` and `${{ steps.<id>.outputs.<name> }}`; a reference
 * to another step is a dependency as much as `needs` is.
 */
import { z } from 'zod';
import { JsonValueSchema } from '../../store/types.js';
import { StepIdSchema } from '../../store/pipeline-types.js';

export const PipelineStepSpecSchema = z.strictObject({
  /** The step type: data, train, evaluate, optimize, export, gate, register, search (see steps/index.ts). */
  uses: z.string().min(1, 'expected a step type'),
  description: z.string().optional(),
  /** The step type's inputs. */
  with: z.record(z.string(), JsonValueSchema).default({}),
  /** Steps that must finish first (besides those referenced in `with`). A single id is allowed. */
  needs: z
    .union([StepIdSchema, z.array(StepIdSchema)])
    .default([])
    .transform((n) => (typeof n === 'string' ? [n] : n)),
  /** false: always run, never reuse earlier outputs. */
  cache: z.boolean().default(true),
});
export type PipelineStepSpec = z.infer<typeof PipelineStepSpecSchema>;

export const PipelineSpecSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a name of letters, digits, dot, dash and underscore'),
  description: z.string().optional(),
  /** Store URI; relative folders are the pipeline file's. `--store` and $MODELAUTO_STORE come first. */
  store: z.string().min(1).optional(),
  params: z.record(z.string(), JsonValueSchema).default({}),
  steps: z
    .record(StepIdSchema, PipelineStepSpecSchema)
    .refine((s) => Object.keys(s).length > 0, 'expected at least one step'),
});
export type PipelineSpec = z.infer<typeof PipelineSpecSchema>;
export type PipelineSpecInput = z.input<typeof PipelineSpecSchema>;
