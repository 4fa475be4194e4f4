import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertModel } from '../../../../src/export/onnx/convert.js';
import { buildOnnx, serializeOnnx } from '../../../../src/export/onnx/export.js';
import type { OnnxGraph } from '../../../../src/export/onnx/graph.js';
import { decodeModel } from '../../../../src/export/onnx/proto.js';
import { calibrate } from '../../../../src/export/onnx/quantize/calibrate.js';
import { lowerToIntegerOps } from '../../../../src/export/onnx/quantize/integer-ops.js';
import {
  blockKernel,
  cropFirstConvs,
  lowerSpaceToDepth,
  spaceToDepthConvs,
} from '../../../../src/export/onnx/quantize/space-to-depth.js';
import { quantizableTensors, quantizeStatic } from '../../../../src/export/onnx/quantize/static.js';
import { createSession, runSession } from '../../../../src/export/onnx/runtime.js';
import { hasOnnxChecker, onnxCheck, randomValues, randomizeWeights, tempDir } from '../../helpers.js';

const root = tempDir();

interface GrayOptions {
  size?: [number, number];
  kernel?: number;
  filters?: number;
  activation?: string;
  padding?: 'valid' | 'same';
  strides?: number;
  pool?: number;
  /** A second valid conv + 2x2 pooling after the first pooling (its floor makes the crop possible). */
  second?: boolean;
  flatInput?: boolean;
}

/** A grayscale image model whose first conv reads one channel. */
function grayCnn(o: GrayOptions = {}): tf.LayersModel {
  const [h, w] = o.size ?? [16, 16];
  const layers: tf.layers.Layer[] = [];
  if (o.flatInput) layers.push(tf.layers.reshape({ inputShape: [h * w], targetShape: [h, w, 1] }));
  layers.push(
    tf.layers.conv2d({
      ...(o.flatInput ? {} : { inputShape: [h, w, 1] }),
      filters: o.filters ?? 4,
      kernelSize: o.kernel ?? 3,
      activation: (o.activation ?? 'relu') as 'relu',
      padding: o.padding ?? 'valid',
      strides: o.strides ?? 1,
    }),
    tf.layers.maxPooling2d({ poolSize: o.pool ?? 2 }),
  );
  if (o.second) {
    layers.push(tf.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu' }));
    layers.push(tf.layers.maxPooling2d({ poolSize: 2 }));
  }
  layers.push(tf.layers.flatten(), tf.layers.dense({ units: 5, activation: 'softmax' }));
  const m = tf.sequential({ layers });
  randomizeWeights(m, 41);
  return m;
}

function inputOf(m: tf.LayersModel): number[] {
  return m.inputs[0]!.shape.slice(1) as number[];
}

function batch(m: tf.LayersModel, n: number, seed: number) {
  const shape = [n, ...inputOf(m)];
  const size = shape.reduce((a, b) => a * b, 1);
  return { input: { type: 'float32' as const, data: randomValues(size, seed, 0, 1), dims: shape } };
}

async function run(g: OnnxGraph | Uint8Array, feeds: ReturnType<typeof batch>): Promise<Float32Array> {
  const bytes = g instanceof Uint8Array ? g : serializeOnnx(g);
  const session = await createSession(bytes);
  const out = (await runSession(session, feeds))['output']!.data;
  await session.release();
  return out;
}

const maxDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

/** Share of rows (of `width` classes) whose arg max agrees. */
function top1Agreement(a: Float32Array, b: Float32Array, width: number): number {
  let agree = 0;
  const rows = a.length / width;
  const argmax = (v: Float32Array, r: number) => {
    let best = 0;
    for (let i = 1; i < width; i++) if (v[r * width + i]! > v[r * width + best]!) best = i;
    return best;
  };
  for (let r = 0; r < rows; r++) if (argmax(a, r) === argmax(b, r)) agree++;
  return agree / rows;
}

async function optimizedOps(bytes: Uint8Array, name: string): Promise<string[]> {
  const path = join(root, `${name}.optimized.onnx`);
  const session = await createSession(bytes, { optimizedModelPath: path });
  await session.release();
  return decodeModel(readFileSync(path)).graph.node.map((n) => n.op_type);
}

describe('space-to-depth rewrite of a one-channel first conv (float graph)', () => {
  it('the block kernel puts each filter tap where the 2x2 block and the (dy, dx) offset say', () => {
    // One 3x3 filter with taps 1..9: block kernel [4 filters, 4 block pixels, 2, 2].
    const k = Float32Array.from({ length: 9 }, (_, i) => i + 1);
    const kb = blockKernel(k, 1, 3, 3, 2, 2);
    const at = (s: number, p: number, a: number, b: number) => kb[((s * 4 + p) * 2 + a) * 2 + b];
    // Offset (0, 0): block pixel (py, px) of block tap (a, b) is K[2a+py][2b+px].
    expect([at(0, 0, 0, 0), at(0, 1, 0, 0), at(0, 2, 0, 0), at(0, 0, 1, 1)]).toEqual([1, 2, 4, 9]);
    expect([at(0, 3, 0, 1), at(0, 3, 1, 1)]).toEqual([0, 0]); // K[1][3], K[3][3]: outside the kernel
    // Offset (1, 1): K[2a+py-1][2b+px-1].
    expect([at(3, 3, 0, 0), at(3, 0, 1, 1), at(3, 0, 0, 0)]).toEqual([1, 5, 0]);
  });

  it('computes what the float model computes, cropping what the layers after it never read', async () => {
    const cases: GrayOptions[] = [
      { size: [28, 28], filters: 8, second: true, flatInput: true }, // the MNIST CNN's shape, cropped to 26x26
      { size: [16, 16] }, // nothing to crop
      { size: [15, 13], kernel: 5, activation: 'relu6' }, // odd sizes, 5x5, Clip
      { size: [12, 14], kernel: 1 }, // a 1x1 kernel: block kernel 1x1
    ];
    for (const [i, o] of cases.entries()) {
      const m = grayCnn(o);
      const { graph } = convertModel(m);
      const r = spaceToDepthConvs(graph);
      expect(r, `case ${i}`).toBeDefined();
      const ops = r!.graph.nodes.map((n) => n.op_type);
      expect(ops).toContain('SpaceToDepth');
      expect(ops.filter((op) => op === 'Conv')).toHaveLength(o.second ? 2 : 1);
      if (i === 0) {
        expect(ops).toContain('Slice');
        expect(r!.rewrites[0]!.pooled).toEqual([12, 12]);
        // [N, 784] → [N, 1, 28, 28] directly: no Transpose of a one-channel image.
        expect(ops.indexOf('Transpose')).toBeGreaterThan(ops.indexOf('SpaceToDepth'));
      }
      if (i === 1) expect(ops).not.toContain('Slice');
      const feeds = batch(m, 8, 10 + i);
      expect(maxDiff(await run(r!.graph, feeds), await run(graph, feeds)), `case ${i}`).toBeLessThan(1e-5);
    }
  });

  it('leaves every other first conv as it is (the float-conv path stays the fallback)', () => {
    const others: GrayOptions[] = [
      { padding: 'same' },
      { strides: 2 },
      { pool: 3 },
      { activation: 'tanh' },
      { kernel: 2, size: [15, 15] }, // an even kernel that would need a row past the image
    ];
    for (const [i, o] of others.entries()) {
      expect(spaceToDepthConvs(convertModel(grayCnn(o)).graph), `case ${i}`).toBeUndefined();
    }
    const rgb = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 2, kernelSize: 3, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
      ],
    });
    expect(spaceToDepthConvs(convertModel(rgb).graph)).toBeUndefined();
  });
});

