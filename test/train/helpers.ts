import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/core/rng.js';
import type { TensorData } from '../../src/train/trainer.js';

/** Two Gaussian blobs in 4-D, one-hot labels: learnable in a few epochs, tiny enough for unit tests. */
export function blobs(n: number, seed = 1): TensorData {
  const rng = new Rng(seed);
  const x = new Float32Array(n * 4);
  const y = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    for (let j = 0; j < 4; j++) x[i * 4 + j] = (c ? 1 : -1) + (rng.next() - 0.5) * 1.5;
    y[i * 2 + c] = 1;
  }
  return { n, x, xShape: [4], y, yShape: [2] };
}

export function smallModel(seed = 1): tf.Sequential {
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      inputShape: [4],
      units: 8,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    }),
  );
  m.add(
    tf.layers.dense({
      units: 2,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
    }),
  );
  return m;
}
