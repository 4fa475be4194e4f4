/**
 * The drift reference a trained model carries: up to 1000 seeded rows of its RAW training features
 * (before any scaling or encoding), stored in the training bundle next to profile.json, so a server can
 * compare live inputs to the training data without having the training data.
 *
 * Format (artifact `reference-sample.json`, plus `reference-sample.bin` for tensor features):
 * - table data: the columns in the JSON, numbers as numbers (null = missing), categories as strings;
 * - tensor data: the JSON holds the shape and dtype; the .bin holds the rows row-major, as bytes when
 *   every value is an integer 0..255 (images: 784 bytes per MNIST digit) and as little-endian float32
 *   otherwise.
 * The auto rule's row count is the training split size (profile.n, also recorded as sourceRows), not
 * the sample's: the sample stands for the whole training set.
 */
import { z } from 'zod';
import { ModelautoError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { formatZodError } from '../../core/zod-error.js';
import { DataProfileSchema, type DataProfile, type FeatureProfile } from '../../data/profile.js';
import { itemSize } from '../../data/split.js';
import type { Dataset } from '../../data/types.js';
import { columnarFromTensor, type ColumnarData } from './columnar.js';

export const REFERENCE_SAMPLE_VERSION = 1;
/** Rows kept by default: Evidently's small-reference limit, and ~0.8 MB for MNIST as bytes. */
export const REFERENCE_SAMPLE_ROWS = 1000;
export const REFERENCE_ARTIFACTS = {
  sample: 'reference-sample.json',
  data: 'reference-sample.bin',
  profile: 'profile.json',
} as const;

const TableColumnSchema = z.discriminatedUnion('kind', [
  z.strictObject({ name: z.string(), kind: z.literal('numeric'), values: z.array(z.number().nullable()) }),
  z.strictObject({
    name: z.string(),
    kind: z.literal('categorical'),
    values: z.array(z.string().nullable()),
  }),
]);

export const ReferenceSampleSchema = z.strictObject({
  version: z.literal(REFERENCE_SAMPLE_VERSION),
  /** Rows in the sample. */
  rows: z.int().nonnegative(),
  /** Rows of the training split it was drawn from. */
  sourceRows: z.int().nonnegative(),
  seed: z.int(),
  kind: z.enum(['table', 'tensor']),
  columns: z.array(TableColumnSchema).optional(),
  tensor: z
    .strictObject({
      shape: z.array(z.int().positive()),
      dtype: z.enum(['uint8', 'float32']),
      /** The artifact holding the values. */
      file: z.string(),
    })
    .optional(),
});
export type ReferenceSample = z.infer<typeof ReferenceSampleSchema>;

/** A reference sample ready to be stored: the JSON text and, for tensors, the binary values. */
export interface EncodedReferenceSample {
  json: string;
  data?: Uint8Array<ArrayBuffer>;
}

export interface SampleReferenceOptions {
  /** Default 1000. */
  maxRows?: number;
  /** Default 0; the training job passes the split seed. */
  seed?: number;
}

function isByteValued(data: Float32Array | Uint8Array): boolean {
  if (data instanceof Uint8Array) return true;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!(v >= 0 && v <= 255 && v === Math.floor(v))) return false;
  }
  return true;
}

