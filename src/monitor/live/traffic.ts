/**
 * Live traffic per model: every answered inference request is remembered (arrival time, duration,
 * whether it failed) in a bounded ring, from which any recent window's request rate, latency
 * quantiles and error rate are computed; a snapshot of the last `interval` is kept every interval for
 * the charts. An error is a response with status >= 500 (the server's fault: 500, 503 queue full or
 * shutting down, 504 deadline); a 4xx is the client's.
 */
import type { TrafficSnapshot } from '../types.js';
import type { TrafficConfig } from './config.js';

export interface TrafficWindow {
  requests: number;
  requestsPerSec: number;
  /** Seconds; NaN without requests. */
  p50: number;
  p99: number;
  /** NaN without requests. */
  errorRate: number;
}

/** numpy's default (linear) quantile of sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo] as number;
  return a + ((sorted[hi] as number) - a) * (pos - lo);
}

class SampleRing {
  private readonly t: Float64Array;
  private readonly seconds: Float64Array;
  private readonly failed: Uint8Array;
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.t = new Float64Array(capacity);
    this.seconds = new Float64Array(capacity);
    this.failed = new Uint8Array(capacity);
  }

  push(t: number, seconds: number, failed: boolean): void {
    this.t[this.next] = t;
    this.seconds[this.next] = seconds;
    this.failed[this.next] = failed ? 1 : 0;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** Samples with t in (from, to], newest first. */
  collect(from: number, to: number): { seconds: number[]; failed: number } {
    const seconds: number[] = [];
    let failed = 0;
    for (let k = 1; k <= this.size; k++) {
      const i = (this.next - k + this.capacity) % this.capacity;
      const t = this.t[i] as number;
      if (t <= from) break;
      if (t > to) continue;
      seconds.push(this.seconds[i] as number);
      failed += this.failed[i] as number;
    }
    return { seconds, failed };
  }
}

export class TrafficTracker {
  private readonly rings = new Map<string, SampleRing>();
  private readonly history = new Map<string, TrafficSnapshot[]>();

  constructor(private readonly config: TrafficConfig) {}

  /** One answered request of `model` that arrived at `t` (epoch ms). */
  record(model: string, t: number, seconds: number, status: number): void {
    let ring = this.rings.get(model);
    if (!ring) {
      ring = new SampleRing(this.config.maxSamples);
      this.rings.set(model, ring);
    }
    ring.push(t, seconds, status >= 500);
  }

  /** Figures over the `ms` before `now` (no older than the configured maxAge). */
  window(model: string, ms: number, now: number): TrafficWindow {
    const span = Math.min(ms, this.config.maxAge);
    const { seconds, failed } = this.rings.get(model)?.collect(now - span, now) ?? { seconds: [], failed: 0 };
    const sorted = Float64Array.from(seconds).sort();
    const n = sorted.length;
    return {
      requests: n,
      requestsPerSec: n / (span / 1000),
      p50: quantileSorted(sorted, 0.5),
      p99: quantileSorted(sorted, 0.99),
      errorRate: n ? failed / n : Number.NaN,
    };
  }

  /** Appends a snapshot of the last interval for every model in `models` (and every model seen). */
  snapshot(now: number, models: readonly string[]): void {
    const names = new Set([...models, ...this.rings.keys()]);
    for (const model of names) {
      const w = this.window(model, this.config.interval, now);
      let list = this.history.get(model);
      if (!list) {
        list = [];
        this.history.set(model, list);
      }
      list.push({ t: now, requestsPerSec: w.requestsPerSec, p50: w.p50, p99: w.p99, errorRate: w.errorRate });
      if (list.length > this.config.keep) list.splice(0, list.length - this.config.keep);
    }
  }

  snapshots(model: string): TrafficSnapshot[] {
    return [...(this.history.get(model) ?? [])];
  }
}
