import { ModelautoError } from '../../../core/errors.js';
import { attr, type OnnxGraph } from '../graph.js';
import { DataType, type NodeMessage } from '../proto.js';
import {
  activationParams,
  quantizeBias,
  quantizeWeights,
  type ActivationParams,
  type Range,
} from './params.js';
import { poolBeforeActivation } from './float-ops.js';
import { storeWeightInt8 } from './weight-storage.js';

/**
 * Static int8 quantization in QDQ form. Activations get a QuantizeLinear → DequantizeLinear pair with
 * calibrated (or learned) uint8 parameters; the weights of Conv/Gemm/MatMul become int8 initializers with
 * one scale per output channel behind a DequantizeLinear, biases int32. The graph stays a float graph
 * that any ONNX runtime can run; onnxruntime fuses each DQ → op → Q group into its int8 kernels
 * (QLinearConv, QGemm, QLinearMatMul, ...). Ops named in `floatNodes` (those onnxruntime runs faster in
 * float, see float-ops.ts) and ops whose input has no range keep float compute, their weights stored int8.
 * With `integerOps` the export then writes the groups onnxruntime fuses as those integer ops (integer-ops.ts).
 */

/** Ops that compute on quantized values: their float inputs and outputs get QDQ pairs. */
const ANCHORS = new Set(['Conv', 'Gemm', 'MatMul', 'Add', 'AveragePool', 'GlobalAveragePool', 'Concat']);
/**
 * Ops that only move or select values: their output is quantized when their input is (onnxruntime then
 * runs them on uint8, e.g. its NHWC MaxPool).
 */
const MOVES = new Set([
  'Transpose',
  'Reshape',
  'Flatten',
  'Identity',
  'MaxPool',
  // The image cropping and block reordering of space-to-depth.ts.
  'SpaceToDepth',
  'Slice',
]);
/** Moves whose output holds only some of the input's values: ranges carry forward only. */
const SUBSETS = new Set(['MaxPool', 'Slice']);
/** Ops whose float input is left unquantized (see quantizableTensors). */
const FLOAT_READERS = new Set(['Softmax', 'LogSoftmax']);
/** Activations folded into the quantization of the tensor after them (uint8 with zero point 0 is a Relu). */
const ACTIVATIONS = new Set(['Relu', 'Clip']);

export interface StaticQuantizeOptions {
  /** 7-bit weights: no saturation in AVX2's u8×s8 instruction on CPUs without VNNI (default false). */
  reduceRange?: boolean;
  /**
   * Tensors without a range: 'error' (default), or 'float' to leave them unquantized, as a model trained
   * with quantization-aware training learned no range for them (e.g. the logits before a softmax).
   */
  missingRanges?: 'error' | 'float';
  /**
   * Names of weighted nodes (Conv/Gemm/MatMul) that compute in float (see float-ops.ts): their input is not
   * quantized and their weight is stored as int8 that onnxruntime turns back into float at load time.
   */
  floatNodes?: string[];
}

/**
 * The activation tensors to quantize: float inputs and outputs of the anchor ops other than `floatNodes`
 * (a value a Relu/Clip alone consumes is replaced by the activation's output), carried forward through
 * data-movement ops. Graph outputs and non-float values are never quantized.
 */
