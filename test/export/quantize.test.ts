import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertModel } from '../../src/export/onnx/convert.js';
import { serializeOnnx } from '../../src/export/onnx/export.js';
import { decodeModel } from '../../src/export/onnx/proto.js';
import { calibrate, quantile } from '../../src/export/onnx/quantize/calibrate.js';
import { quantizeDynamic } from '../../src/export/onnx/quantize/dynamic.js';
import {
  activationParams,
  quantizeBias,
  quantizeWeights,
  roundHalfEven,
} from '../../src/export/onnx/quantize/params.js';
import { quantizableTensors, quantizeStatic } from '../../src/export/onnx/quantize/static.js';
import { createSession, runSession } from '../../src/export/onnx/runtime.js';
import { randomValues, randomizeWeights, tempDir } from './helpers.js';

const root = tempDir();

describe('int8 parameters', () => {
  it('rounds half to even like QuantizeLinear', () => {
    expect([2.5, 3.5, -2.5, -3.5, 1.4, -1.6].map(roundHalfEven)).toEqual([2, 4, -2, -4, 1, -2]);
  });

  it('uint8 activation parameters hold 0 exactly and span the range', () => {
    expect(activationParams({ min: 0, max: 255 })).toEqual({ scale: 1, zeroPoint: 0 });
    const p = activationParams({ min: -1, max: 3 });
    expect(p.zeroPoint).toBe(64);
    expect(p.scale).toBeCloseTo(4 / 255, 7);
    // A range that does not contain 0 is widened to it; a flat one gets a harmless default.
    expect(activationParams({ min: 2, max: 4 }).zeroPoint).toBe(0);
    expect(activationParams({ min: 0, max: 0 })).toEqual({ scale: 1, zeroPoint: 0 });
  });

  it('int8 weights: one symmetric scale per output channel, 7-bit when asked', () => {
    // [K=2, N=3] matrix, channels along axis 1.
    const w = Float32Array.from([1, -0.5, 0.01, -2, 0.25, 0]);
    const { q, scales } = quantizeWeights(w, [2, 3], 1);
    expect(Array.from(scales)).toEqual([
      Math.fround(2 / 127),
      Math.fround(0.5 / 127),
      Math.fround(0.01 / 127),
    ]);
    expect(Array.from(q)).toEqual([64, -127, 127, -127, 64, 0]);
    const seven = quantizeWeights(w, [2, 3], 1, 7);
    expect(Math.max(...Array.from(seven.q).map(Math.abs))).toBe(63);
    // [O=2, I=1, 1, 2] conv kernel, channels along axis 0.
    const conv = quantizeWeights(Float32Array.from([0.5, -1, 4, 2]), [2, 1, 1, 2], 0);
    expect(Array.from(conv.q)).toEqual([64, -127, 127, 64]);
    const b = quantizeBias(Float32Array.from([0.1, -0.2, 0]), 0.02, scales);
    expect(Array.from(b.q)).toEqual([
      Math.round(0.1 / (0.02 * scales[0]!)),
      Math.round(-0.2 / (0.02 * scales[1]!)),
      0,
    ]);
  });
});

describe('calibration', () => {
  it('percentile ranges sit inside min-max ranges and ignore a rare outlier', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [4], units: 3, activation: 'relu' }),
        tf.layers.dense({ units: 2 }),
      ],
    });
    randomizeWeights(model, 3);
    const { graph } = convertModel(model);
    const x = randomValues(400 * 4, 5);
    x[7] = 60; // one outlier
    const batches = [0, 1, 2, 3].map((b) => ({
      input: { type: 'float32' as const, data: x.slice(b * 400, (b + 1) * 400), dims: [100, 4] },
    }));
    const tensors = quantizableTensors(graph);
    expect(tensors).toContain('input');
    const minmax = await calibrate(graph, tensors, batches, { method: 'minmax' });
    const pct = await calibrate(graph, tensors, batches, { method: 'percentile', percentile: 99 });
    expect(minmax.get('input')).toEqual({ min: Math.min(...x), max: 60 });
    expect(pct.get('input')!.max).toBeLessThan(1);
    for (const t of tensors) {
      expect(pct.get(t)!.min).toBeGreaterThanOrEqual(minmax.get(t)!.min);
      expect(pct.get(t)!.max).toBeLessThanOrEqual(minmax.get(t)!.max);
    }
    expect(quantile(Float32Array.from([0, 1, 2, 3, 4]), 0.5)).toBe(2);
    await expect(calibrate(graph, tensors, [])).rejects.toThrow(/no calibration samples/);
  });
});

