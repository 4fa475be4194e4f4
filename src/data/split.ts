import { ModelautoError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { formatZodError } from '../core/zod-error.js';
import { SplitSpecSchema, type SplitSpec } from './spec.js';
import type { Column, Dataset, Features, Target } from './types.js';

export interface DatasetSplits {
  train: Dataset;
  /** Empty (n = 0) when the validation fraction is 0. */
  validation: Dataset;
  /** The data set's predefined test set if it has one; empty (n = 0) when the test fraction is 0. */
  test: Dataset;
}

export function itemSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Copies the given rows (in the given order) into a new data set; a predefined test set is not carried over. */
export function subsetDataset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const m = indices.length;
  for (let i = 0; i < m; i++) {
    const r = indices[i] as number;
    if (!Number.isInteger(r) || r < 0 || r >= ds.n) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `row index ${r} out of range for a data set of ${ds.n} rows`,
      );
    }
  }
  const pick = <T extends Float64Array | Int32Array>(src: T, out: T): T => {
    for (let i = 0; i < m; i++) out[i] = src[indices[i] as number] as number;
    return out;
  };
  let features: Features;
  if (ds.features.kind === 'tensor') {
    const f = ds.features;
    const size = itemSize(f.shape);
    const data = f.data instanceof Uint8Array ? new Uint8Array(m * size) : new Float32Array(m * size);
    for (let i = 0; i < m; i++) {
      const r = indices[i] as number;
      data.set(f.data.subarray(r * size, (r + 1) * size), i * size);
    }
    features = { kind: 'tensor', shape: [...f.shape], data };
  } else {
    const columns: Column[] = ds.features.columns.map((c) =>
      c.kind === 'numeric'
        ? { name: c.name, kind: 'numeric', values: pick(c.values, new Float64Array(m)) }
        : {
            name: c.name,
            kind: 'categorical',
            values: Array.from({ length: m }, (_, i) => c.values[indices[i] as number] ?? null),
          },
    );
    features = { kind: 'table', columns };
  }
  const t = ds.target;
  const target: Target =
    t.kind === 'classification'
      ? { kind: 'classification', name: t.name, classes: [...t.classes], y: pick(t.y, new Int32Array(m)) }
      : { kind: 'regression', name: t.name, y: pick(t.y, new Float64Array(m)) };
  return { name: ds.name, n: m, features, target, source: { ...ds.source } };
}

/** The first `limit` rows as views (no copy); the predefined test set, if any, is not carried over. */
export function headDataset(ds: Dataset, limit: number | undefined): Dataset {
  const { predefinedTest: _dropped, ...rest } = ds;
  if (limit === undefined || limit >= ds.n) return { ...rest };
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ModelautoError('INVALID_ARGUMENT', `limit must be a positive integer, got ${limit}`);
  }
  const f = ds.features;
  const features: Features =
    f.kind === 'tensor'
      ? { ...f, data: f.data.subarray(0, limit * itemSize(f.shape)) }
      : {
          kind: 'table',
          columns: f.columns.map((c) =>
            c.kind === 'numeric'
              ? { ...c, values: c.values.subarray(0, limit) }
              : { ...c, values: c.values.slice(0, limit) },
          ),
        };
  const t = ds.target;
  const target: Target =
    t.kind === 'classification' ? { ...t, y: t.y.subarray(0, limit) } : { ...t, y: t.y.subarray(0, limit) };
  return { ...rest, n: limit, features, target };
}

/** Rows for a fraction: rounded up so that a requested split is never empty (tolerant of 0.1 * n = 15.000000000000002). */
function rowsFor(fraction: number, n: number): number {
  return fraction > 0 ? Math.ceil(fraction * n - 1e-9) : 0;
}

/**
 * Splits into train / validation / test with a seeded shuffle. Stratified splitting (classification only)
 * gives every split the class proportions of the whole, rounding like scikit-learn's StratifiedShuffleSplit,
 * and keeps at least one row of every class with two or more rows in train. A predefined test set is used
 * as the test split; validation is then carved from the remaining rows.
 */
