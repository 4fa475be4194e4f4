/**
 * Search spaces over experiment-spec paths. Each path takes a list of values (grid, or drawn uniformly
 * by random search) or a range (random search: uniform, or log-uniform for learning rates; `int`
 * rounds). Configurations are generated from a seed, so a resumed search draws the same ones.
 */
import { z } from 'zod';
import { ModelautoError } from '../../../core/errors.js';
import { Rng } from '../../../core/rng.js';
import { JsonValueSchema, type JsonValue } from '../../../store/types.js';
import { parsePath } from '../paths.js';

export const RangeSchema = z
  .strictObject({
    min: z.number(),
    max: z.number(),
    /** log: log-uniform (needs min > 0), the usual choice for learning rates. */
    scale: z.enum(['linear', 'log']).default('linear'),
    /** Round to whole numbers (units, batch sizes). */
    int: z.boolean().default(false),
  })
  .superRefine((r, ctx) => {
    if (r.max < r.min)
      ctx.addIssue({ code: 'custom', path: ['max'], message: `expected max >= min (${r.min})` });
    if (r.scale === 'log' && r.min <= 0)
      ctx.addIssue({ code: 'custom', path: ['min'], message: 'expected min > 0 for scale: log' });
  });
export type Range = z.infer<typeof RangeSchema>;

export const DimensionSchema = z.union([
  z.array(JsonValueSchema).min(1, 'expected at least one value'),
  RangeSchema,
]);
export type Dimension = z.infer<typeof DimensionSchema>;

/** Path → values or range. Paths are checked for syntax here and against the experiment at load. */
export const SpaceSchema = z
  .record(z.string(), DimensionSchema)
  .refine((s) => Object.keys(s).length > 0, 'expected at least one path to search')
  .superRefine((s, ctx) => {
    for (const path of Object.keys(s)) {
      try {
        parsePath(path, 'space');
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: [path], message: (e as Error).message });
      }
    }
  });
export type Space = z.infer<typeof SpaceSchema>;

export type Configuration = Record<string, JsonValue>;

/** Every combination of the listed values, the first path varying slowest. */
export function gridConfigurations(space: Space): Configuration[] {
  const entries = Object.entries(space);
  for (const [path, dim] of entries) {
    if (!Array.isArray(dim)) {
      throw new ModelautoError(
        'INVALID_SPEC',
        `space["${path}"]: grid search needs a list of values, not a range (use strategy: random for ranges)`,
      );
    }
  }
  let configs: Configuration[] = [{}];
  for (const [path, dim] of entries) {
    configs = configs.flatMap((c) => (dim as JsonValue[]).map((v) => ({ ...c, [path]: v })));
  }
  return configs;
}

/** `n` configurations drawn with the seed: list values uniformly, ranges per their scale. */
export function randomConfigurations(space: Space, n: number, seed: number): Configuration[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const c: Configuration = {};
    for (const [path, dim] of Object.entries(space)) c[path] = draw(dim, rng);
    return c;
  });
}

function draw(dim: Dimension, rng: Rng): JsonValue {
  if (Array.isArray(dim)) return dim[rng.int(dim.length)] as JsonValue;
  const u = rng.next();
  const v =
    dim.scale === 'log'
      ? Math.exp(Math.log(dim.min) + u * (Math.log(dim.max) - Math.log(dim.min)))
      : dim.min + u * (dim.max - dim.min);
  // Six significant digits: readable in run params, and the same on every platform.
  return dim.int ? Math.round(v) : Number(v.toPrecision(6));
}

/**
 * Configurations that together try every listed value and both ends of every range (the other paths
 * at their first value): checking them before the search starts finds a value the experiment cannot
 * take without waiting for the trial that would draw it.
 */
export function probeConfigurations(space: Space): Configuration[] {
  const first = (dim: Dimension): JsonValue => (Array.isArray(dim) ? (dim[0] as JsonValue) : dim.min);
  const base: Configuration = Object.fromEntries(Object.entries(space).map(([p, d]) => [p, first(d)]));
  const out: Configuration[] = [base];
  for (const [path, dim] of Object.entries(space)) {
    const values = Array.isArray(dim) ? dim.slice(1) : [dim.max];
    for (const v of values) out.push({ ...base, [path]: v });
  }
  return out;
}
