import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { z } from 'zod';
import { ModelautoError } from '../core/errors.js';
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
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModelautoError(
      'NOT_FOUND',
      `cannot read spec ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`,
      {
        cause: e,
      },
    );
  }
  if (!['.yaml', '.yml', '.json'].includes(extname(file).toLowerCase())) {
    throw new ModelautoError('USAGE', `${file}: expected a .yaml, .yml or .json spec file`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    // linePos is only filled with prettyErrors; the offset is always there.
    const line = lines.linePos(Math.min(err.pos[0], Math.max(0, text.length - 1))).line;
    throw new ModelautoError('INVALID_SPEC', `invalid YAML: ${err.message.split('\n')[0] ?? ''}`, {
      location: { file, line },
    });
  }
  const value: unknown = doc.toJS();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ModelautoError('INVALID_SPEC', 'expected a mapping with name, data, model and train', {
      location: { file },
    });
  }
  const r = ExperimentSpecSchema.safeParse(value);
  if (!r.success) {
    const first = r.error.issues[0];
    const line = first ? lineOf(doc, lines, first.path) : undefined;
    throw new ModelautoError('INVALID_SPEC', formatZodError(r.error), {
      location: { file, ...(line ? { line } : {}) },
    });
  }
  return r.data;
}

/** The line of the deepest existing node on `path` (a missing key points at its parent). */
function lineOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as (string | number)[], true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}
