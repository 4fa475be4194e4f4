/** Traffic windows and snapshots over explicit times (no clock involved). */
import { describe, expect, it } from 'vitest';
import { TrafficConfigSchema } from '../../../src/monitor/live/config.js';
import { quantileSorted, TrafficTracker } from '../../../src/monitor/live/traffic.js';

describe('traffic', () => {
  it('quantiles interpolate linearly, as numpy.quantile does', () => {
    // numpy.quantile([1, 2, 3, 4], [0.5, 0.99]) == [2.5, 3.97]
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.99)).toBeCloseTo(3.97, 12);
    expect(quantileSorted([7], 0.99)).toBe(7);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });

  it('computes rate, latency quantiles and the error rate (5xx) over a window', () => {
    const t = new TrafficTracker(TrafficConfigSchema.parse({ interval: '10s' }));
    for (let i = 0; i < 100; i++)
      t.record('m', 1_000 + i * 100, (i + 1) / 1000, i % 10 === 0 ? 503 : i % 10 === 1 ? 400 : 200);
    const w = t.window('m', 10_000, 10_900);
    expect(w.requests).toBe(100);
    expect(w.requestsPerSec).toBe(10);
    expect(w.p50).toBeCloseTo(0.0505, 10);
    expect(w.p99).toBeCloseTo(0.09901, 10);
    expect(w.errorRate).toBe(0.1);
    // The last second: arrivals 9_950 < t <= 10_900 are i = 90..99.
    const last = t.window('m', 950, 10_900);
    expect(last.requests).toBe(10);
    expect(last.errorRate).toBe(0.1);
    const none = t.window('other', 1000, 10_900);
    expect(none).toEqual({
      requests: 0,
      requestsPerSec: 0,
      p50: Number.NaN,
      p99: Number.NaN,
      errorRate: Number.NaN,
    });
  });

  it('keeps `keep` snapshots per model, one per call, including models without traffic', () => {
    const t = new TrafficTracker(TrafficConfigSchema.parse({ interval: '1s', keep: 3 }));
    for (let s = 1; s <= 5; s++) {
      t.record('m', s * 1000 - 500, 0.01, 200);
      t.snapshot(s * 1000, ['m', 'idle']);
    }
    const snaps = t.snapshots('m');
    expect(snaps.map((x) => x.t)).toEqual([3000, 4000, 5000]);
    expect(snaps.every((x) => x.requestsPerSec === 1 && x.p50 === 0.01 && x.errorRate === 0)).toBe(true);
    expect(t.snapshots('idle').map((x) => x.requestsPerSec)).toEqual([0, 0, 0]);
  });

  it('remembers at most maxSamples requests per model', () => {
    const t = new TrafficTracker(TrafficConfigSchema.parse({ maxSamples: 5 }));
    for (let i = 0; i < 10; i++) t.record('m', i, i, 200);
    const w = t.window('m', 60_000, 10);
    expect(w.requests).toBe(5);
    expect(w.p50).toBe(7);
  });
});
