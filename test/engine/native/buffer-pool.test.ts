import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import {
  installNativeKernels,
  nativeStatus,
  uninstallNativeKernels,
} from '../../../src/engine/native/index.js';
import { describeNative, randomTensor, useCpu } from './helpers.js';

beforeAll(useCpu);

/** Large enough to be pooled (>= 16384 elements). */
const SHAPE = [64, 512];

function pool(): ReturnType<typeof nativeStatus>['bufferPool'] {
  return nativeStatus().bufferPool;
}

describeNative('recycling of native kernel outputs', () => {
  const rng = new Rng(51);

  it('reuses a disposed output for the next output of the same size', () => {
    installNativeKernels();
    const x = randomTensor(rng, SHAPE);
    tf.relu(x).dispose();
    const before = pool().reused;
    const y = tf.relu(x);
    expect(pool().reused).toBe(before + 1);
    const expected = Array.from(x.dataSync()).map((v) => (v < 0 ? 0 : v));
    expect(Array.from(y.dataSync())).toEqual(expected);
    tf.dispose([x, y]);
  });

  it('never recycles an array that dataSync or data() handed out', async () => {
    const x = randomTensor(rng, SHAPE);
    const a = tf.relu(x);
    const sync = a.dataSync();
    const b = tf.neg(x);
    const later = await b.data();
    const keptSync = Float32Array.from(sync);
    const keptLater = Float32Array.from(later);
    tf.dispose([a, b]);
    // many same-size outputs with other values: none may land in the handed-out arrays
    const outs: tf.Tensor[] = [];
    for (let i = 0; i < 6; i++) outs.push(tf.mul(x, tf.scalar(i + 2)));
    expect(sync).toEqual(keptSync);
    expect(later).toEqual(keptLater);
    for (const o of outs) {
      expect(o.dataSync()).not.toBe(sync);
      expect(o.dataSync()).not.toBe(later);
    }
    tf.dispose([x, ...outs]);
  });

  it('never recycles an array while a slice of it is alive', () => {
    const x = randomTensor(rng, SHAPE);
    const expected = Array.from(x.dataSync())
      .slice(0, 32 * 512)
      .map((v) => (v < 0 ? 0 : v));
    const a = tf.relu(x);
    // a contiguous slice is a view of a's array in tfjs's cpu backend (a itself is never read)
    const s = tf.slice(a, [0, 0], [32, 512]);
    a.dispose();
    const outs: tf.Tensor[] = [];
    for (let i = 0; i < 6; i++) outs.push(tf.mul(x, tf.scalar(-(i + 3))));
    expect(Array.from(s.dataSync())).toEqual(expected);
    tf.dispose([x, s, ...outs]);
  });

  it('keeps an array stored in two backend entries until both are disposed', () => {
    const x = randomTensor(rng, SHAPE);
    const expected = Array.from(x.dataSync()).map((v) => (v < 0 ? 0 : v));
    const a = tf.relu(x);
    // a second tensor over the very same array, as a kernel returning its input's values makes
    const backend = tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } };
    const b = tf.tensor(backend.data.get(a.dataId).values, a.shape);
    a.dispose();
    const outs: tf.Tensor[] = [];
    for (let i = 0; i < 6; i++) outs.push(tf.mul(x, tf.scalar(i + 7)));
    expect(Array.from(b.dataSync())).toEqual(expected);
    tf.dispose([x, b, ...outs]);
  });

  it('is off with MODELAUTO_BUFFER_POOL_MB=0', () => {
    const saved = process.env['MODELAUTO_BUFFER_POOL_MB'];
    try {
      uninstallNativeKernels();
      process.env['MODELAUTO_BUFFER_POOL_MB'] = '0';
      installNativeKernels();
      expect(pool().enabled).toBe(false);
      const x = randomTensor(rng, SHAPE);
      tf.relu(x).dispose();
      const before = pool().reused;
      tf.relu(x).dispose();
      expect(pool().reused).toBe(before);
      x.dispose();
    } finally {
      if (saved === undefined) delete process.env['MODELAUTO_BUFFER_POOL_MB'];
      else process.env['MODELAUTO_BUFFER_POOL_MB'] = saved;
      uninstallNativeKernels();
      installNativeKernels();
    }
    expect(pool().enabled).toBe(true);
  });
});
