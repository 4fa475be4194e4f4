import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import {
  installNativeKernels,
  nativeAddon,
  uninstallNativeKernels,
} from '../../../src/engine/native/index.js';
import {
  countCalls,
  describeNative,
  expectSameResult,
  randomArray,
  randomTensor,
  runBoth,
  useCpu,
} from './helpers.js';

beforeAll(useCpu);

const RELU_GRAD = 'ModelautoReluGrad';

describeNative('fused Relu gradient', () => {
  const rng = new Rng(41);

  it('matches tfjs (mul(dy, step(x))) bit for bit, with NaN, infinities and zeros', () => {
    const n = 3 * 5 * 7;
    const xv = randomArray(rng, n);
    const dv = randomArray(rng, n);
    xv.set([NaN, 0, -0, Infinity, -Infinity, 1e-30, -1e-30]);
    dv.set([1, NaN, Infinity, -Infinity, 2, Infinity, NaN], 7);
    const x = tf.tensor(xv, [3, 5, 7]);
    const dy = tf.tensor(dv, [3, 5, 7]);
    const run = (): tf.Tensor => {
      const [gx] = tf.grads((xx: tf.Tensor) => tf.relu(xx).mul(dy).sum())([x]);
      return gx as tf.Tensor;
    };
    const addon = nativeAddon();
    try {
      for (const cap of [0, 2, 1]) {
        addon?.setIsaCap(cap);
        let r: ReturnType<typeof runBoth> | undefined;
        const counted = countCalls(RELU_GRAD, () => {
          r = runBoth(run);
        });
        expect(counted.calls, `cap ${cap}`).toBeGreaterThan(0);
        if (r) expectSameResult(r, 0, `cap ${cap}`);
      }
    } finally {
      addon?.setIsaCap(0);
    }
    tf.dispose([x, dy]);
  });

  it('gives the bias gradient of relu(x + b) from the same pass, for every rank and size', () => {
    for (const shape of [
      [6, 9],
      [2, 5, 4, 3],
      [128, 40],
      [64, 13, 11, 16],
      [1, 7],
    ]) {
      const x = randomTensor(rng, shape);
      const b = randomTensor(rng, [shape[shape.length - 1] ?? 1]);
      const probe = randomTensor(rng, shape);
      let r: ReturnType<typeof runBoth> | undefined;
      const sums = countCalls('Sum', () => {
        r = runBoth(() => {
          const [gx, gb] = tf.grads((xx: tf.Tensor, bb: tf.Tensor) =>
            tf.relu(tf.add(xx, bb)).mul(probe).sum(),
          )([x, b]);
          return [gx as tf.Tensor, gb as tf.Tensor];
        });
      });
      expect(sums.calls, `${shape}`).toBeGreaterThan(0);
      if (r) expectSameResult(r, 1e-5, `${shape}`);
      tf.dispose([x, b, probe]);
    }
  });

  it('supports second-order gradients', () => {
    const x = randomTensor(rng, [4, 6]);
    const v = randomTensor(rng, [4, 6]);
    // d/dv of (d/dx sum(relu(x) * v * v)) = 2 v * step(x)
    const f = (vv: tf.Tensor): tf.Tensor => {
      const [gx] = tf.grads((xx: tf.Tensor) => tf.relu(xx).mul(vv).mul(vv).sum())([x]);
      return (gx as tf.Tensor).sum();
    };
    expectSameResult(
      runBoth(() => tf.grad(f)(v)),
      1e-5,
    );
    tf.dispose([x, v]);
  });

  it('is not used once the native kernels are uninstalled', () => {
    const x = randomTensor(rng, [3, 4]);
    uninstallNativeKernels();
    expect(tf.getKernel(RELU_GRAD, 'cpu')).toBeUndefined();
    const g = tf.grad((xx: tf.Tensor) => tf.relu(xx).sum())(x);
    expect(Array.from(g.dataSync())).toEqual(Array.from(x.dataSync()).map((v) => (v > 0 ? 1 : 0)));
    installNativeKernels();
    tf.dispose([x, g]);
  });
});
