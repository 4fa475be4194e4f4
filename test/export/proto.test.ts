import { describe, expect, it } from 'vitest';
import { attr, IR_VERSION, OnnxGraph, OPSET } from '../../src/export/onnx/graph.js';
import { DataType, decodeModel, encodeModel } from '../../src/export/onnx/proto.js';
import { createSession, runSession } from '../../src/export/onnx/runtime.js';

function tinyGraph(): OnnxGraph {
  const g = new OnnxGraph('tiny');
  g.addInput({ name: 'x', elemType: DataType.FLOAT, shape: ['batch', 3] });
  const w = g.floats('w', [3, 2], [1, 2, 3, 4, 5, 6]);
  const y = g.op('MatMul', ['x', w], 'y');
  g.node('Softmax', [y], ['out'], [attr.int('axis', 0)]);
  g.addOutput({ name: 'out', elemType: DataType.FLOAT, shape: ['batch', 2] });
  return g;
}

describe('ONNX protobuf encoding (onnx.proto messages via protobufjs)', () => {
  it('round-trips a model and writes an explicitly set zero (proto2 presence)', () => {
    const bytes = encodeModel(tinyGraph().toModel({ producerVersion: '1' }));
    const m = decodeModel(bytes);
    expect(m.ir_version).toBe(IR_VERSION);
    expect(m.opset_import).toEqual([{ domain: '', version: OPSET }]);
    expect(m.graph.node.map((n) => n.op_type)).toEqual(['MatMul', 'Softmax']);
    // axis = 0 must be on the wire: onnx's checker counts attributes without a value as malformed.
    expect(m.graph.node[1]?.attribute[0]).toMatchObject({ name: 'axis', type: 2, i: 0 });
    expect(m.graph.input[0]?.type.tensor_type.shape?.dim).toEqual([{ dim_param: 'batch' }, { dim_value: 3 }]);
    const w = m.graph.initializer[0]!;
    expect(Array.from(new Float32Array(Uint8Array.from(w.raw_data!).buffer))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('runs in onnxruntime with a dynamic batch dimension', async () => {
    const session = await createSession(encodeModel(tinyGraph().toModel({ producerVersion: '1' })));
    for (const n of [1, 4]) {
      const out = await runSession(session, {
        x: { type: 'float32', data: new Float32Array(n * 3).fill(1), dims: [n, 3] },
      });
      expect(out['out']?.dims).toEqual([n, 2]);
    }
  });

  it('refuses a malformed message before writing it, and names clash', () => {
    const model = tinyGraph().toModel({ producerVersion: '1' });
    (model.graph.node[0] as unknown as { op_type: number }).op_type = 5;
    expect(() => encodeModel(model)).toThrow(/invalid ONNX ModelProto: .*op_type: string expected/);
    const g = tinyGraph();
    expect(g.unique('w')).toBe('w_1');
    expect(() => g.claim('out')).not.toThrow();
    expect(() => g.claim('out')).toThrow(/the name "out" is used twice/);
  });
});
