import { DataType, type NodeMessage } from '../proto.js';
import type { OnnxGraph } from '../graph.js';

/**
 * Writes the QDQ groups of a static int8 graph that onnxruntime fuses anyway as the integer ops it fuses
 * them into, all standard ONNX:
 * - DequantizeLinear(x) → Conv(DequantizeLinear(w), DequantizeLinear(b)) [→ Relu] → QuantizeLinear
 *   becomes one QLinearConv (a Relu is the uint8 saturation at a zero point of 0);
 * - DequantizeLinear → MaxPool/Transpose/Reshape/Flatten → QuantizeLinear with the same scale and zero
 *   point becomes the op on uint8 values (exact: moving or taking the max of values commutes with an
 *   increasing quantization).
 * The computation is the same (onnxruntime runs the same kernels, bench/infer.ts), the file is smaller: a
 * conv's group takes six nodes and a bias scale per channel, a moved tensor a Q/DQ pair (the small MNIST
 * CNN: 14,244 instead of 14,782 bytes; with its first conv rewritten by space-to-depth.ts, 14,760 instead
 * of 15,308). Groups that do not match exactly (a float bias, a Relu with a nonzero zero point, a value
 * also read elsewhere) keep their QDQ form. Opt-in (`integerOps`): the default output is QDQ.
 */
export function lowerToIntegerOps(g: OnnxGraph): void {
  for (const conv of g.nodes.filter((n) => n.op_type === 'Conv')) lowerConv(g, conv);
  collapseMoves(g);
  for (const n of g.nodes.filter((m) => m.op_type === 'Gemm')) computeBiasScale(g, n);
  g.pruneInitializers();
}

/**
 * A Gemm's int32 bias is dequantized with scale input_scale * weight_scale[c]: that vector is written as
 * a Mul of the two scales already in the file (onnxruntime folds it at load time, before its QDQ fusion),
 * when the stored vector is exactly that product in float32.
 */
function computeBiasScale(g: OnnxGraph, gemm: NodeMessage): void {
  const producers = g.producers();
  const consumers = g.consumers();
  const [dx, dw, db] = gemm.input.map((t) => producers.get(t));
  if (dx?.op_type !== 'DequantizeLinear' || dw?.op_type !== 'DequantizeLinear') return;
  if (db?.op_type !== 'DequantizeLinear') return;
  const xs = g.initializers.get(dx.input[1] as string);
  const ws = g.initializers.get(dw.input[1] as string);
  const bs = g.initializers.get(db.input[1] as string);
  if (!xs || !ws || !bs || xs.data.length !== 1 || (consumers.get(bs.name) ?? []).length !== 1) return;
  if (ws.dims.length !== 1 || bs.dims.length !== 1 || ws.dims[0] !== bs.dims[0]) return;
  const x = xs.data[0] as number;
  const w = ws.data as Float32Array;
  const b = bs.data as Float32Array;
  if (!b.every((v, i) => v === Math.fround(x * (w[i] as number)))) return;
  const out = g.unique(`${bs.name}_product`);
  g.nodes.splice(g.nodes.indexOf(db), 0, {
    input: [ws.name, xs.name],
    output: [out],
    name: g.unique(`${out}/Mul`),
    op_type: 'Mul',
    attribute: [],
  });
  db.input[1] = out;
}

const MOVES = new Set(['MaxPool', 'Transpose', 'Reshape', 'Flatten', 'Identity']);

