import type { z } from 'zod';
import { ModelautoError } from '../core/errors.js';

/**
 * Parses a caller's input, turning zod issues into one INVALID_ARGUMENT error whose location path
 * points at the offending field (e.g. `createRun.params.lr`).
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const pathOf = (i: z.core.$ZodIssue): string => [what, ...i.path.map(String)].join('.');
  const first = issues[0];
  const path = first ? pathOf(first) : what;
  // The first issue's path is shown through the error location; further issues carry their own.
  const details = issues.map((i, n) => (n === 0 ? i.message : `${pathOf(i)}: ${i.message}`)).join('; ');
  return throwInvalid(details, path);
}

function throwInvalid(message: string, path: string): never {
  throw new ModelautoError('INVALID_ARGUMENT', message, { location: { path } });
}
