import { z } from 'zod';
import { ModelautoError } from '../core/errors.js';
import { statsFromByteCounts, statsFromValues, type NumericStats } from './profile-stats.js';
import { itemSize } from './split.js';
import type { CategoricalColumn, Dataset, TensorFeatures } from './types.js';

export const PROFILE_VERSION = 1;

const num = z.number();
const NumericStatsShape = {
  count: z.int().nonnegative(),
  missing: z.int().nonnegative(),
  mean: num.nullable(),
  std: num.nullable(),
  min: num.nullable(),
  max: num.nullable(),
  quantiles: z
    .strictObject({ p01: num, p05: num, p25: num, p50: num, p75: num, p95: num, p99: num })
    .nullable(),
  histogram: z.strictObject({ edges: z.array(num), counts: z.array(z.int().nonnegative()) }).nullable(),
};

export const FeatureProfileSchema = z.discriminatedUnion('kind', [
  z.strictObject({ name: z.string(), kind: z.literal('numeric'), ...NumericStatsShape }),
  z.strictObject({
    name: z.string(),
    kind: z.literal('categorical'),
    count: z.int().nonnegative(),
    missing: z.int().nonnegative(),
    distinct: z.int().nonnegative(),
    /** Most frequent values, most frequent first (ties by value), at most maxCategories of them. */
    top: z.array(z.strictObject({ value: z.string(), count: z.int().positive() })),
    /** Occurrences of values not listed in top. */
    other: z.int().nonnegative(),
  }),
]);
export type FeatureProfile = z.infer<typeof FeatureProfileSchema>;

export const LabelProfileSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('classification'),
    name: z.string(),
    classes: z.array(z.string()),
    counts: z.array(z.int().nonnegative()),
  }),
  z.strictObject({ kind: z.literal('regression'), name: z.string(), ...NumericStatsShape }),
]);
export type LabelProfile = z.infer<typeof LabelProfileSchema>;

/** Raw (unscaled) statistics of a training split: the reference that drift detection compares live data to. */
export const DataProfileSchema = z.strictObject({
  version: z.literal(PROFILE_VERSION),
  n: z.int().nonnegative(),
  featureKind: z.enum(['table', 'tensor']),
  /** Per-sample shape of tensor features; their flattened positions are profiled as px_<i>. */
  shape: z.array(z.int().positive()).optional(),
  bins: z.int().positive(),
  features: z.array(FeatureProfileSchema),
  label: LabelProfileSchema,
});
export type DataProfile = z.infer<typeof DataProfileSchema>;

export interface ProfileOptions {
  /** Histogram bins per numeric feature (default 10). */
  bins?: number;
  /** Categories listed per categorical feature (default 50). */
  maxCategories?: number;
}

export function profileDataset(ds: Dataset, options: ProfileOptions = {}): DataProfile {
  const bins = options.bins ?? 10;
  const maxCategories = options.maxCategories ?? 50;
  if (!Number.isInteger(bins) || bins < 1)
    throw new ModelautoError('INVALID_ARGUMENT', `bins must be a positive integer, got ${bins}`);
  if (!Number.isInteger(maxCategories) || maxCategories < 0) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `maxCategories must be a non-negative integer, got ${maxCategories}`,
    );
  }
  const f = ds.features;
  const features: FeatureProfile[] =
    f.kind === 'tensor'
      ? profileTensor(f, ds.n, bins)
      : f.columns.map((c) =>
          c.kind === 'numeric'
            ? { name: c.name, kind: 'numeric', ...numericStats(c.values, bins) }
            : profileCategorical(c, maxCategories),
        );
  const t = ds.target;
  let label: LabelProfile;
  if (t.kind === 'classification') {
    const counts = new Array<number>(t.classes.length).fill(0);
    for (const k of t.y) counts[k] = (counts[k] as number) + 1;
    label = { kind: 'classification', name: t.name, classes: [...t.classes], counts };
  } else {
    label = { kind: 'regression', name: t.name, ...numericStats(t.y, bins) };
  }
  return {
    version: PROFILE_VERSION,
    n: ds.n,
    featureKind: f.kind,
    ...(f.kind === 'tensor' ? { shape: [...f.shape] } : {}),
    bins,
    features,
    label,
  };
}

/** Statistics of values where NaN means missing. */
export function numericStats(values: ArrayLike<number>, bins = 10): NumericStats {
  const present = new Float64Array(values.length);
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v)) present[count++] = v;
  }
  return statsFromValues(present.subarray(0, count), values.length - count, bins);
}

function profileCategorical(c: CategoricalColumn, maxCategories: number): FeatureProfile {
  const counts = new Map<string, number>();
  let missing = 0;
  for (const v of c.values) {
    if (v === null) missing++;
    else counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const top = sorted.slice(0, maxCategories).map(([value, count]) => ({ value, count }));
  const count = c.values.length - missing;
  const listed = top.reduce((s, t) => s + t.count, 0);
  return {
    name: c.name,
    kind: 'categorical',
    count,
    missing,
    distinct: counts.size,
    top,
    other: count - listed,
  };
}

/**
 * Profiles every flattened position of tensor features. Byte-valued data (uint8, or floats that are all
 * integers in 0..255) goes through per-position frequency tables in one pass; other data goes through a copy
 * per position (copied a block of positions at a time, so the row-major data is read sequentially).
 */
function profileTensor(f: TensorFeatures, n: number, bins: number): FeatureProfile[] {
  const d = itemSize(f.shape);
  const data = f.data;
  const out: FeatureProfile[] = new Array<FeatureProfile>(d);
  if (data instanceof Uint8Array || isByteValued(data)) {
    const freq = new Int32Array(d * 256);
    for (let i = 0, p = 0; i < n; i++) {
      for (let j = 0; j < d; j++, p++) {
        const k = j * 256 + (data[p] as number);
        freq[k] = (freq[k] as number) + 1;
      }
    }
    for (let j = 0; j < d; j++) {
      out[j] = {
        name: `px_${j}`,
        kind: 'numeric',
        ...statsFromByteCounts(freq.subarray(j * 256, (j + 1) * 256), 0, bins),
      };
    }
    return out;
  }
  const block = Math.max(1, Math.min(d, Math.floor((16 << 20) / Math.max(1, n * 8))));
  for (let start = 0; start < d; start += block) {
    const width = Math.min(block, d - start);
    const cols = Array.from({ length: width }, () => new Float64Array(n));
    for (let i = 0; i < n; i++) {
      const row = i * d + start;
      for (let j = 0; j < width; j++) (cols[j] as Float64Array)[i] = data[row + j] as number;
    }
    cols.forEach((col, j) => {
      out[start + j] = { name: `px_${start + j}`, kind: 'numeric', ...statsFromValues(col, 0, bins) };
    });
  }
  return out;
}

function isByteValued(data: Float32Array): boolean {
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!(v >= 0 && v <= 255 && v === Math.floor(v))) return false;
  }
  return true;
}
