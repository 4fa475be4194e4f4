import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/core/rng.js';
import type { TensorData } from '../../src/train/trainer.js';

/** Three Gaussian clusters in `dim` dimensions with one-hot labels: learnable in a few epochs. */
export function clusters(n: number, dim = 8, seed = 1): TensorData {
  const rng = new Rng(seed);
  const k = 3;
  const centers = Array.from({ length: k }, () => Array.from({ length: dim }, () => (rng.next() - 0.5) * 4));
  const x = new Float32Array(n * dim);
  const y = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    for (let j = 0; j < dim; j++) x[i * dim + j] = (centers[c]![j] as number) + (rng.next() - 0.5) * 2;
    y[i * k + c] = 1;
  }
  return { n, x, xShape: [dim], y, yShape: [k] };
}

/** dim → hidden relu → hidden2 relu → 3 softmax, seeded. */
export function mlp(dim = 8, hidden = 32, hidden2 = 16, seed = 1): tf.Sequential {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: s });
  return tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [dim],
        units: hidden,
        activation: 'relu',
        kernelInitializer: init(seed),
        name: 'h1',
      }),
      tf.layers.dense({ units: hidden2, activation: 'relu', kernelInitializer: init(seed + 1), name: 'h2' }),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(seed + 2), name: 'out' }),
    ],
  });
}

export function accuracyOf(model: tf.LayersModel, data: TensorData): number {
  return tf.tidy(() => {
    const x = tf.tensor(data.x, [data.n, ...data.xShape]);
    const p = (model.predict(x) as tf.Tensor).argMax(-1);
    const t = tf.tensor(data.y, [data.n, ...data.yShape]).argMax(-1);
    return p.equal(t).mean().dataSync()[0] as number;
  });
}
