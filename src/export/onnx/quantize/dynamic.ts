import { attr, type OnnxGraph } from '../graph.js';
import { DataType, type NodeMessage } from '../proto.js';
import { quantizeWeights } from './params.js';
import { storeWeightInt8 } from './weight-storage.js';

/**
 * Dynamic int8 quantization: weights are stored as int8 (per output channel), activations are quantized
 * to uint8 at run time from their actual range (DynamicQuantizeLinear), and the int32 products are scaled
 * back to float. For Gemm/MatMul the nodes follow the pattern onnxruntime fuses into its
 * DynamicQuantizeMatMul kernel: DynamicQuantizeLinear → MatMulInteger → Cast → Mul(a_scale * b_scale)
 * → Add(bias). Convolutions keep float compute with int8-stored weights; they can use ConvInteger the
 * same way (off by default: much slower on onnxruntime).
 */
export interface DynamicQuantizeOptions {
  /** 7-bit weights (no u8×s8 saturation on AVX2 CPUs without VNNI; default false). */
  reduceRange?: boolean;
  /**
   * Also quantize convolutions with ConvInteger (default false: onnxruntime's ConvInteger kernel is
   * several times slower than its float Conv — 0.08x on the small MNIST CNN — so convolutions compute in
   * float from int8-stored weights, see weight-storage.ts, and only matrix products run int8 kernels).
   */
  conv?: boolean;
}

export function quantizeDynamic(float: OnnxGraph, options: DynamicQuantizeOptions = {}): OnnxGraph {
  const g = float.clone();
  const bits = options.reduceRange ? 7 : 8;
  const quantizedInputs = new Map<string, [string, string, string]>();
  const quantizeInput = (x: string, before: NodeMessage): [string, string, string] => {
    const known = quantizedInputs.get(x);
    if (known) return known;
    const outs: [string, string, string] = [
      g.unique(`${x}_quantized`),
      g.unique(`${x}_scale`),
      g.unique(`${x}_zero_point`),
    ];
    insertBefore(g, before, {
      input: [x],
      output: outs,
      name: g.unique(`${x}/DynamicQuantizeLinear`),
      op_type: 'DynamicQuantizeLinear',
      attribute: [],
    });
    quantizedInputs.set(x, outs);
    return outs;
  };

  for (const n of [...g.nodes]) {
    const isGemm = n.op_type === 'Gemm' && plainGemm(n);
    const isMatMul = n.op_type === 'MatMul';
    const isConv = n.op_type === 'Conv' && options.conv === true;
    if (n.op_type === 'Conv' && !isConv) {
      storeWeightInt8(g, n, 1, 0, bits);
      continue;
    }
    if (!isGemm && !isMatMul && !isConv) continue;
    const w = g.initializers.get(n.input[1] as string);
    if (!w || !(w.data instanceof Float32Array)) continue;
    const axis = isConv ? 0 : 1;
    const channels = w.dims[axis] as number;
    const { q, scales } = quantizeWeights(w.data, w.dims, axis, bits);
    const wq = g.initializer(`${w.name}_quantized`, DataType.INT8, w.dims, q);
    // Symmetric weights: the zero point is 0 for every channel; ConvInteger takes only a per-tensor one.
    const zpDims = isConv ? [] : [channels];
    const wz = g.initializer(
      `${w.name}_zero_point`,
      DataType.INT8,
      zpDims,
      new Int8Array(isConv ? 1 : channels),
    );
    // Scales broadcast along the output channel: [C] for a matrix product, [C, 1, 1] for NCHW.
    const scaleDims = isConv ? [channels, 1, 1] : [channels];
    const ws = g.floats(`${w.name}_scale`, scaleDims, scales);
    const [xq, xs, xz] = quantizeInput(n.input[0] as string, n);
    const base = n.output[0] as string;
    const intOp = isConv ? 'ConvInteger' : 'MatMulInteger';
    const acc = g.unique(`${base}_int32`);
    const nodes: NodeMessage[] = [
      {
        input: [xq, wq, xz, wz],
        output: [acc],
        name: g.unique(`${base}/${intOp}`),
        op_type: intOp,
        attribute: isConv ? n.attribute : [],
      },
    ];
    const accF = g.unique(`${base}_acc`);
    nodes.push({
      input: [acc],
      output: [accF],
      name: g.unique(`${base}/Cast`),
      op_type: 'Cast',
      attribute: [attr.int('to', DataType.FLOAT)],
    });
    const scale = g.unique(`${base}_output_scale`);
    nodes.push({
      input: [xs, ws],
      output: [scale],
      name: g.unique(`${base}/ScaleMul`),
      op_type: 'Mul',
      attribute: [],
    });
    const bias = n.input[2] ? g.initializers.get(n.input[2]) : undefined;
    const scaled = bias ? g.unique(`${base}_scaled`) : base;
    nodes.push({
      input: [accF, scale],
      output: [scaled],
      name: g.unique(`${base}/Mul`),
      op_type: 'Mul',
      attribute: [],
    });
    if (bias) {
      const b = isConv
        ? g.floats(`${bias.name}_nchw`, [channels, 1, 1], bias.data as Float32Array)
        : bias.name;
      nodes.push({
        input: [scaled, b],
        output: [base],
        name: g.unique(`${base}/Add`),
        op_type: 'Add',
        attribute: [],
      });
    }
    g.nodes.splice(g.nodes.indexOf(n), 1, ...nodes);
  }
  g.pruneInitializers();
  return g;
}

/** Gemm as the exporter writes it (no transposes, alpha = beta = 1) is a MatMul plus bias. */
function plainGemm(n: NodeMessage): boolean {
  return n.attribute.every((a) =>
    a.name === 'alpha' || a.name === 'beta'
      ? a.f === 1
      : a.name === 'transA' || a.name === 'transB'
        ? a.i === 0
        : false,
  );
}

function insertBefore(g: OnnxGraph, before: NodeMessage, node: NodeMessage): void {
  g.nodes.splice(g.nodes.indexOf(before), 0, node);
}
