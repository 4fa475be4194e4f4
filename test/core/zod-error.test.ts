import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { formatPath, formatZodError } from '../../src/core/zod-error.js';

function messageOf(schema: z.ZodType, value: unknown, prefix?: string): string {
  const r = schema.safeParse(value);
  if (r.success) throw new Error('expected a failure');
  return formatZodError(r.error, prefix);
}

describe('formatZodError', () => {
  const S = z.strictObject({
    split: z.strictObject({ validation: z.number().max(0.9), test: z.number().min(0) }),
    name: z.string().min(2).optional(),
    tags: z.array(z.string()).max(2).optional(),
    mode: z.enum(['a', 'b']).optional(),
    kind: z.literal('x').optional(),
    count: z.int().optional(),
    either: z.union([z.string(), z.number()]).optional(),
  });

  it('names each field by path with a short expectation', () => {
    expect(messageOf(S, { split: { validation: 2, test: -1 } }, 'data')).toBe(
      'data.split.validation: expected number <= 0.9; data.split.test: expected number >= 0',
    );
    expect(messageOf(S, { split: { validation: 0.1, test: 0 }, name: 'a', tags: ['a', 'b', 'c'] })).toBe(
      'name: expected at least 2 characters; tags: expected at most 2 items',
    );
    expect(messageOf(S, { split: { validation: 0.1, test: 0 }, mode: 'c', kind: 'y', count: 1.5 })).toBe(
      'mode: expected one of "a", "b"; kind: expected "x"; count: expected int, received number',
    );
  });

  it('reports missing keys as required and unknown keys one by one', () => {
    expect(messageOf(S, { split: { test: 0 }, colour: 1, size: 2 }, 'data')).toBe(
      'data.split.validation: required (expected number); data.colour: unknown key; data.size: unknown key',
    );
  });

  it('merges type-only union failures and keeps array indices in paths', () => {
    expect(messageOf(S, { split: { validation: 0, test: 0 }, either: true })).toBe(
      'either: expected string | number, received boolean',
    );
    expect(messageOf(z.object({ a: z.array(z.number()) }), { a: [1, 'x'] }, 'p')).toBe(
      'p.a[1]: expected number, received string',
    );
  });

  it('reports the closest union alternative', () => {
    const U = z.union([
      z.strictObject({ source: z.enum(['m', 'i']) }),
      z.strictObject({ csv: z.string(), label: z.string() }),
    ]);
    expect(messageOf(U, { csv: 'f', labl: 'y' }, 'data')).toBe(
      'data.label: required (expected string); data.labl: unknown key',
    );
  });

  it('keeps messages written in the schema', () => {
    const R = z.number().refine((v) => v % 2 === 0, 'must be even');
    expect(messageOf(z.object({ n: R }), { n: 3 })).toBe('n: must be even');
    expect(messageOf(z.object({ n: z.number().max(1, 'too many cooks') }), { n: 3 })).toBe(
      'n: too many cooks',
    );
  });

  it('formats paths', () => {
    expect(formatPath(['data', 'numeric', 0])).toBe('data.numeric[0]');
    expect(formatPath(['a b'])).toBe('["a b"]');
    expect(formatPath([])).toBe('(root)');
  });
});