export function splitDataset(ds: Dataset, options: Partial<SplitSpec> = {}): DatasetSplits {
  const parsed = SplitSpecSchema.safeParse(options);
  if (!parsed.success) throw new ModelautoError('INVALID_ARGUMENT', formatZodError(parsed.error, 'split'));
  const { validation, test, seed, stratify } = parsed.data;
  const predefined = ds.predefinedTest;
  const testFraction = predefined ? 0 : test;
  if (validation + testFraction >= 1) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `split fractions must sum to < 1 (validation ${validation} + test ${testFraction})`,
      {
        location: { path: 'split' },
      },
    );
  }
  const n = ds.n;
  const nTest = rowsFor(testFraction, n);
  const nVal = rowsFor(validation, n);
  if (n - nTest - nVal < 1) {
    throw new ModelautoError(
      'INVALID_DATA',
      `${n} rows are too few to split: validation ${nVal} + test ${nTest} leave no training rows`,
      { location: { path: 'split' } },
    );
  }
  const rng = new Rng(seed);
  const parts =
    stratify && ds.target.kind === 'classification'
      ? stratifiedParts(ds.target.y, ds.target.classes.length, nTest, nVal, rng)
      : plainParts(n, nTest, nVal, rng);
  return {
    train: subsetDataset(ds, parts.train),
    validation: subsetDataset(ds, parts.validation),
    test: predefined ?? subsetDataset(ds, parts.test),
  };
}

interface Parts {
  train: Int32Array;
  validation: Int32Array;
  test: Int32Array;
}

function plainParts(n: number, nTest: number, nVal: number, rng: Rng): Parts {
  const p = rng.permutation(n);
  return { test: p.slice(0, nTest), validation: p.slice(nTest, nTest + nVal), train: p.slice(nTest + nVal) };
}

function stratifiedParts(y: Int32Array, k: number, nTest: number, nVal: number, rng: Rng): Parts {
  const byClass: number[][] = Array.from({ length: k }, () => []);
  y.forEach((c, i) => (byClass[c] as number[]).push(i));
  for (const rows of byClass) rng.shuffle(rows);
  const counts = byClass.map((r) => r.length);
  // a class keeps at least one row in train when it has two or more
  const capOf = (c: number): number => (c >= 2 ? c - 1 : 0);
  const testCounts = allocate(counts, nTest, counts.map(capOf));
  const rest = counts.map((c, i) => c - (testCounts[i] as number));
  const valCounts = allocate(rest, nVal, rest.map(capOf));
  const test: number[] = [];
  const validation: number[] = [];
  const train: number[] = [];
  byClass.forEach((rows, i) => {
    const a = testCounts[i] as number;
    const b = a + (valCounts[i] as number);
    rows.forEach((r, j) => (j < a ? test : j < b ? validation : train).push(r));
  });
  // interleave classes: callers may batch without shuffling
  return {
    train: rng.shuffle(Int32Array.from(train)),
    validation: rng.shuffle(Int32Array.from(validation)),
    test: rng.shuffle(Int32Array.from(test)),
  };
}

/**
 * Takes `m` rows out of classes with `counts` rows, proportionally: the floor of each class's share, then
 * one more row to the classes with the largest remainders (ties: larger class, then lower index), never
 * more than a class's cap.
 */
export function allocate(counts: readonly number[], m: number, caps: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (m === 0 || total === 0) return counts.map(() => 0);
  const ideal = counts.map((c) => (m * c) / total);
  const out = ideal.map((v, i) => Math.min(Math.floor(v + 1e-9), caps[i] as number));
  let left = m - out.reduce((a, b) => a + b, 0);
  while (left > 0) {
    const open = out.map((_, i) => i).filter((i) => (out[i] as number) < (caps[i] as number));
    if (open.length === 0) {
      throw new ModelautoError(
        'INVALID_DATA',
        `cannot stratify: taking ${m} of ${total} rows would leave a class without training rows; use a smaller split or stratify: false`,
        { location: { path: 'split' } },
      );
    }
    open.sort(
      (a, b) =>
        (ideal[b] as number) - (out[b] as number) - ((ideal[a] as number) - (out[a] as number)) ||
        (counts[b] as number) - (counts[a] as number) ||
        a - b,
    );
    for (const i of open.slice(0, left)) out[i] = (out[i] as number) + 1;
    left = m - out.reduce((a, b) => a + b, 0);
  }
  return out;
}
