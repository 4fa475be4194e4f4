import { z } from 'zod';
import { ModelautoError } from '../core/errors.js';
import { parseAt, readYamlFile } from '../core/yaml-file.js';
import { formatZodError } from '../core/zod-error.js';
import { DataSpecSchema } from '../data/spec.js';
import { ModelSpecSchema } from '../model/spec.js';
import { TrainSpecSchema } from './spec.js';

/**
 * An experiment spec: one YAML or JSON file with what to train on (`data`), what to train (`model`) and
 * how (`train`). `modelauto train <file>` runs one.
 */
export const ExperimentSpecSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a name of letters, digits, dot, dash and underscore'),
  description: z.string().optional(),
  data: DataSpecSchema,
  /** Optional only for code that passes its own tfjs model to the trainer. */
  model: ModelSpecSchema.optional(),
  train: TrainSpecSchema.default(TrainSpecSchema.parse({})),
});

export type ExperimentSpec = z.infer<typeof ExperimentSpecSchema>;
export type ExperimentSpecInput = z.input<typeof ExperimentSpecSchema>;

export function parseExperimentSpec(input: unknown, file?: string): ExperimentSpec {
  const r = ExperimentSpecSchema.safeParse(input);
  if (!r.success) {
    throw new ModelautoError('INVALID_SPEC', formatZodError(r.error), file ? { location: { file } } : {});
  }
  return r.data;
}

/**
 * Reads a YAML (or JSON, which is YAML) spec file. Validation errors point at the line of the offending
 * field, e.g. `examples/iris.yaml:14: model.layers[2].units: expected positive integer`.
 */
export function loadExperimentSpec(file: string): ExperimentSpec {
  const yaml = readYamlFile(file, { what: 'spec', checkExtension: true });
  const value = yaml.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ModelautoError('INVALID_SPEC', 'expected a mapping with name, data, model and train', {
      location: { file },
    });
  }
  return parseAt(ExperimentSpecSchema, value, yaml);
}
