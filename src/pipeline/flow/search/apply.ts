/**
 * One configuration of a search applied to the experiment: each path set to its value (and the epochs
 * of a halving rung), then the whole spec validated again, so a value the experiment cannot take is
 * an error naming the path, before any trial runs.
 */
import { ModelautoError } from '../../../core/errors.js';
import { formatZodError } from '../../../core/zod-error.js';
import type { JsonValue } from '../../../store/types.js';
import { ExperimentSpecSchema, type ExperimentSpec } from '../../../train/experiment.js';
import { applySet, parsePath, setPath } from '../paths.js';

export function applyConfiguration(
  spec: ExperimentSpec,
  params: Record<string, JsonValue>,
  epochs: number | undefined,
  what: string,
): ExperimentSpec {
  let json = JSON.parse(JSON.stringify(spec)) as JsonValue;
  for (const [path, value] of Object.entries(params)) {
    json = applySet(json, parsePath(path, what), value, `${what}[${JSON.stringify(path)}]`);
  }
  if (epochs !== undefined) json = setPath(json, ['train', 'epochs'], epochs);
  const r = ExperimentSpecSchema.safeParse(json);
  if (!r.success) {
    throw new ModelautoError(
      'INVALID_SPEC',
      `${what}: ${JSON.stringify(params)} makes the experiment invalid: ${formatZodError(r.error)}`,
    );
  }
  return r.data;
}
