import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compactNames } from '../../src/export/onnx/compact.js';
import { convertModel } from '../../src/export/onnx/convert.js';
import { serializeOnnx } from '../../src/export/onnx/export.js';
import { OnnxGraph } from '../../src/export/onnx/graph.js';
import { DataType, decodeModel, encodeModel } from '../../src/export/onnx/proto.js';
import { createSession, runSession } from '../../src/export/onnx/runtime.js';
import { hasOnnxChecker, onnxCheck, randomValues, randomizeWeights, tempDir } from './helpers.js';

const dir = tempDir();

function cnn(): tf.LayersModel {
  const m = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 2], filters: 4, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  randomizeWeights(m, 5);
  return m;
}

async function outputs(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const session = await createSession(bytes);
  try {
    return (await runSession(session, { input: { type: 'float32', data: x, dims } }))['output']!.data;
  } finally {
    await session.release();
  }
}

describe('compact ONNX files', () => {
  it('short internal names, graph inputs/outputs kept, defaults and the output Identity left out: same outputs', async () => {
    const { graph } = convertModel(cnn());
    const full = serializeOnnx(graph, { compact: false, labels: ['a', 'b', 'c'] });
    const short = serializeOnnx(graph);
    expect(short.byteLength).toBeLessThan(full.byteLength);
    const m = decodeModel(short);
    expect(m.graph.input.map((i) => i.name)).toEqual(['input']);
    expect(m.graph.output.map((o) => o.name)).toEqual(['output']);
    expect(m.metadata_props ?? []).toEqual([]);
    expect(m.doc_string).toBeUndefined();
    const names = [...m.graph.initializer.map((t) => t.name), ...m.graph.node.flatMap((n) => n.output)];
    for (const n of names) expect(n, n).toMatch(/^([a-z]{1,3}|output)$/);
    expect(m.graph.node.every((n) => n.name === undefined)).toBe(true);
    expect(m.graph.node.map((n) => n.op_type)).not.toContain('Identity');
    const conv = m.graph.node.find((n) => n.op_type === 'Conv')!;
    // kernel_shape stays; strides/dilations 1, pads 0 and group 1 are ONNX's defaults.
    expect(conv.attribute.map((a) => a.name)).toEqual(['kernel_shape']);
    const gemm = m.graph.node.find((n) => n.op_type === 'Gemm')!;
    expect(gemm.attribute).toEqual([]);
    // The descriptive file keeps the converter's names and the labels.
    const f = decodeModel(full);
    expect(f.metadata_props).toEqual([{ key: 'labels', value: '["a","b","c"]' }]);
    expect(f.graph.node.some((n) => (n.name ?? '').includes('conv2d'))).toBe(true);

    const x = randomValues(5 * 128, 3);
    const a = await outputs(full, x, [5, 8, 8, 2]);
    const b = await outputs(short, x, [5, 8, 8, 2]);
    expect(Array.from(b)).toEqual(Array.from(a));
    if (hasOnnxChecker()) {
      const files = [join(dir, 'full.onnx'), join(dir, 'short.onnx')];
      writeFileSync(files[0]!, full);
      writeFileSync(files[1]!, short);
      expect(onnxCheck(files)).toEqual([]);
    }
  });

  it('writes identical constants once and never gives an id that a graph input already has', async () => {
    const g = new OnnxGraph('dup');
    g.addInput({ name: 'a', elemType: DataType.FLOAT, shape: ['batch', 2] });
    const s1 = g.floats('scale_one', [2], [2, 3]);
    const s2 = g.floats('scale_two', [2], [2, 3]);
    const other = g.floats('other', [2], [2, 4]);
    const y1 = g.op('Mul', ['a', s1], 'y1');
    const y2 = g.op('Mul', [y1, s2], 'y2');
    g.node('Add', [y2, other], ['b']);
    g.addOutput({ name: 'b', elemType: DataType.FLOAT, shape: ['batch', 2] });
    const m = compactNames(g.toModel({ producerVersion: 't' }));
    expect(m.graph.initializer).toHaveLength(2);
    const ids = [...m.graph.initializer.map((t) => t.name), ...m.graph.node.flatMap((n) => n.output)];
    expect(ids).not.toContain('a');
    expect(new Set(ids).size).toBe(ids.length);
    const session = await createSession(encodeModel(m));
    const out = (
      await runSession(session, {
        a: { type: 'float32', data: Float32Array.from([1, 1, 2, 2]), dims: [2, 2] },
      })
    )['b']!.data;
    await session.release();
    expect(Array.from(out)).toEqual([6, 13, 10, 22]);
  });
});