/** Draws up to maxRows rows (seeded, kept in data set order) of raw features and encodes them. */
export function sampleReference(ds: Dataset, options: SampleReferenceOptions = {}): EncodedReferenceSample {
  const maxRows = options.maxRows ?? REFERENCE_SAMPLE_ROWS;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(maxRows) || maxRows < 1) {
    throw new ModelautoError('INVALID_ARGUMENT', `maxRows must be a positive integer, got ${maxRows}`);
  }
  const m = Math.min(maxRows, ds.n);
  const rows = Array.from(new Rng(seed).permutation(ds.n).subarray(0, m)).sort((a, b) => a - b);
  const f = ds.features;
  if (f.kind === 'tensor') {
    const d = itemSize(f.shape);
    const bytes = isByteValued(f.data);
    let data: Uint8Array<ArrayBuffer>;
    if (bytes) {
      data = new Uint8Array(m * d);
      rows.forEach((r, i) => {
        for (let j = 0; j < d; j++) data[i * d + j] = f.data[r * d + j] as number;
      });
    } else {
      data = new Uint8Array(m * d * 4);
      const view = new DataView(data.buffer);
      rows.forEach((r, i) => {
        for (let j = 0; j < d; j++) view.setFloat32((i * d + j) * 4, f.data[r * d + j] as number, true);
      });
    }
    const sample: ReferenceSample = {
      version: REFERENCE_SAMPLE_VERSION,
      rows: m,
      sourceRows: ds.n,
      seed,
      kind: 'tensor',
      tensor: { shape: [...f.shape], dtype: bytes ? 'uint8' : 'float32', file: REFERENCE_ARTIFACTS.data },
    };
    return { json: JSON.stringify(sample) + '\n', data };
  }
  const columns = f.columns.map((c) =>
    c.kind === 'numeric'
      ? {
          name: c.name,
          kind: 'numeric' as const,
          values: rows.map((r) => {
            const v = c.values[r] as number;
            return Number.isNaN(v) ? null : v;
          }),
        }
      : { name: c.name, kind: 'categorical' as const, values: rows.map((r) => c.values[r] ?? null) },
  );
  const sample: ReferenceSample = {
    version: REFERENCE_SAMPLE_VERSION,
    rows: m,
    sourceRows: ds.n,
    seed,
    kind: 'table',
    columns,
  };
  return { json: JSON.stringify(sample) + '\n' };
}

function invalidArtifact(name: string, message: string, cause?: unknown): ModelautoError {
  return new ModelautoError('INVALID_DATA', `${name}: ${message}`, cause === undefined ? {} : { cause });
}

function parseJson(bytes: Uint8Array, name: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw invalidArtifact(name, `not valid JSON (${(e as Error).message})`, e);
  }
}

/** The sample's values as columns (the .bin is needed for tensor samples). */
export function decodeReferenceSample(sample: ReferenceSample, data?: Uint8Array): ColumnarData {
  if (sample.kind === 'tensor') {
    const t = sample.tensor;
    if (!t)
      throw invalidArtifact(REFERENCE_ARTIFACTS.sample, 'a tensor sample needs its "tensor" description');
    const d = itemSize(t.shape);
    const size = sample.rows * d * (t.dtype === 'uint8' ? 1 : 4);
    if (!data || data.length !== size) {
      throw invalidArtifact(
        t.file,
        `expected ${size} bytes (${sample.rows} rows of shape [${t.shape.join(', ')}] as ${t.dtype}), got ${data ? data.length : 'none'}`,
      );
    }
    if (t.dtype === 'uint8') return columnarFromTensor(data, sample.rows, t.shape);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const values = new Float32Array(sample.rows * d);
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
    return columnarFromTensor(values, sample.rows, t.shape);
  }
  const numeric = new Map<string, Float64Array>();
  const categorical = new Map<string, (string | null)[]>();
  for (const c of sample.columns ?? []) {
    if (c.values.length !== sample.rows) {
      throw invalidArtifact(
        REFERENCE_ARTIFACTS.sample,
        `column ${JSON.stringify(c.name)} has ${c.values.length} values, expected ${sample.rows}`,
      );
    }
    if (c.kind === 'numeric')
      numeric.set(
        c.name,
        Float64Array.from(c.values, (v) => (v === null ? NaN : v)),
      );
    else categorical.set(c.name, c.values);
  }
  return { rows: sample.rows, numeric, categorical, order: (sample.columns ?? []).map((c) => c.name) };
}

export interface DriftReference {
  data: ColumnarData;
  profile: DataProfile;
  /** What the auto rule uses: the training split size (profile.n). */
  referenceRows: number;
  /** 'sample': the stored raw rows; 'profile': approximated from profile.json (older runs, opt-in). */
  source: 'sample' | 'profile';
}

export interface LoadDriftReferenceOptions {
  /**
   * For runs trained before the sample was stored: rebuild an approximate reference from profile.json
   * (numeric values at their histogram bin midpoints, categories from the listed top values). Off by
   * default: tests on such a reference only see the profile's 10-bin resolution.
   */
  allowProfileFallback?: boolean;
}