function lowerConv(g: OnnxGraph, conv: NodeMessage): void {
  const producers = g.producers();
  const consumers = g.consumers();
  const outputs = new Set(g.outputs.map((o) => o.name));
  const dq = (t: string | undefined) => {
    const p = t ? producers.get(t) : undefined;
    return p?.op_type === 'DequantizeLinear' ? p : undefined;
  };
  const only = (t: string): NodeMessage | undefined => {
    const readers = consumers.get(t) ?? [];
    return readers.length === 1 && !outputs.has(t) ? readers[0] : undefined;
  };
  const dx = dq(conv.input[0]);
  const dw = dq(conv.input[1]);
  const db = conv.input[2] ? dq(conv.input[2]) : undefined;
  if (!dx || !dw || (conv.input[2] && !db) || !dx.input[2]) return;
  const w = g.initializers.get(dw.input[0] as string);
  if (!w || w.dataType !== DataType.INT8 || g.initializers.has(dx.input[0] as string)) return;
  if (db && g.initializers.get(db.input[0] as string)?.dataType !== DataType.INT32) return;
  // The weight's zero point must be 0 (symmetric): QLinearConv reads it as its own input.
  const wZp = dw.input[2] ? g.initializers.get(dw.input[2]) : undefined;
  if (wZp && Array.from(wZp.data as Int8Array).some((v) => v !== 0)) return;
  let last: NodeMessage = conv;
  let relu: NodeMessage | undefined;
  const next = only(conv.output[0] as string);
  if (next?.op_type === 'Relu') {
    relu = next;
    last = next;
  }
  const q = only(last.output[0] as string);
  if (!q || q.op_type !== 'QuantizeLinear' || !q.input[2]) return;
  const yZp = g.initializers.get(q.input[2]);
  if (!yZp || yZp.dataType !== DataType.UINT8) return;
  if (relu && yZp.data[0] !== 0) return;

  const zp = dw.input[2] || g.initializer(`${w.name}_zero_point`, DataType.INT8, [], new Int8Array(1));
  const node: NodeMessage = {
    input: [
      dx.input[0] as string,
      dx.input[1] as string,
      dx.input[2] ?? '',
      dw.input[0] as string,
      dw.input[1] as string,
      zp,
      q.input[1] as string,
      q.input[2],
      ...(db ? [db.input[0] as string] : []),
    ],
    output: [q.output[0] as string],
    name: g.unique(`${conv.name}/QLinearConv`),
    op_type: 'QLinearConv',
    // kernel_shape is optional (the weight's shape) and the s2d block kernel's is only known once folded.
    attribute: conv.attribute.filter((a) => a.name !== 'kernel_shape'),
  };
  g.nodes.splice(g.nodes.indexOf(conv), 1, node);
  for (const n of [relu, q]) if (n) g.nodes.splice(g.nodes.indexOf(n), 1);
  // The dequantized values other nodes still read stay.
  const read = new Set(g.nodes.flatMap((n) => n.input));
  for (const d of [dx, dw, db])
    if (d && !read.has(d.output[0] as string)) g.nodes.splice(g.nodes.indexOf(d), 1);
}

/** The same scale and zero point (values, not names: names differ per tensor before compaction). */
function sameParams(g: OnnxGraph, a: NodeMessage, b: NodeMessage): boolean {
  for (const i of [1, 2]) {
    const x = g.initializers.get(a.input[i] ?? '');
    const y = g.initializers.get(b.input[i] ?? '');
    if (!x || !y || x.data.length !== 1 || y.data.length !== 1 || x.dataType !== y.dataType) return false;
    if (x.data[0] !== y.data[0]) return false;
  }
  return true;
}

function collapseMoves(g: OnnxGraph): void {
  for (let changed = true; changed;) {
    changed = false;
    const producers = g.producers();
    const consumers = g.consumers();
    const outputs = new Set(g.outputs.map((o) => o.name));
    for (const m of g.nodes) {
      if (!MOVES.has(m.op_type) || m.output.length !== 1) continue;
      const d = producers.get(m.input[0] as string);
      if (d?.op_type !== 'DequantizeLinear' || g.initializers.has(d.input[0] as string)) continue;
      const out = m.output[0] as string;
      const readers = consumers.get(out) ?? [];
      const q = readers.length === 1 && !outputs.has(out) ? readers[0] : undefined;
      if (q?.op_type !== 'QuantizeLinear' || !sameParams(g, d, q)) continue;
      m.input = [d.input[0] as string, ...m.input.slice(1)];
      m.output = [q.output[0] as string];
      g.nodes.splice(g.nodes.indexOf(q), 1);
      if ((consumers.get(d.output[0] as string) ?? []).length === 1) g.nodes.splice(g.nodes.indexOf(d), 1);
      changed = true;
      break;
    }
  }
}