export function quantizableTensors(graph: OnnxGraph, floatNodes: string[] = []): string[] {
  const keep = new Set(floatNodes);
  const consumers = graph.consumers();
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const nonFloat = nonFloatTensors(graph);
  const chosen = new Set<string>();
  const add = (t: string): boolean => {
    if (t === '' || chosen.has(t) || graph.initializers.has(t) || outputs.has(t) || nonFloat.has(t))
      return false;
    const readers = consumers.get(t) ?? [];
    if (readers.length === 0) return false;
    const only = readers.length === 1 ? (readers[0] as NodeMessage) : undefined;
    if (only && ACTIVATIONS.has(only.op_type)) return add(only.output[0] as string);
    // Logits stay float: 256 levels before a softmax only lose precision, onnxruntime's QGemm writes
    // float directly, and the file saves a Q/DQ pair.
    if (readers.every((r) => FLOAT_READERS.has(r.op_type))) return false;
    chosen.add(t);
    return true;
  };
  for (const n of graph.nodes) {
    if (!ANCHORS.has(n.op_type) || keep.has(n.name)) continue;
    const weighted = n.op_type === 'Conv' || n.op_type === 'Gemm' || n.op_type === 'MatMul';
    (weighted ? n.input.slice(0, 1) : n.input).forEach(add);
    n.output.forEach(add);
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const n of graph.nodes) {
      if (!MOVES.has(n.op_type)) continue;
      const i = n.input[0] as string;
      const o = n.output[0] as string;
      if (chosen.has(i)) changed = add(o) || changed;
    }
  }
  return [...chosen];
}

/** Values that are not float (shape tensors, indices, strings) and must never be quantized. */
function nonFloatTensors(graph: OnnxGraph): Set<string> {
  const out = new Set<string>();
  for (const i of graph.inputs) if (i.elemType !== DataType.FLOAT) out.add(i.name);
  for (const n of graph.nodes) {
    if (n.op_type === 'Cast' || n.op_type === 'Shape' || n.domain === 'ai.onnx.ml')
      n.output.forEach((o) => out.add(o));
  }
  return out;
}

/**
 * Fills in ranges of tensors that a data-movement op connects to a tensor with a known range (learned
 * ranges are per layer; the Transposes around convs have none of their own).
 */
export function propagateRanges(graph: OnnxGraph, ranges: Map<string, Range>): void {
  for (let changed = true; changed;) {
    changed = false;
    for (const n of graph.nodes) {
      if (!MOVES.has(n.op_type) && !ACTIVATIONS.has(n.op_type)) continue;
      const i = n.input[0] as string;
      const o = n.output[0] as string;
      const ri = ranges.get(i);
      if (ri && !ranges.has(o)) {
        ranges.set(
          o,
          ACTIVATIONS.has(n.op_type) ? { min: Math.max(ri.min, 0), max: Math.max(ri.max, 0) } : ri,
        );
        changed = true;
      } else if (!ri && ranges.has(o) && MOVES.has(n.op_type) && !SUBSETS.has(n.op_type)) {
        ranges.set(i, ranges.get(o) as Range);
        changed = true;
      }
    }
  }
}

