import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertModel } from '../../src/export/onnx/convert.js';
import { serializeOnnx } from '../../src/export/onnx/export.js';
import { DataType, decodeModel } from '../../src/export/onnx/proto.js';
import { calibrate, quantile } from '../../src/export/onnx/quantize/calibrate.js';
import { quantizeDynamic } from '../../src/export/onnx/quantize/dynamic.js';
import {
  activationParams,
  quantizeBias,
  quantizeWeights,
  roundHalfEven,
} from '../../src/export/onnx/quantize/params.js';
import { poolBeforeActivation, slowInt8Ops } from '../../src/export/onnx/quantize/float-ops.js';
import {
  propagateRanges,
  quantizableTensors,
  quantizeStatic,
} from '../../src/export/onnx/quantize/static.js';
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

describe('int8 where onnxruntime is faster in float', () => {
  /** A grayscale image model: its first conv reads one channel. */
  const grayCnn = () => {
    const m = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    randomizeWeights(m, 31);
    return m;
  };
  const batch = (n: number, seed: number) => ({
    input: { type: 'float32' as const, data: randomValues(n * 144, seed, 0, 1), dims: [n, 12, 12, 1] },
  });
  const run = async (g: Parameters<typeof serializeOnnx>[0], seed: number) =>
    (await runSession(await createSession(serializeOnnx(g)), batch(32, seed)))['output']!.data;
  // A conv kernel, not its [C, 1, 1, 1] per-channel scales.
  const isKernel = (dims: number[]) => dims.length === 4 && dims.slice(1).some((d) => d > 1);
  const maxDiff = (a: Float32Array, b: Float32Array) =>
    a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

  it('picks convolutions over one input channel only', () => {
    const gray = convertModel(grayCnn()).graph;
    const first = gray.nodes.find((n) => n.op_type === 'Conv')!;
    expect(slowInt8Ops(gray)).toEqual([first.name]);
    const rgb = tf.sequential({
      layers: [tf.layers.conv2d({ inputShape: [6, 6, 3], filters: 2, kernelSize: 3 })],
    });
    expect(slowInt8Ops(convertModel(rgb).graph)).toEqual([]);
  });

  it('moving Relu after MaxPool is exact', async () => {
    const { graph } = convertModel(grayCnn());
    const moved = graph.clone();
    const conv = slowInt8Ops(moved)[0]!;
    expect(poolBeforeActivation(moved, conv)).toBe(true);
    const ops = moved.nodes.map((n) => n.op_type);
    expect(ops.indexOf('MaxPool')).toBeLessThan(ops.indexOf('Relu'));
    expect(Array.from(await run(moved, 7))).toEqual(Array.from(await run(graph, 7)));
    // Nothing to move after the second conv (no MaxPool follows it).
    const second = moved.nodes.filter((n) => n.op_type === 'Conv')[1]!;
    expect(poolBeforeActivation(moved, second.name)).toBe(false);
  });

  it('static: the one-channel conv computes in float from int8 weights, the rest on int8 kernels', async () => {
    const { graph } = convertModel(grayCnn());
    const floatNodes = slowInt8Ops(graph);
    const tensors = quantizableTensors(graph, floatNodes);
    expect(tensors).not.toContain('input');
    const ranges = await calibrate(graph, tensors, [batch(64, 1)]);
    propagateRanges(graph, ranges);
    const int8 = quantizeStatic(graph, ranges, { floatNodes });
    // No float kernel is stored: the float conv's weight is int8 behind Cast → Mul.
    const inits = [...int8.initializers.values()];
    expect(inits.filter((i) => i.dataType === DataType.FLOAT && isKernel(i.dims))).toHaveLength(0);
    expect(inits.filter((i) => i.dataType === DataType.INT8 && i.dims.length === 4)).toHaveLength(2);
    const fused = await optimizedOps(serializeOnnx(int8), 'gray-static');
    expect(fused.filter((o) => o === 'QLinearConv')).toHaveLength(1);
    expect(fused.filter((o) => o === 'Conv')).toHaveLength(1);
    expect(fused).toContain('QGemm');
    expect(fused).not.toContain('Cast');
    // The quantized region starts after the float MaxPool (onnxruntime would otherwise pool on uint8 in NCHW).
    expect(fused.indexOf('MaxPool')).toBeLessThan(fused.indexOf('QuantizeLinear'));
    // Int8 bound: 256 levels over each activation range, softmax outputs within 0.05 of float.
    expect(maxDiff(await run(int8, 3), await run(graph, 3))).toBeLessThan(0.05);
    // Asked to quantize everything, both convs become QLinearConv.
    const all = quantizeStatic(graph, await calibrate(graph, quantizableTensors(graph), [batch(64, 1)]));
    const allOps = await optimizedOps(serializeOnnx(all), 'gray-static-all');
    expect(allOps.filter((o) => o === 'QLinearConv')).toHaveLength(2);
  });

  it('dynamic: convolutions compute in float from int8 weights that onnxruntime folds at load time', async () => {
    const { graph } = convertModel(grayCnn());
    const int8 = quantizeDynamic(graph);
    const inits = [...int8.initializers.values()];
    expect(inits.filter((i) => i.dataType === DataType.FLOAT && isKernel(i.dims))).toHaveLength(0);
    expect(inits.filter((i) => i.dataType === DataType.INT8 && i.dims.length === 4)).toHaveLength(2);
    const fused = await optimizedOps(serializeOnnx(int8), 'gray-dynamic');
    const floatOps = await optimizedOps(serializeOnnx(graph), 'gray-float');
    // The same convolution kernels as the float model: Cast → Mul folded into a float constant.
    expect(fused.filter((o) => o === 'Conv')).toEqual(floatOps.filter((o) => o === 'Conv'));
    expect(fused).not.toContain('Cast');
    expect(fused).toContain('DynamicQuantizeMatMul');
    expect(maxDiff(await run(int8, 4), await run(graph, 4))).toBeLessThan(0.05);
  });
});
