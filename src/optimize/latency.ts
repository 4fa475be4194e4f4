import * as tf from '@tensorflow/tfjs';
import { Rng } from '../core/rng.js';

/**
 * Inference latency of several models measured together: for each batch size the models take turns,
 * round after round, in short timed blocks. On a shared, noisy machine absolute times drift, but models
 * measured in the same rounds see the same conditions, so their ratios hold.
 */
export interface LatencyOptions {
  batchSizes?: number[];
  /** Rounds per batch size (default 50). */
  rounds?: number;
  /**
   * Minimum time of one timed block in ms; calls are repeated until it is reached (default 2). Short
   * blocks are more often undisturbed by other processes on a loaded machine, which the minimum needs.
   */
  minBlockMs?: number;
  seed?: number;
}

export interface Latency {
  batchSize: number;
  /**
   * Milliseconds per predict call (batch in, values read back) in the fastest of the timed blocks: other
   * processes only ever add time, so the minimum is the estimate they disturb least (as timeit advises).
   */
  ms: number;
  /** Median over the blocks, for reference. */
  medianMs: number;
  samplesPerSecond: number;
}

function callOnce(model: tf.LayersModel, x: tf.Tensor): void {
  const y = model.predict(x) as tf.Tensor;
  y.dataSync();
  y.dispose();
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Latency of each model (same order) at each batch size. All models must take the same input shape. */
export function measureLatency(
  models: tf.LayersModel[],
  inputShape: number[],
  options: LatencyOptions = {},
): Latency[][] {
  const batchSizes = options.batchSizes ?? [1, 128];
  const rounds = options.rounds ?? 50;
  const minBlockMs = options.minBlockMs ?? 2;
  const rng = new Rng(options.seed ?? 1);
  const out: Latency[][] = models.map(() => []);
  const d = inputShape.reduce((a, b) => a * b, 1);
  for (const batch of batchSizes) {
    const x = tf.tensor(
      Float32Array.from({ length: batch * d }, () => rng.next()),
      [batch, ...inputShape],
      'float32',
    );
    try {
      // Warm up (kernels compiled, buffers allocated) and size each block to at least minBlockMs.
      const reps = models.map((m) => {
        for (let i = 0; i < 3; i++) callOnce(m, x);
        const t0 = performance.now();
        callOnce(m, x);
        const one = Math.max(performance.now() - t0, 1e-3);
        return Math.max(1, Math.ceil(minBlockMs / one));
      });
      const samples: number[][] = models.map(() => []);
      for (let r = 0; r < rounds; r++) {
        models.forEach((m, i) => {
          const n = reps[i] as number;
          const t0 = performance.now();
          for (let k = 0; k < n; k++) callOnce(m, x);
          (samples[i] as number[]).push((performance.now() - t0) / n);
        });
      }
      samples.forEach((s, i) => {
        const ms = Math.min(...s);
        (out[i] as Latency[]).push({
          batchSize: batch,
          ms,
          medianMs: median(s),
          samplesPerSecond: (batch * 1000) / ms,
        });
      });
    } finally {
      x.dispose();
    }
  }
  return out;
}
