import { AttributeType } from '../proto.js';
import type { OnnxGraph } from '../graph.js';

/**
 * Ops that static int8 leaves in float because onnxruntime's int8 kernel is slower than its float one.
 *
 * A convolution with one input channel (the first layer of a grayscale image model) is the known case:
 * its QLinearConv has a reduction of only kh*kw values per output, which the int8 GEMM kernels handle
 * badly (about 7x slower than the float NCHWc convolution on the small MNIST CNN, 3.4 ms vs 0.46 ms per
 * batch of 128), while it holds ~1% of the weights. Depthwise convolutions (one channel per group too)
 * have their own int8 kernel and stay quantized. Static int8 export first rewrites such a conv when a 2x2
 * max pooling follows it (space-to-depth.ts); the ones left are listed here.
 */
export function slowInt8Ops(graph: OnnxGraph): string[] {
  const out: string[] = [];
  for (const n of graph.nodes) {
    if (n.op_type !== 'Conv') continue;
    const w = graph.initializers.get(n.input[1] as string);
    const group = n.attribute.find((a) => a.name === 'group' && a.type === AttributeType.INT)?.i ?? 1;
    if (w && w.dims[1] === 1 && group === 1) out.push(n.name);
  }
  return out;
}

/** Activations that commute with max pooling (monotonic non-decreasing): relu(max(x)) = max(relu(x)). */
const MONOTONIC = new Set(['Relu', 'Clip']);

/**
 * For a conv left in float and followed by Relu/Clip → MaxPool, moves the activation after the pooling
 * (exact: a non-decreasing function commutes with max). The quantized region then starts after the pooling:
 * a QuantizeLinear after Relu, which onnxruntime does not move (it moves one across a MaxPool, and the
 * pooling would then run on uint8 in NCHW layout, its slow generic kernel: 6 ms per batch of 128 instead
 * of 0.3 ms in float), and the float conv and pooling keep their NCHWc kernels. Returns whether it moved.
 */
export function poolBeforeActivation(g: OnnxGraph, convName: string): boolean {
  const conv = g.nodes.find((n) => n.name === convName);
  if (!conv) return false;
  const only = g.soleReader();
  const act = only(conv.output[0] as string);
  if (!act || !MONOTONIC.has(act.op_type)) return false;
  const pool = only(act.output[0] as string);
  if (!pool || pool.op_type !== 'MaxPool' || pool.output.length !== 1) return false;
  const pooled = pool.output[0] as string;
  const raw = g.unique(`${pooled}_before_${act.op_type.toLowerCase()}`);
  pool.input = [conv.output[0] as string];
  pool.output = [raw];
  act.input = [raw, ...act.input.slice(1)];
  act.output = [pooled];
  g.nodes.splice(g.nodes.indexOf(act), 1);
  g.nodes.splice(g.nodes.indexOf(pool) + 1, 0, act);
  return true;
}