export function quantizeStatic(
  float: OnnxGraph,
  ranges: Map<string, Range>,
  options: StaticQuantizeOptions = {},
): OnnxGraph {
  const g = float.clone();
  const keep = new Set(options.floatNodes ?? []);
  const candidates = quantizableTensors(g, options.floatNodes);
  const missing = candidates.filter((t) => !ranges.has(t));
  const tensors = candidates.filter((t) => ranges.has(t));
  if (missing.length > 0 && options.missingRanges !== 'float') {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `static quantization: no range for tensor(s) ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', ...' : ''}: give calibration samples or ranges for these layers`,
    );
  }
  const params = new Map<string, ActivationParams>();
  for (const t of tensors) params.set(t, activationParams(ranges.get(t) as Range));
  const bits = options.reduceRange ? 7 : 8;
  for (const name of keep) poolBeforeActivation(g, name);

  // Weights first (they read the activation scales of the op's input for the int32 bias). An op whose
  // input stays float cannot run an int8 kernel: its weight is only stored as int8.
  for (const n of [...g.nodes]) {
    if (n.op_type !== 'Conv' && n.op_type !== 'Gemm' && n.op_type !== 'MatMul') continue;
    if (n.op_type === 'MatMul' && !g.initializers.has(n.input[1] as string)) continue;
    const transB = n.attribute.some((a) => a.name === 'transB' && a.i === 1);
    const axis = n.op_type === 'Conv' || transB ? 0 : 1;
    const input = params.get(n.input[0] as string);
    if (keep.has(n.name) || !input) storeWeightInt8(g, n, 1, axis, bits);
    else quantizeOpWeights(g, n, 1, axis, n.op_type === 'MatMul' ? undefined : input, bits);
  }

  // Then a Q → DQ pair after every chosen activation; consumers read the DQ output.
  const consumers = g.consumers();
  const producers = g.producers();
  const insertions: { after: NodeMessage | undefined; nodes: NodeMessage[] }[] = [];
  for (const t of tensors) {
    const p = params.get(t) as ActivationParams;
    const scale = g.floats(`${t}_scale`, [], [p.scale]);
    const zp = g.initializer(`${t}_zero_point`, DataType.UINT8, [], Uint8Array.of(p.zeroPoint));
    const q = g.unique(`${t}_quantized`);
    const dq = g.unique(`${t}_dequantized`);
    const qNode: NodeMessage = {
      input: [t, scale, zp],
      output: [q],
      name: g.unique(`${t}/QuantizeLinear`),
      op_type: 'QuantizeLinear',
      attribute: [],
    };
    const dqNode: NodeMessage = {
      input: [q, scale, zp],
      output: [dq],
      name: g.unique(`${t}/DequantizeLinear`),
      op_type: 'DequantizeLinear',
      attribute: [],
    };
    for (const c of consumers.get(t) ?? []) c.input = c.input.map((i) => (i === t ? dq : i));
    insertions.push({ after: producers.get(t), nodes: [qNode, dqNode] });
  }
  for (const ins of insertions) {
    const at = ins.after ? g.nodes.indexOf(ins.after) + 1 : 0;
    g.nodes.splice(at, 0, ...ins.nodes);
  }
  g.pruneInitializers();
  return g;
}

/**
 * Replaces a node's float weight (input `wIndex`) by int8 + DequantizeLinear with per-channel scales
 * along `axis`, and its bias (input 2) by int32 + DequantizeLinear when the input scale is known.
 */
function quantizeOpWeights(
  g: OnnxGraph,
  n: NodeMessage,
  wIndex: number,
  axis: number,
  input: ActivationParams | undefined,
  bits: 7 | 8,
): void {
  const w = g.initializers.get(n.input[wIndex] as string);
  if (!w || !(w.data instanceof Float32Array)) return;
  const { q, scales } = quantizeWeights(w.data, w.dims, axis, bits);
  const channels = w.dims[axis] as number;
  const qName = g.initializer(`${w.name}_quantized`, DataType.INT8, w.dims, q);
  const sName = g.floats(`${w.name}_scale`, [channels], scales);
  const dq = g.unique(`${w.name}_dequantized`);
  // Symmetric weights: the zero point is 0, DequantizeLinear's default. onnxruntime fuses a conv without
  // it, but its QGemm fusion wants one written.
  const zero =
    n.op_type === 'Conv'
      ? []
      : [g.initializer(`${w.name}_zero_point`, DataType.INT8, [channels], new Int8Array(channels))];
  g.nodes.splice(g.nodes.indexOf(n), 0, {
    input: [qName, sName, ...zero],
    output: [dq],
    name: g.unique(`${w.name}/DequantizeLinear`),
    op_type: 'DequantizeLinear',
    attribute: [attr.int('axis', axis)],
  });
  n.input[wIndex] = dq;

  const b = n.input[2] ? g.initializers.get(n.input[2]) : undefined;
  if (!b || !(b.data instanceof Float32Array) || !input) return;
  const qb = quantizeBias(b.data, input.scale, scales);
  const bq = g.initializer(`${b.name}_quantized`, DataType.INT32, b.dims, qb.q);
  const bs = g.floats(`${b.name}_scale`, b.dims, qb.scales);
  const bdq = g.unique(`${b.name}_dequantized`);
  g.nodes.splice(g.nodes.indexOf(n), 0, {
    input: [bq, bs],
    output: [bdq],
    name: g.unique(`${b.name}/DequantizeLinear`),
    op_type: 'DequantizeLinear',
    attribute: [attr.int('axis', 0)],
  });
  n.input[2] = bdq;
}