describe('cropping what the layers after a first conv never read', () => {
  it('the float path crops the image alone, with the same outputs; nothing to crop leaves no copy', async () => {
    const m = grayCnn({ size: [28, 28], filters: 8, second: true, flatInput: true });
    const { graph } = convertModel(m);
    const cropped = cropFirstConvs(graph)!;
    const ops = cropped.nodes.map((n) => n.op_type);
    expect(ops.filter((o) => o === 'Slice')).toHaveLength(1);
    expect(ops).not.toContain('SpaceToDepth');
    const feeds = batch(m, 8, 21);
    expect(maxDiff(await run(cropped, feeds), await run(graph, feeds))).toBeLessThan(1e-6);
    // 16x16, 3x3 then one 2x2 pooling: every row is read.
    expect(cropFirstConvs(convertModel(grayCnn()).graph)).toBeUndefined();
  });
});

describe('space-to-depth in static int8', () => {
  it('the int8 rewrite matches the int8 model without it and the float model within quantization error', async () => {
    const m = grayCnn({ size: [28, 28], filters: 8, second: true, flatInput: true });
    const calibration = [batch(m, 64, 1)];
    const rewritten = await buildOnnx(m, {
      int8: 'static',
      calibration,
      spaceToDepth: true,
      integerOps: true,
    });
    const plain = await buildOnnx(m, { int8: 'static', calibration });
    // The default keeps the first conv in float (its input cropped); the rewrite computes it in int8.
    expect(plain.quantization?.floatLayers).toEqual([m.layers[1]!.name]);
    expect(plain.int8!.nodes.map((n) => n.op_type)).toContain('Slice');
    expect(rewritten.quantization?.floatLayers).toBeUndefined();
    const feeds = batch(m, 256, 2);
    const float = await run(rewritten.float, feeds);
    const a = await run(rewritten.int8!, feeds);
    const b = await run(plain.int8!, feeds);
    // Random weights in [-1, 1] make large activations: class probabilities within 0.15 of the float
    // model's (the float-first-conv model: 0.07 on this batch; on MNIST both stay within 0.1, see
    // mnist-int8.test.ts), and the same class nearly always.
    expect(maxDiff(a, float)).toBeLessThan(0.15);
    expect(maxDiff(a, b)).toBeLessThan(0.15);
    expect(top1Agreement(a, float, 5)).toBeGreaterThanOrEqual(0.98);
    expect(top1Agreement(a, b, 5)).toBeGreaterThanOrEqual(0.98);
    // onnxruntime runs both convs on its int8 kernels, with no float conv or pooling left.
    const bytes = serializeOnnx(rewritten.int8!);
    const fused = await optimizedOps(bytes, 's2d-static');
    expect(fused.filter((o) => o === 'QLinearConv')).toHaveLength(2);
    expect(fused).not.toContain('Conv');
    expect(fused).not.toContain('MaxPool'); // NhwcMaxPool: uint8, channels-last
    expect(fused).not.toContain('Pad'); // the block kernel was folded at load time
    if (hasOnnxChecker()) {
      const file = join(root, 's2d-static.onnx');
      writeFileSync(file, bytes);
      expect(onnxCheck([file])).toEqual([]);
    }
  });

  it('the block kernel built in the graph from the F filters is the quantized block kernel, bit for bit', async () => {
    const m = grayCnn({ size: [20, 20], second: true });
    const { graph } = convertModel(m);
    const r = spaceToDepthConvs(graph)!;
    const ranges = await calibrate(r.graph, quantizableTensors(r.graph), [batch(m, 64, 3)]);
    const qdq = quantizeStatic(r.graph, ranges);
    const lowered = qdq.clone();
    expect(lowerSpaceToDepth(lowered, r.rewrites[0]!, 8)).toBe(true);
    const ops = lowered.nodes.map((n) => n.op_type);
    expect(ops).toEqual(expect.arrayContaining(['Pad', 'Gather', 'Tile', 'QLinearConv']));
    // The stored kernel is the F original filters, not the 4F block filters.
    const kernels = [...lowered.initializers.values()].filter((i) => i.dataType === 3);
    expect(kernels.map((k) => k.dims)).toContainEqual([4, 3, 3]);
    expect(kernels.some((k) => k.dims[0] === 16)).toBe(false);
    const feeds = batch(m, 32, 4);
    // onnxruntime fuses the QDQ form into the same QLinearConv: the same outputs.
    expect(maxDiff(await run(lowered, feeds), await run(qdq, feeds))).toBeLessThan(1e-6);
    expect(serializeOnnx(lowered).byteLength).toBeLessThan(serializeOnnx(qdq).byteLength);
  });

  it('integer ops: the QDQ groups written as what onnxruntime fuses them into, same outputs, fewer bytes', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [10, 10, 3], filters: 8, kernelSize: 3, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    randomizeWeights(m, 43);
    const { graph } = convertModel(m);
    const feeds = {
      input: { type: 'float32' as const, data: randomValues(32 * 300, 9, 0, 1), dims: [32, 10, 10, 3] },
    };
    const qdq = quantizeStatic(graph, await calibrate(graph, quantizableTensors(graph), [feeds]));
    const lowered = qdq.clone();
    lowerToIntegerOps(lowered);
    const ops = lowered.nodes.map((n) => n.op_type);
    // The relu conv and the linear conv (no Relu to fold) both become QLinearConv; the pooling moves uint8.
    expect(ops.filter((o) => o === 'QLinearConv')).toHaveLength(2);
    expect(ops).not.toContain('Conv');
    expect(ops.indexOf('MaxPool')).toBeLessThan(ops.indexOf('DequantizeLinear'));
    // The dense bias scale is computed from the scales already stored.
    expect(ops).toContain('Mul');
    expect(maxDiff(await run(lowered, feeds), await run(qdq, feeds))).toBeLessThan(1e-6);
    expect(serializeOnnx(lowered).byteLength).toBeLessThan(serializeOnnx(qdq).byteLength);
    const fused = await optimizedOps(serializeOnnx(lowered), 'integer-ops');
    expect(fused.filter((o) => o === 'QLinearConv')).toHaveLength(2);
    expect(fused).toContain('QGemm');
  });
});
