import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { structuredCandidates, structuredPrune } from '../../src/optimize/structured.js';
import { clusters, mlp } from './helpers.js';

function set(layer: tf.layers.Layer, i: number, edit: (v: Float32Array, shape: number[]) => void): void {
  const ws = layer.getWeights();
  const w = ws[i] as tf.Tensor;
  const v = Float32Array.from(w.dataSync());
  edit(v, w.shape);
  ws[i] = tf.tensor(v, w.shape);
  layer.setWeights(ws);
}

function predict(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
}

/** Makes output channels `chans` of `producer` the weakest and cuts them off from `consumer` (rows on axis -2). */
function disconnect(
  producer: tf.layers.Layer,
  consumer: tf.layers.Layer,
  chans: number[],
  rowsPerChannel = 1,
  channels = 0,
): void {
  set(producer, 0, (v, shape) => {
    const out = shape[shape.length - 1] as number;
    for (let i = 0; i < v.length; i++) if (chans.includes(i % out)) v[i] = (v[i] as number) * 1e-3;
  });
  set(consumer, 0, (v, shape) => {
    const out = shape[shape.length - 1] as number;
    const inDim = shape[shape.length - 2] as number;
    for (let i = 0; i < v.length; i++) {
      const row = Math.floor(i / out) % inDim;
      const channel = rowsPerChannel > 1 ? row % channels : row;
      if (chans.includes(channel)) v[i] = 0;
    }
  });
}

describe('structured pruning', () => {
  it('dense: removes the weakest units, cuts the next layer, and predicts the same when they were dead', async () => {
    const model = mlp(8, 32, 16);
    const h1 = model.getLayer('h1');
    const h2 = model.getLayer('h2');
    const out = model.getLayer('out');
    disconnect(
      h1,
      h2,
      Array.from({ length: 16 }, (_, i) => 2 * i + 1),
    );
    disconnect(h2, out, [0, 1, 2, 3, 4, 5, 6, 7]);
    const r = await structuredPrune(model, { ratio: 0.5 });
    expect(r.layers.map((l) => [l.layer, l.before, l.after])).toEqual([
      ['h1', 32, 16],
      ['h2', 16, 8],
    ]);
    expect(r.layers[0]!.kept).toEqual(Array.from({ length: 16 }, (_, i) => 2 * i));
    expect(r.model.getLayer('h2').getWeights()[0]!.shape).toEqual([16, 8]);
    expect(r.model.getLayer('out').getWeights()[0]!.shape).toEqual([8, 3]);
    expect(r.paramsAfter).toBe(8 * 16 + 16 + 16 * 8 + 8 + 8 * 3 + 3);
    const x = tf.tensor(clusters(20).x, [20, 8]);
    const a = predict(model, x);
    const b = predict(r.model, x);
    a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 5));
  });

  it('conv: filters cut through batch normalization, pooling and flatten into the dense layer', async () => {
    const init = (seed: number) => tf.initializers.glorotUniform({ seed });
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [8, 8, 1],
          filters: 8,
          kernelSize: 3,
          activation: 'relu',
          name: 'c1',
          kernelInitializer: init(1),
        }),
        tf.layers.batchNormalization({ name: 'bn' }),
        tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }),
        tf.layers.conv2d({
          filters: 6,
          kernelSize: 2,
          activation: 'relu',
          name: 'c2',
          kernelInitializer: init(2),
        }),
        tf.layers.flatten({ name: 'flat' }),
        tf.layers.dense({ units: 6, activation: 'relu', name: 'd1', kernelInitializer: init(3) }),
        tf.layers.dense({ units: 3, activation: 'softmax', name: 'out', kernelInitializer: init(4) }),
      ],
    });
    // Non-trivial BN statistics, so that slicing them wrongly would change the outputs.
    const rng = new Rng(9);
    const bn = model.getLayer('bn');
    bn.setWeights(
      bn.getWeights().map((w, i) =>
        tf.tensor(
          Float32Array.from({ length: 8 }, () => (i === 3 ? 0.5 + rng.next() : rng.next() - 0.5)),
          w.shape,
        ),
      ),
    );
    disconnect(model.getLayer('c1'), model.getLayer('c2'), [1, 3, 5, 7]);
    // c2 output is 2x2x6, flattened to 24 features: feature = position * 6 + channel.
    disconnect(model.getLayer('c2'), model.getLayer('d1'), [0, 2, 4], 4, 6);
    disconnect(model.getLayer('d1'), model.getLayer('out'), [1, 3, 5]);

    const candidates = structuredCandidates(model);
    expect(candidates.map((c) => [c.layer, c.blocked ?? 'ok'])).toEqual([
      ['c1', 'ok'],
      ['c2', 'ok'],
      ['d1', 'ok'],
      ['out', 'its units are the model output'],
    ]);
    const r = await structuredPrune(model, { ratio: 0.5, criterion: 'l2' });
    const shape = (name: string, i = 0) => r.model.getLayer(name).getWeights()[i]!.shape;
    expect(shape('c1')).toEqual([3, 3, 1, 4]);
    expect(
      r.model
        .getLayer('bn')
        .getWeights()
        .map((w) => w.shape),
    ).toEqual([[4], [4], [4], [4]]);
    expect(shape('c2')).toEqual([2, 2, 4, 3]);
    expect(shape('d1')).toEqual([12, 3]);
    expect(shape('out')).toEqual([3, 3]);
    const rngX = new Rng(3);
    const x = tf.tensor(
      Float32Array.from({ length: 5 * 64 }, () => rngX.next()),
      [5, 8, 8, 1],
    );
    const a = predict(model, x);
    const b = predict(r.model, x);
    a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 5));
  });

  it('data-driven criterion removes units that never fire', async () => {
    const model = mlp(8, 8, 4);
    // Units 0..3 of h1 are dead: large negative bias, relu outputs 0 on every sample.
    set(model.getLayer('h1'), 1, (v) => [0, 1, 2, 3].forEach((i) => (v[i] = -100)));
    const data = clusters(64);
    const r = await structuredPrune(model, { ratio: 0.5, layers: { h2: 0 }, criterion: 'activation' }, data);
    expect(r.layers).toHaveLength(1);
    expect(r.layers[0]!.kept).toEqual([4, 5, 6, 7]);
  });

  it('refuses bad options before any work', async () => {
    const model = mlp();
    await expect(structuredPrune(model, { ratio: 1 })).rejects.toThrow(
      /structured\.ratio: expected a share of units to remove in \[0, 1\)/,
    );
    await expect(structuredPrune(model, { ratio: 0.5, layers: { out: 0.5 } })).rejects.toThrow(
      /structured\.layers: layer "out" cannot lose units: its units are the model output/,
    );
    await expect(structuredPrune(model, { ratio: 0.5, skip: ['h7'] })).rejects.toThrow(
      /structured\.skip: unknown layer "h7"/,
    );
    await expect(structuredPrune(model, { ratio: 0.5, criterion: 'activation' })).rejects.toThrow(
      /needs|none was given/,
    );
  });
});
