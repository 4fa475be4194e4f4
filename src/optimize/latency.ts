import * as tf from '@tensorflow/tfjs';
import { Rng } from '../core/rng.js';

/**
 * Inference latency of several models measured together: for each batch size the models take turns,
 * round after round, in short timed blocks (the order reversed every other round, so that no model always
 * runs right after the same neighbour). On a shared, noisy machine absolute times drift, but models timed
 * in the same round see the same conditions: the speedup of one model over another is the median of their
 * per-round ratios, which a burst of load from other processes hardly moves.
 */
export interface LatencyOptions {
  batchSizes?: number[];
  /** Rounds per batch size (default 60). */
  rounds?: number;
  /** Minimum time of one timed block in ms; calls are repeated until it is reached (default 4). */
  minBlockMs?: number;
  /** Untimed calls per model before timing (default 5): kernels compiled, buffers allocated. */
  warmup?: number;
  seed?: number;
}

export interface Latency {
  batchSize: number;
  /** Milliseconds per call (batch in, values read back): the median over the timed blocks. */
  ms: number;
  /** The fastest block: the least disturbed by other processes, for reference. */
  minMs: number;
  samplesPerSecond: number;
  /** Milliseconds per call of each round's block, in round order (what paired ratios are taken over). */
  rounds: number[];
}

/** One model's inference at one batch size: the call to time, and what to release after. */
export interface TimedCall {
  call: () => void | Promise<void>;
  dispose?: () => void | Promise<void>;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * How many times faster `candidate` is than `base`: the median over rounds of base / candidate per-call
 * time. Both must come from the same measurement (same rounds).
 */
export function pairedSpeedup(base: Latency, candidate: Latency): number {
  const n = Math.min(base.rounds.length, candidate.rounds.length);
  if (n === 0) return base.ms / candidate.ms;
  return median(
    Array.from({ length: n }, (_, r) => (base.rounds[r] as number) / (candidate.rounds[r] as number)),
  );
}

/**
 * Times `calls(batch)` for every model at each batch size, interleaved (see above). Generic over the
 * runtime: tfjs predict is synchronous, onnxruntime's run is not.
 */
export async function measureInterleaved(
  models: number,
  calls: (batch: number, x: Float32Array) => Promise<TimedCall[]>,
  sampleSize: number,
  options: LatencyOptions = {},
): Promise<Latency[][]> {
  const batchSizes = options.batchSizes ?? [1, 128];
  const rounds = options.rounds ?? 60;
  const minBlockMs = options.minBlockMs ?? 4;
  const warmup = options.warmup ?? 5;
  const rng = new Rng(options.seed ?? 1);
  const out: Latency[][] = Array.from({ length: models }, () => []);
  for (const batch of batchSizes) {
    const x = Float32Array.from({ length: batch * sampleSize }, () => rng.next());
    const timed = await calls(batch, x);
    try {
      const reps: number[] = [];
      for (const t of timed) {
        for (let i = 0; i < warmup; i++) await t.call();
        const t0 = performance.now();
        await t.call();
        reps.push(Math.max(1, Math.ceil(minBlockMs / Math.max(performance.now() - t0, 1e-3))));
      }
      const samples: number[][] = timed.map(() => []);
      for (let r = 0; r < rounds; r++) {
        const order = timed.map((_, i) => (r % 2 ? timed.length - 1 - i : i));
        for (const i of order) {
          const t = timed[i] as TimedCall;
          const n = reps[i] as number;
          const t0 = performance.now();
          for (let k = 0; k < n; k++) await t.call();
          (samples[i] as number[]).push((performance.now() - t0) / n);
        }
      }
      samples.forEach((s, i) => {
        const ms = median(s);
        (out[i] as Latency[]).push({
          batchSize: batch,
          ms,
          minMs: Math.min(...s),
          samplesPerSecond: (batch * 1000) / ms,
          rounds: s,
        });
      });
    } finally {
      for (const t of timed) await t.dispose?.();
    }
  }
  return out;
}

/** Latency of each tfjs model (same order) at each batch size. All models must take the same input shape. */
export function measureLatency(
  models: tf.LayersModel[],
  inputShape: number[],
  options: LatencyOptions = {},
): Promise<Latency[][]> {
  const d = inputShape.reduce((a, b) => a * b, 1);
  if (models.length === 0) return Promise.resolve([]);
  return measureInterleaved(
    models.length,
    (batch, values) => {
      const x = tf.tensor(values, [batch, ...inputShape], 'float32');
      const calls: TimedCall[] = models.map((m) => ({
        call: () => {
          const y = m.predict(x) as tf.Tensor;
          y.dataSync();
          y.dispose();
        },
      }));
      // The input is shared: released with the last model's calls.
      (calls[calls.length - 1] as TimedCall).dispose = () => x.dispose();
      return Promise.resolve(calls);
    },
    d,
    options,
  );
}