/**
 * Loads the drift reference of a trained model from its artifacts (`readArtifact` returns undefined for
 * an artifact the run does not have). Needs profile.json; needs reference-sample.json unless
 * allowProfileFallback is set.
 */
export async function loadDriftReference(
  readArtifact: (name: string) => Promise<Uint8Array | undefined>,
  options: LoadDriftReferenceOptions = {},
): Promise<DriftReference> {
  const profileBytes = await readArtifact(REFERENCE_ARTIFACTS.profile);
  if (!profileBytes) {
    throw new ModelautoError(
      'NOT_FOUND',
      `${REFERENCE_ARTIFACTS.profile} not found: drift needs the training data profile that train runs record`,
    );
  }
  const parsed = DataProfileSchema.safeParse(parseJson(profileBytes, REFERENCE_ARTIFACTS.profile));
  if (!parsed.success) {
    throw invalidArtifact(REFERENCE_ARTIFACTS.profile, formatZodError(parsed.error), parsed.error);
  }
  const profile = parsed.data;
  const sampleBytes = await readArtifact(REFERENCE_ARTIFACTS.sample);
  if (!sampleBytes) {
    if (!options.allowProfileFallback) {
      throw new ModelautoError(
        'NOT_FOUND',
        `${REFERENCE_ARTIFACTS.sample} not found: this model was trained before modelauto stored a reference sample of the raw training features, and drift detection compares raw values against it. Retrain the model, or pass allowProfileFallback to approximate the reference from ${REFERENCE_ARTIFACTS.profile} (histogram resolution only).`,
      );
    }
    return { data: columnarFromProfile(profile), profile, referenceRows: profile.n, source: 'profile' };
  }
  const s = ReferenceSampleSchema.safeParse(parseJson(sampleBytes, REFERENCE_ARTIFACTS.sample));
  if (!s.success) throw invalidArtifact(REFERENCE_ARTIFACTS.sample, formatZodError(s.error), s.error);
  const data =
    s.data.kind === 'tensor'
      ? await readArtifact(s.data.tensor?.file ?? REFERENCE_ARTIFACTS.data)
      : undefined;
  return { data: decodeReferenceSample(s.data, data), profile, referenceRows: profile.n, source: 'sample' };
}

/** Splits `total` into integer parts proportional to `weights` (largest remainder, ties to the first). */
function apportion(weights: readonly number[], total: number): number[] {
  const sum = weights.reduce((s, w) => s + w, 0);
  if (sum <= 0) return weights.map(() => 0);
  const exact = weights.map((w) => (w * total) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((s, v) => s + v, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left-- <= 0) break;
    out[i] = (out[i] as number) + 1;
  }
  return out;
}

/** An approximate reference of min(1000, n) rows rebuilt from the profile's histograms and top values. */
export function columnarFromProfile(profile: DataProfile, rows = REFERENCE_SAMPLE_ROWS): ColumnarData {
  const n = Math.min(rows, profile.n);
  const numeric = new Map<string, Float64Array>();
  const categorical = new Map<string, (string | null)[]>();
  const fill = (f: FeatureProfile): void => {
    const total = f.count + f.missing;
    if (f.kind === 'numeric') {
      const col = new Float64Array(n).fill(NaN);
      const h = f.histogram;
      if (h && total > 0) {
        const parts = apportion([f.count, f.missing], n);
        const perBin = apportion(h.counts, parts[0] as number);
        let k = 0;
        perBin.forEach((c, b) => {
          const mid = ((h.edges[b] as number) + (h.edges[b + 1] as number)) / 2;
          col.fill(mid, k, k + c);
          k += c;
        });
      }
      numeric.set(f.name, col);
    } else {
      const col = new Array<string | null>(n).fill(null);
      if (total > 0) {
        const labels = [...f.top.map((t) => t.value), '(other)'];
        const parts = apportion([...f.top.map((t) => t.count), f.other, f.missing], n);
        let k = 0;
        labels.forEach((label, i) => {
          for (let c = 0; c < (parts[i] as number); c++) col[k++] = label;
        });
      }
      categorical.set(f.name, col);
    }
  };
  profile.features.forEach(fill);
  return { rows: n, numeric, categorical, order: profile.features.map((f) => f.name) };
}
