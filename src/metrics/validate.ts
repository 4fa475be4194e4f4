import type { z } from 'zod';
import { ModelautoError } from '../core/errors.js';

/** Every metric reports bad input the same way: the function and argument path, then what was expected. */
export function invalidArgument(fn: string, path: string, message: string): ModelautoError {
  return new ModelautoError('INVALID_ARGUMENT', message, { location: { path: `${fn}: ${path}` } });
}

/** Parses an options object, turning the first zod issue into an error that names the option. */
export function parseOptions<S extends z.ZodType>(
  fn: string,
  schema: S,
  options: unknown,
  root = 'options',
): z.output<S> {
  const result = schema.safeParse(options ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = [root, ...(issue?.path ?? [])]
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
  throw invalidArgument(fn, path, issue?.message ?? 'invalid options');
}

export function checkNonEmpty(fn: string, name: string, values: readonly unknown[]): void {
  if (values.length === 0)
    throw invalidArgument(fn, name, 'expected at least one sample, got an empty array');
}

export function checkSameLength(
  fn: string,
  a: [string, readonly unknown[]],
  b: [string, readonly unknown[]],
): void {
  if (a[1].length !== b[1].length) {
    throw invalidArgument(
      fn,
      b[0],
      `found inconsistent numbers of samples: ${a[0]} has ${a[1].length}, ${b[0]} has ${b[1].length}`,
    );
  }
}

export function checkSampleWeight(
  fn: string,
  sampleWeight: readonly number[] | undefined,
  nSamples: number,
): readonly number[] | undefined {
  if (sampleWeight === undefined) return undefined;
  if (sampleWeight.length !== nSamples) {
    throw invalidArgument(
      fn,
      'options.sampleWeight',
      `found inconsistent numbers of samples: ${nSamples} samples but ${sampleWeight.length} weights`,
    );
  }
  return sampleWeight;
}

/** A finite number array (regression targets, 1-D scores). */
export function checkNumberArray(fn: string, name: string, values: readonly unknown[]): readonly number[] {
  if (!Array.isArray(values))
    throw invalidArgument(fn, name, `expected an array of numbers, got ${typeof values}`);
  for (let i = 0; i < values.length; i++) {
    const v: unknown = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw invalidArgument(fn, `${name}[${i}]`, `expected a finite number, got ${String(v)}`);
    }
  }
  return values as readonly number[];
}

export type Scores =
  | { kind: '1d'; values: readonly number[] }
  | { kind: '2d'; rows: readonly (readonly number[])[]; columns: number };

/** Scores are either one per sample or a rectangular samples x classes matrix of finite numbers. */
export function checkScores(
  fn: string,
  name: string,
  scores: readonly number[] | readonly (readonly number[])[],
): Scores {
  if (!Array.isArray(scores)) throw invalidArgument(fn, name, `expected an array, got ${typeof scores}`);
  if (scores.length > 0 && Array.isArray(scores[0])) {
    const rows = scores as readonly unknown[];
    const columns = (rows[0] as readonly unknown[]).length;
    if (columns === 0)
      throw invalidArgument(fn, `${name}[0]`, 'expected at least one column, got an empty row');
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      if (!Array.isArray(row) || row.length !== columns) {
        throw invalidArgument(
          fn,
          `${name}[${i}]`,
          `expected a row of ${columns} numbers like ${name}[0], got ${Array.isArray(row) ? `${row.length} values` : typeof row}`,
        );
      }
      checkNumberArray(fn, `${name}[${i}]`, row);
    }
    return { kind: '2d', rows: rows as readonly (readonly number[])[], columns };
  }
  return { kind: '1d', values: checkNumberArray(fn, name, scores) };
}

/** numpy.average with weights; numpy raises ZeroDivisionError when the weights sum to zero. */
export function weightedMean(
  fn: string,
  values: ArrayLike<number>,
  weights: readonly number[] | undefined,
): number {
  let num = 0;
  if (weights === undefined) {
    for (let i = 0; i < values.length; i++) num += values[i] as number;
    return num / values.length;
  }
  let den = 0;
  for (let i = 0; i < values.length; i++) {
    const w = weights[i] as number;
    num += (values[i] as number) * w;
    den += w;
  }
  if (den === 0) throw invalidArgument(fn, 'options.sampleWeight', 'weights sum to zero, cannot normalize');
  return num / den;
}

/** Sum (weighted when weights are given), as scikit-learn's _weighted_sum with normalize=False. */
export function weightedSum(values: ArrayLike<number>, weights: readonly number[] | undefined): number {
  let s = 0;
  for (let i = 0; i < values.length; i++)
    s += (values[i] as number) * (weights === undefined ? 1 : (weights[i] as number));
  return s;
}