/** The kernels onnxruntime chose after its graph optimizations. */
async function optimizedOps(bytes: Uint8Array, name: string): Promise<string[]> {
  const path = join(root, `${name}.optimized.onnx`);
  const session = await createSession(bytes, { optimizedModelPath: path });
  await session.release();
  return decodeModel(readFileSync(path)).graph.node.map((n) => n.op_type);
}

describe('quantized graphs run on onnxruntime int8 kernels', () => {
  const mlp = () => {
    const m = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [20], units: 16, activation: 'relu' }),
        tf.layers.dense({ units: 8, activation: 'relu' }),
        tf.layers.dense({ units: 4, activation: 'softmax' }),
      ],
    });
    randomizeWeights(m, 11);
    return m;
  };
  const feeds = (n: number, seed: number) => ({
    input: { type: 'float32' as const, data: randomValues(n * 20, seed), dims: [n, 20] },
  });

  it('dynamic: int8 weights, fused into DynamicQuantizeMatMul, outputs close to float', async () => {
    const { graph } = convertModel(mlp());
    const int8 = quantizeDynamic(graph);
    const ops = int8.nodes.map((n) => n.op_type);
    expect(ops).toEqual(
      expect.arrayContaining(['DynamicQuantizeLinear', 'MatMulInteger', 'Cast', 'Mul', 'Add']),
    );
    expect(
      [...int8.initializers.values()].filter((i) => i.dataType === 3 && i.dims.length === 2),
    ).toHaveLength(3);
    const fused = await optimizedOps(serializeOnnx(int8), 'dynamic');
    expect(fused.filter((o) => o === 'DynamicQuantizeMatMul')).toHaveLength(3);
    const a = (await runSession(await createSession(serializeOnnx(graph)), feeds(64, 1)))['output']!.data;
    const b = (await runSession(await createSession(serializeOnnx(int8)), feeds(64, 1)))['output']!.data;
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    expect(maxDiff).toBeGreaterThan(0);
    expect(maxDiff).toBeLessThan(0.05);
  });

  it('static QDQ: per-channel int8 weights, int32 biases, fused into QGemm', async () => {
    const { graph } = convertModel(mlp());
    const calibration = [feeds(128, 2), feeds(128, 3)];
    const ranges = await calibrate(graph, quantizableTensors(graph), calibration);
    const int8 = quantizeStatic(graph, ranges);
    const types = new Map([...int8.initializers.values()].map((i) => [i.name, i.dataType]));
    const dq = int8.nodes.filter((n) => n.op_type === 'DequantizeLinear');
    expect(
      dq.filter(
        (n) => types.get(n.input[0]!) === 3 && n.attribute.some((a) => a.name === 'axis' && a.i === 1),
      ),
    ).toHaveLength(3);
    expect(dq.filter((n) => types.get(n.input[0]!) === 6)).toHaveLength(3);
    // No float weight is left behind.
    expect(
      [...int8.initializers.values()].filter((i) => i.dataType === 1 && i.dims.length === 2),
    ).toHaveLength(0);
    const fused = await optimizedOps(serializeOnnx(int8), 'static');
    expect(fused.filter((o) => o === 'QGemm')).toHaveLength(3);
    expect(fused).not.toContain('Relu');
    const a = (await runSession(await createSession(serializeOnnx(graph)), feeds(64, 4)))['output']!.data;
    const b = (await runSession(await createSession(serializeOnnx(int8)), feeds(64, 4)))['output']!.data;
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    expect(maxDiff).toBeLessThan(0.05);
    expect(() => quantizeStatic(graph, new Map())).toThrow(/no range for tensor\(s\) input/);
  });

  it('static QDQ on a CNN: QLinearConv kernels, float model untouched', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [10, 10, 3], filters: 8, kernelSize: 3, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({ units: 3 }),
      ],
    });
    randomizeWeights(m, 21);
    const { graph } = convertModel(m);
    const before = serializeOnnx(graph);
    const batch = {
      input: { type: 'float32' as const, data: randomValues(32 * 300, 8, 0, 1), dims: [32, 10, 10, 3] },
    };
    const int8 = quantizeStatic(graph, await calibrate(graph, quantizableTensors(graph), [batch]));
    expect(serializeOnnx(graph)).toEqual(before);
    const fused = await optimizedOps(serializeOnnx(int8), 'cnn');
    expect(fused.filter((o) => o === 'QLinearConv')).toHaveLength(2);
  });
});
