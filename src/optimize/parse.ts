import { z } from 'zod';
import { ModelautoError } from '../core/errors.js';
import { formatZodError } from '../core/zod-error.js';

/**
 * Validates optimize options with a schema; issues are reported under a dotted path such as
 * `prune.schedule.targetSparsity`, so the message names the exact field and what was expected.
 */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, path: string): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const prefix = path.split('.').filter((s) => s.length > 0);
  const issues = r.error.issues.map((i) => ({ ...i, path: [...prefix, ...i.path] }));
  // The message already starts with each field's path; no location prefix on top of it.
  throw new ModelautoError('INVALID_ARGUMENT', formatZodError(new z.ZodError(issues)));
}
