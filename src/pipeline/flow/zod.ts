/**
 * zod issues as one message whose paths start at a place in the pipeline (`steps.train.with`), so
 * each part reads `steps.train.with.set: ...` rather than a path relative to the step's inputs.
 */
import { z } from 'zod';
import { formatZodError } from '../../core/zod-error.js';

export function formatIssues(error: z.ZodError, prefix: string): string {
  const base = prefix.split('.').filter((s) => s.length > 0);
  return formatZodError(new z.ZodError(error.issues.map((i) => ({ ...i, path: [...base, ...i.path] }))));
}
