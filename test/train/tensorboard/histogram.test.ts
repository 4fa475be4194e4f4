import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../../src/core/errors.js';
import { buildHistogram, defaultBucketLimits } from '../../../src/train/tensorboard/histogram.js';
import { Rng } from '../../../src/core/rng.js';

describe('defaultBucketLimits (TensorFlow default buckets)', () => {
  it('is symmetric around 0, grows by 10% from 1e-12 to 1e20 and ends at +-DBL_MAX', () => {
    const limits = defaultBucketLimits();
    // 1e-12 * 1.1^k < 1e20 for k = 0..773, plus DBL_MAX, on each side, plus 0.
    expect(limits.length).toBe(2 * 775 + 1);
    const mid = 775;
    expect(limits[mid]).toBe(0);
    expect(limits[mid + 1]).toBe(1e-12);
    expect(limits[mid + 2]).toBe(1e-12 * 1.1);
    expect(limits[0]).toBe(-Number.MAX_VALUE);
    expect(limits[limits.length - 1]).toBe(Number.MAX_VALUE);
    expect(limits[limits.length - 2]).toBeLessThan(1e20);
    expect(limits[limits.length - 2]! * 1.1).toBeGreaterThanOrEqual(1e20);
    for (let i = 1; i < limits.length; i++) {
      expect(limits[i]).toBeGreaterThan(limits[i - 1]!);
      expect(limits[limits.length - 1 - i]! + limits[i]!).toBe(0);
    }
  });
});

describe('buildHistogram, exponential buckets', () => {
  it('computes the summary statistics', () => {
    const h = buildHistogram([0, 0, 1, -1, 5]);
    expect(h).toMatchObject({ min: -1, max: 5, num: 5, sum: 5, sumSquares: 27 });
  });

  it('puts every value in the bucket whose limit is the first one above it, and collapses empty runs', () => {
    const rng = new Rng(7);
    const values = Array.from(
      { length: 500 },
      () => (rng.next() - 0.5) * 10 ** Math.floor(rng.next() * 8 - 4),
    );
    values.push(0, 0, 1e-13, -3);
    const h = buildHistogram(values);
    expect(h.bucket.reduce((a, b) => a + b, 0)).toBe(values.length);
    expect(h.bucketLimit.length).toBe(h.bucket.length);
    const all = defaultBucketLimits();
    for (let i = 0; i < h.bucket.length; i++) {
      if (i > 0) expect(h.bucketLimit[i]).toBeGreaterThan(h.bucketLimit[i - 1]!);
      // Never two empty entries in a row: TensorFlow merges such runs.
      if (i > 0) expect(h.bucket[i]! + h.bucket[i - 1]!).toBeGreaterThan(0);
      if (h.bucket[i]! > 0) {
        // A non-empty entry is exactly one default bucket: [previous default limit, its limit).
        const hi = h.bucketLimit[i]!;
        const prev = all[all.indexOf(hi) - 1] ?? -Infinity;
        expect(i === 0 ? -Infinity : h.bucketLimit[i - 1]).toBe(prev);
        expect(values.filter((v) => v >= prev && v < hi).length).toBe(h.bucket[i]);
      }
    }
    // Zeros and 1e-13 land in [0, 1e-12).
    const zeroBucket = h.bucketLimit.indexOf(1e-12);
    expect(h.bucket[zeroBucket]).toBe(values.filter((v) => v >= 0 && v < 1e-12).length);
    expect(h.bucketLimit[h.bucketLimit.length - 1]).toBe(Number.MAX_VALUE);
  });
});

describe('buildHistogram, equal-width bins', () => {
  it('splits [min, max] into n buckets, the last one closed', () => {
    const h = buildHistogram([0, 1, 2, 3, 4], { bins: 2 });
    expect(h).toEqual({
      min: 0,
      max: 4,
      num: 5,
      sum: 10,
      sumSquares: 30,
      bucketLimit: [2, 4],
      bucket: [2, 3],
    });
  });

  it('keeps empty buckets and accepts typed arrays', () => {
    const h = buildHistogram(Float32Array.from([0, 0, 10]), { bins: 5 });
    expect(h.bucketLimit).toEqual([2, 4, 6, 8, 10]);
    expect(h.bucket).toEqual([2, 0, 0, 0, 1]);
  });

  it('uses one bucket when all values are equal', () => {
    expect(buildHistogram([3, 3], { bins: 4 })).toMatchObject({
      min: 3,
      max: 3,
      bucketLimit: [3],
      bucket: [2],
    });
  });
});

describe('buildHistogram input checks', () => {
  const fails = (fn: () => unknown, text: string): void => {
    expect(fn).toThrow(ModelautoError);
    expect(fn).toThrow(text);
  };
  it('refuses non-finite values, empty input and bad bin counts', () => {
    fails(() => buildHistogram([1, NaN]), 'values[1]: histogram values must be finite, got NaN at index 1');
    fails(() => buildHistogram([Infinity]), 'got Infinity at index 0');
    fails(() => buildHistogram([]), 'at least one value');
    fails(() => buildHistogram([1], { bins: 0 }), 'bins must be an integer from 1 to 100000, got 0');
    fails(() => buildHistogram([1], { bins: 2.5 }), 'got 2.5');
  });
});
