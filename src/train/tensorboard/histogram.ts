import { ModelautoError } from '../../core/errors.js';
import type { HistogramData } from './proto.js';

/**
 * Two bucketings for HistogramProto:
 * - default: TensorFlow's own (core/lib/histogram/histogram.cc, used by tf.summary.histogram v1 and
 *   the WriteHistogramSummary op): fixed limits growing by 10% from 1e-12 to 1e20, mirrored for
 *   negatives, with 0 and +-DBL_MAX; runs of empty buckets are collapsed into one entry, as
 *   TensorFlow does when it encodes the proto. TensorBoard re-bins these for display.
 * - `bins: n`: n equal-width buckets from min to max (empty buckets kept), the last limit being
 *   exactly max. All-equal data gives a single bucket.
 * Non-finite values are refused, as TensorFlow's op refuses them.
 */

const DBL_MAX = Number.MAX_VALUE;

let defaultLimits: readonly number[] | undefined;

/** TensorFlow's default bucket limits, built with the same double arithmetic (v *= 1.1). */
export function defaultBucketLimits(): readonly number[] {
  if (defaultLimits) return defaultLimits;
  const positive: number[] = [];
  for (let v = 1e-12; v < 1e20; v *= 1.1) positive.push(v);
  positive.push(DBL_MAX);
  const negative = positive.map((v) => -v).reverse();
  defaultLimits = Object.freeze([...negative, 0, ...positive]);
  return defaultLimits;
}

export interface HistogramOptions {
  /** Number of equal-width buckets. Omit for TensorFlow's exponential buckets. */
  bins?: number;
}

export function buildHistogram(values: ArrayLike<number>, options: HistogramOptions = {}): HistogramData {
  const { bins } = options;
  if (bins !== undefined && !(Number.isInteger(bins) && bins >= 1 && bins <= 100_000)) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `histogram bins must be an integer from 1 to 100000, got ${bins}`,
      {
        location: { path: 'bins' },
      },
    );
  }
  if (values.length === 0) {
    throw new ModelautoError('INVALID_ARGUMENT', 'histogram needs at least one value, got an empty array', {
      location: { path: 'values' },
    });
  }
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `histogram values must be finite, got ${v} at index ${i}`,
        {
          location: { path: `values[${i}]` },
        },
      );
    }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSquares += v * v;
  }
  const stats = { min, max, num: values.length, sum, sumSquares };
  const buckets = bins === undefined ? exponentialBuckets(values) : equalWidthBuckets(values, min, max, bins);
  return { ...stats, ...buckets };
}

function exponentialBuckets(values: ArrayLike<number>): Pick<HistogramData, 'bucketLimit' | 'bucket'> {
  const limits = defaultBucketLimits();
  const counts = new Float64Array(limits.length);
  for (let i = 0; i < values.length; i++) counts[upperBound(limits, values[i]!)]! += 1;
  const bucketLimit: number[] = [];
  const bucket: number[] = [];
  for (let i = 0; i < counts.length;) {
    let end = limits[i]!;
    const count = counts[i]!;
    i++;
    if (count <= 0) {
      while (i < counts.length && counts[i]! <= 0) {
        end = limits[i]!;
        i++;
      }
    }
    bucketLimit.push(end);
    bucket.push(count);
  }
  return { bucketLimit, bucket };
}

/** Index of the first limit greater than v (std::upper_bound), clamped to the last bucket. */
function upperBound(limits: readonly number[], v: number): number {
  let lo = 0;
  let hi = limits.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (limits[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(lo, limits.length - 1);
}

function equalWidthBuckets(
  values: ArrayLike<number>,
  min: number,
  max: number,
  bins: number,
): Pick<HistogramData, 'bucketLimit' | 'bucket'> {
  if (min === max) return { bucketLimit: [max], bucket: [values.length] };
  const width = (max - min) / bins;
  const bucket = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const b = Math.min(Math.floor((values[i]! - min) / width), bins - 1);
    bucket[b]! += 1;
  }
  const bucketLimit = Array.from({ length: bins }, (_, i) => (i === bins - 1 ? max : min + (i + 1) * width));
  return { bucketLimit, bucket };
}
