import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPORTABLE_ACTIVATIONS } from '../../src/export/onnx/convert.js';
import { hasOnnxChecker, onnxCheck, parity, randomizeWeights, tempDir } from './helpers.js';

const TOLERANCE = 1e-4;
const dir = tempDir();
const written: string[] = [];

/** Checks parity and keeps the file for the ONNX checker test at the end. */
async function expectParity(
  name: string,
  model: tf.LayersModel,
  seed = 1,
  range: [number, number] = [-1, 1],
) {
  randomizeWeights(model, seed * 100);
  const r = await parity(model, seed, 3, range);
  const file = join(dir, `${name}.onnx`);
  writeFileSync(file, r.bytes);
  written.push(file);
  expect(r.maxDiff, `${name}: max |tfjs - onnxruntime|`).toBeLessThan(TOLERANCE);
  return r;
}

const seq = (layers: tf.layers.Layer[]) => tf.sequential({ layers });

describe('ONNX export: per-layer parity with tfjs (onnxruntime-node, random inputs, 1e-4)', () => {
  it('dense with every activation tfjs writes', async () => {
    for (const activation of EXPORTABLE_ACTIVATIONS) {
      const act = activation as Parameters<typeof tf.layers.dense>[0]['activation'];
      await expectParity(
        `dense_${activation}`,
        seq([tf.layers.dense({ inputShape: [6], units: 5, activation: act })]),
      );
    }
    // Without bias, and on a rank-3 input (tfjs applies the kernel to the last axis: MatMul + Add).
    await expectParity('dense_nobias', seq([tf.layers.dense({ inputShape: [6], units: 4, useBias: false })]));
    const r = await expectParity(
      'dense_rank3',
      seq([tf.layers.dense({ inputShape: [3, 6], units: 4, activation: 'tanh' })]),
    );
    expect(r.opTypes).toContain('MatMul');
  });

  it('conv2d: valid and same padding, strides, dilation, with a following flatten in NHWC order', async () => {
    const cases: Parameters<typeof tf.layers.conv2d>[0][] = [
      { filters: 4, kernelSize: 3 },
      { filters: 3, kernelSize: [3, 2], padding: 'same', strides: 2, activation: 'relu' },
      { filters: 2, kernelSize: 3, padding: 'same', dilationRate: 2 },
      { filters: 5, kernelSize: 4, padding: 'same', strides: [2, 3], useBias: false },
    ];
    for (const [i, c] of cases.entries()) {
      const r = await expectParity(
        `conv2d_${i}`,
        seq([tf.layers.conv2d({ inputShape: [9, 8, 3], ...c }), tf.layers.flatten()]),
        i + 1,
      );
      expect(r.opTypes).toEqual(expect.arrayContaining(['Transpose', 'Conv', 'Flatten']));
    }
  });

  it('depthwise conv2d with a depth multiplier', async () => {
    await expectParity(
      'depthwise_1',
      seq([tf.layers.depthwiseConv2d({ inputShape: [7, 7, 3], kernelSize: 3 })]),
    );
    await expectParity(
      'depthwise_2',
      seq([
        tf.layers.depthwiseConv2d({
          inputShape: [8, 6, 2],
          kernelSize: 3,
          depthMultiplier: 2,
          padding: 'same',
          strides: 2,
          activation: 'relu6',
        }),
      ]),
      2,
    );
  });

  it('max and average pooling (valid, same, strides), global pooling 2-D and 1-D', async () => {
    const input = [9, 7, 2];
    await expectParity('maxpool_valid', seq([tf.layers.maxPooling2d({ inputShape: input, poolSize: 2 })]));
    await expectParity(
      'maxpool_same',
      seq([tf.layers.maxPooling2d({ inputShape: input, poolSize: 3, strides: 2, padding: 'same' })]),
    );
    await expectParity(
      'avgpool_valid',
      seq([tf.layers.averagePooling2d({ inputShape: input, poolSize: [2, 3] })]),
    );
    // 'same' average pooling leaves the padding out of the count, as TensorFlow does.
    await expectParity(
      'avgpool_same',
      seq([tf.layers.averagePooling2d({ inputShape: input, poolSize: 3, strides: 2, padding: 'same' })]),
    );
    await expectParity('gap2d', seq([tf.layers.globalAveragePooling2d({ inputShape: input })]));
    await expectParity('gmp2d', seq([tf.layers.globalMaxPooling2d({ inputShape: input })]));
    await expectParity(
      'gap2d_after_conv',
      seq([
        tf.layers.conv2d({ inputShape: input, filters: 3, kernelSize: 2 }),
        tf.layers.globalAveragePooling2d({}),
      ]),
    );
    await expectParity('gap1d', seq([tf.layers.globalAveragePooling1d({ inputShape: [5, 3] })]));
    await expectParity('gmp1d', seq([tf.layers.globalMaxPooling1d({ inputShape: [5, 3] })]));
  });

  it('flatten, reshape, permute and dropout (identity at inference)', async () => {
    await expectParity('flatten', seq([tf.layers.flatten({ inputShape: [3, 4, 2] })]));
    await expectParity(
      'reshape',
      seq([tf.layers.reshape({ inputShape: [12], targetShape: [3, 4] }), tf.layers.dense({ units: 2 })]),
    );
    await expectParity(
      'reshape_infer',
      seq([tf.layers.reshape({ inputShape: [12], targetShape: [2, -1, 3] })]),
    );
    await expectParity('permute', seq([tf.layers.permute({ inputShape: [3, 4], dims: [2, 1] })]));
    const r = await expectParity(
      'dropout',
      seq([tf.layers.dense({ inputShape: [4], units: 3 }), tf.layers.dropout({ rate: 0.5 })]),
    );
    expect(r.opTypes).not.toContain('Dropout');
  });

  it('batch normalization: folded into dense and conv, and standalone on NHWC and NCHW values', async () => {
    const folded = await expectParity(
      'bn_dense',
      seq([
        tf.layers.dense({ inputShape: [5], units: 4 }),
        tf.layers.batchNormalization({}),
        tf.layers.activation({ activation: 'relu' }),
      ]),
    );
    expect(folded.opTypes).not.toContain('Mul');
    const conv = await expectParity(
      'bn_conv',
      seq([
        tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3 }),
        tf.layers.batchNormalization({}),
        tf.layers.flatten(),
      ]),
    );
    expect(conv.opTypes).not.toContain('Mul');
    // After a relu the BatchNorm cannot fold: it becomes Mul + Add on the NCHW value.
    const standalone = await expectParity(
      'bn_after_relu',
      seq([
        tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, activation: 'relu' }),
        tf.layers.batchNormalization({ epsilon: 0.01 }),
        tf.layers.flatten(),
      ]),
    );
    expect(standalone.opTypes).toEqual(expect.arrayContaining(['Mul', 'Add']));
    await expectParity('bn_input', seq([tf.layers.batchNormalization({ inputShape: [4], center: false })]));
    await expectParity('bn_rank3', seq([tf.layers.batchNormalization({ inputShape: [3, 4], scale: false })]));
  });

  it('activation layers: Activation, ReLU (max value), LeakyReLU, ELU, Softmax, ThresholdedReLU', async () => {
    await expectParity('act_layer', seq([tf.layers.activation({ inputShape: [5], activation: 'softplus' })]));
    await expectParity('relu_max', seq([tf.layers.reLU({ inputShape: [5], maxValue: 0.5 })]));
    await expectParity('leaky', seq([tf.layers.leakyReLU({ inputShape: [5], alpha: 0.2 })]));
    await expectParity('elu', seq([tf.layers.elu({ inputShape: [5] })]));
    await expectParity('thresholded', seq([tf.layers.thresholdedReLU({ inputShape: [5], theta: 0.3 })]));
    await expectParity('softmax_layer', seq([tf.layers.softmax({ inputShape: [3, 5], axis: -1 })]));
    // Softmax over the channels of an NCHW value picks ONNX axis 1.
    await expectParity(
      'softmax_conv',
      seq([
        tf.layers.conv2d({ inputShape: [5, 5, 2], filters: 4, kernelSize: 2, activation: 'softmax' }),
        tf.layers.flatten(),
      ]),
    );
  });

  it('embedding (float indices cast to int64)', async () => {
    const model = seq([
      tf.layers.embedding({ inputDim: 10, outputDim: 4, inputLength: 6 }),
      tf.layers.flatten(),
    ]);
    randomizeWeights(model, 7);
    // Indices 0..9 as floats, as tfjs receives them.
    const r = await parity(model, 3, 4, [0, 9.99]);
    const x = tf.tensor([[0, 1, 2, 3, 4, 5]]);
    expect((model.predict(x) as tf.Tensor).shape).toEqual([1, 24]);
    expect(r.maxDiff).toBeLessThan(TOLERANCE);
  });

  it('merges of functional models: add, multiply, average, maximum, minimum, concatenate', async () => {
    const input = tf.input({ shape: [6, 6, 2] });
    const a = tf.layers
      .conv2d({ filters: 3, kernelSize: 3, padding: 'same' })
      .apply(input) as tf.SymbolicTensor;
    const b = tf.layers.conv2d({ filters: 3, kernelSize: 1 }).apply(input) as tf.SymbolicTensor;
    const c = tf.layers
      .conv2d({ filters: 2, kernelSize: 3, padding: 'same' })
      .apply(input) as tf.SymbolicTensor;
    const d = tf.layers
      .conv2d({ filters: 3, kernelSize: 2, padding: 'same' })
      .apply(input) as tf.SymbolicTensor;
    const merges = [
      tf.layers.add({}).apply([a, b]),
      tf.layers.multiply({}).apply([a, b]),
      tf.layers.average({}).apply([a, b]),
      tf.layers.maximum({}).apply([a, b]),
      tf.layers.minimum({}).apply([a, b]),
      tf.layers.concatenate({ axis: -1 }).apply([a, b]),
      // Mixed layouts (an NCHW conv output and the NHWC input) and a non-channel axis.
      tf.layers.concatenate({ axis: 1 }).apply([c, input]),
      tf.layers.add({}).apply([a, b, d]),
    ] as tf.SymbolicTensor[];
    const outputs = merges.map((m) => tf.layers.flatten({}).apply(m) as tf.SymbolicTensor);
    const model = tf.model({
      inputs: input,
      outputs: tf.layers.concatenate({}).apply(outputs) as tf.SymbolicTensor,
    });
    await expectParity('merges', model);
  });

  it('functional models with several inputs and outputs, and a shared layer', async () => {
    const x1 = tf.input({ shape: [4], name: 'left' });
    const x2 = tf.input({ shape: [4], name: 'right' });
    const shared = tf.layers.dense({ units: 3, activation: 'relu', name: 'shared' });
    const h1 = shared.apply(x1) as tf.SymbolicTensor;
    const h2 = shared.apply(x2) as tf.SymbolicTensor;
    const out1 = tf.layers
      .dense({ units: 2, activation: 'softmax', name: 'probs' })
      .apply(tf.layers.concatenate({}).apply([h1, h2])) as tf.SymbolicTensor;
    const out2 = tf.layers.add({ name: 'sum' }).apply([h1, h2]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [x1, x2], outputs: [out1, out2] });
    const r = await expectParity('multi_io', model);
    expect(r.opTypes.filter((o) => o === 'Gemm')).toHaveLength(3);
  });

  it.skipIf(!hasOnnxChecker())("every exported file passes ONNX's own checker (Debian python3-onnx)", () => {
    expect(written.length).toBeGreaterThan(30);
    expect(onnxCheck(written)).toEqual([]);
  });
});
