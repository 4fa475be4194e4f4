import { attr, type OnnxGraph } from '../graph.js';
import { AttributeType, DataType, type AttributeMessage, type NodeMessage } from '../proto.js';
import { quantizeBias, quantizeWeights } from './params.js';

/**
 * Space-to-depth rewrite of a one-channel first convolution, so that static int8 can run it in int8.
 *
 * onnxruntime's int8 convolution over one input channel reduces only kh*kw values per output, which its
 * int8 GEMM kernels handle badly (float-ops.ts keeps such a conv in float). Cut the image into 2x2 blocks
 * instead: an H x W x 1 image is an H/2 x W/2 x 4 one, and the kh x kw convolution followed by a 2x2/2 max
 * pooling becomes a convolution over 4 channels with 4F filters (each of the F filters once per position
 * (dy, dx) of an output pixel inside its 2x2 block) followed by a max over those 4 filter groups:
 *
 *   conv output (2i+dy, 2j+dx), filter c = sum over the block-kernel taps (a, b) and the pixel (py, px) in
 *   the block of input block (i+a, j+b) of K'[(dy,dx), c][(py,px)][a][b] * x, with
 *   K'[(dy,dx), c][(py,px)][a][b] = K[c][2a+py-dy][2b+px-dx] where that index is inside K, else 0.
 *
 * The block kernel is kbh x kbw = (floor(kh/2)+1) x (floor(kw/2)+1). The max over the 4 (dy, dx) groups is
 * the 2x2 max pooling, and a non-decreasing activation (Relu/Clip) commutes with it. The reduction per
 * output grows from kh*kw to 4*kbh*kbw (9 → 16 for a 3x3 kernel), which onnxruntime's int8 GEMM handles
 * well: on the small MNIST CNN (batch 128) the block conv takes ~0.28 ms where QLinearConv over one channel
 * takes ~3.4 ms, about the float conv's time, and the whole network stays int8 from the image on.
 *
 * Output channels are ordered (dy, dx)-major: channel s*F + c, s = 2*dy + dx. Biases and per-channel
 * weight scales are then the F originals repeated 4 times, which `lowerSpaceToDepth` exploits to store only
 * the original F filters in the int8 file.
 *
 * Rows and columns of the pooled output that the layers after it never read (a valid conv then a 2x2
 * pooling that floors drops the last one) are not computed: the image is cropped before the rewrite
 * (26x26 of MNIST's 28x28, so the second conv computes 10x10 outputs instead of 11x11).
 *
 * The rewritten float graph is what static int8 calibrates and quantizes; `lowerSpaceToDepth` then writes
 * the quantized region as integer ops.
 *
 * Opt-in (export option `spaceToDepth`): on the 2-core x86 machines of bench:infer the default, the first
 * conv in float on the cropped image (`cropFirstConvs`), is faster (the small CNN's static int8 file runs
 * 1.94x as fast as float against 1.71x with the rewrite).
 */

/** What the rewrite did to one convolution, for the int8 weight storage and the manifest. */
export interface SpaceToDepthRewrite {
  /** Name of the original conv node (its layer in the manifest). */
  conv: string;
  /** Name of the new conv node. */
  blockConv: string;
  /** The original float kernel [F, 1, kh, kw]. */
  kernel: { dims: [number, number, number, number]; data: Float32Array };
  /** Block kernel size [kbh, kbw]. */
  blockKernel: [number, number];
  /** Pooled rows and columns computed (fewer than the float model's when the rest is never read). */
  pooled: [number, number];
  /** The float bias [F] of the original conv. */
  bias: Float32Array;
  /** The image the rewritten region reads, the blocks tensor, the activation and the pooled output. */
  input: string;
  blocks: string;
  activated: string;
  pooledOutput: string;
  /** The activation op (Relu/Clip) of the original conv. */
  activation: string;
  /** Names of the nodes the rewrite created (the region `lowerSpaceToDepth` replaces). */
  nodes: string[];
}

const MONOTONIC = new Set(['Relu', 'Clip']);

/** `add(op, inputs, out, attributes)`: appends a node writing `out` to `list`, returns `out`. */
function nodeAdder(g: OnnxGraph, list: NodeMessage[]) {
  return (op: string, inputs: string[], out: string, attributes: AttributeMessage[] = []): string => {
    list.push({
      input: inputs,
      output: [out],
      name: g.unique(`${out}/${op}`),
      op_type: op,
      attribute: attributes,
    });
    return out;
  };
}

/**
 * Rewrites every one-channel conv → Relu/Clip → 2x2/2 max pooling that fits (see `matchFirstConv`) in a
 * copy of the graph; returns the copy and the rewrites, or undefined when nothing fits (the graph is then
 * left as it is and float-ops.ts keeps such convs in float).
 */
export function spaceToDepthConvs(
  graph: OnnxGraph,
): { graph: OnnxGraph; rewrites: SpaceToDepthRewrite[] } | undefined {
  const g = graph.clone();
  const rewrites: SpaceToDepthRewrite[] = [];
  for (const conv of [...g.nodes]) {
    const match = matchFirstConv(g, conv);
    if (match) rewrites.push(rewrite(g, match));
  }
  if (rewrites.length === 0) return undefined;
  g.pruneInitializers();
  return { graph: g, rewrites };
}

interface Match {
  conv: NodeMessage;
  act: NodeMessage;
  pool: NodeMessage;
  /** The conv input, [N, 1, H, W]. */
  input: string;
  h: number;
  w: number;
  kernel: { dims: [number, number, number, number]; data: Float32Array };
  bias: Float32Array;
  /** Pooled rows/columns that the rest of the graph reads. */
  pooled: [number, number];
}

function ints(n: NodeMessage, name: string): number[] | undefined {
  const a = n.attribute.find((x) => x.name === name);
  return a?.type === AttributeType.INTS ? a.ints?.map(Number) : undefined;
}

function int(n: NodeMessage, name: string): number | undefined {
  const a = n.attribute.find((x) => x.name === name);
  return a?.type === AttributeType.INT ? Number(a.i) : undefined;
}

function str(n: NodeMessage, name: string): string | undefined {
  const a = n.attribute.find((x) => x.name === name);
  return a?.type === AttributeType.STRING && a.s ? new TextDecoder().decode(a.s) : undefined;
}

const allEqual = (v: number[] | undefined, x: number, len: number): boolean =>
  v === undefined || (v.length === len && v.every((e) => e === x));

/**
 * The pattern the rewrite covers: a Conv with one input channel, group 1, stride 1, dilation 1, no
 * padding, a float kernel (and bias) initializer and an input of known height and width, whose output
 * only a Relu/Clip reads, whose output only a MaxPool with a 2x2 kernel, stride 2, no padding and floor
 * rounding reads. Anything else (same padding, strides, other poolings) is left to the float path.
 */
function matchFirstConv(g: OnnxGraph, conv: NodeMessage): Match | undefined {
  if (conv.op_type !== 'Conv' || (conv.domain ?? '') !== '') return undefined;
  const k = g.initializers.get(conv.input[1] as string);
  if (!k || !(k.data instanceof Float32Array) || k.dims.length !== 4 || k.dims[1] !== 1) return undefined;
  const [f, , kh, kw] = k.dims as [number, number, number, number];
  if ((int(conv, 'group') ?? 1) !== 1) return undefined;
  if (!allEqual(ints(conv, 'strides'), 1, 2) || !allEqual(ints(conv, 'dilations'), 1, 2)) return undefined;
  if (!allEqual(ints(conv, 'pads'), 0, 4)) return undefined;
  const autoPad = str(conv, 'auto_pad');
  if (autoPad !== undefined && autoPad !== 'NOTSET' && autoPad !== 'VALID') return undefined;
  const ks = ints(conv, 'kernel_shape');
  if (ks && (ks[0] !== kh || ks[1] !== kw)) return undefined;
  let bias: Float32Array = new Float32Array(f);
  if (conv.input[2]) {
    const b = g.initializers.get(conv.input[2]);
    if (!b || !(b.data instanceof Float32Array) || b.data.length !== f) return undefined;
    bias = b.data;
  }
  const shape = staticShapes(g).get(conv.input[0] as string);
  if (!shape || shape.length !== 4 || shape[1] !== 1) return undefined;
  const [, , h, w] = shape as [number, number, number, number];

  const only = g.soleReader();
  const act = only(conv.output[0] as string);
  if (!act || !MONOTONIC.has(act.op_type) || act.output.length !== 1) return undefined;
  if (act.input.slice(1).some((i) => i !== '' && !g.initializers.has(i))) return undefined;
  const pool = only(act.output[0] as string);
  if (!pool || pool.op_type !== 'MaxPool' || pool.output.length !== 1) return undefined;
  if (!allEqual(ints(pool, 'kernel_shape'), 2, 2) || ints(pool, 'kernel_shape') === undefined)
    return undefined;
  if (!allEqual(ints(pool, 'strides'), 2, 2) || ints(pool, 'strides') === undefined) return undefined;
  if (!allEqual(ints(pool, 'pads'), 0, 4) || !allEqual(ints(pool, 'dilations'), 1, 2)) return undefined;
  if ((int(pool, 'ceil_mode') ?? 0) !== 0 || (int(pool, 'storage_order') ?? 0) !== 0) return undefined;
  const poolPad = str(pool, 'auto_pad');
  if (poolPad !== undefined && poolPad !== 'NOTSET' && poolPad !== 'VALID') return undefined;

  const ho = h - kh + 1;
  const wo = w - kw + 1;
  if (ho < 2 || wo < 2) return undefined;
  const full: [number, number] = [Math.floor(ho / 2), Math.floor(wo / 2)];
  const pooled = readExtent(g, pool.output[0] as string, full, only);
  // Input rows the blocks cover: 2 * (pooled rows + block kernel rows - 1); an even kernel can need one
  // row past the image (its last block-kernel row is all zero then), which the rewrite does not pad.
  const [kbh, kbw] = [Math.floor(kh / 2) + 1, Math.floor(kw / 2) + 1];
  if (2 * (pooled[0] + kbh - 1) > h || 2 * (pooled[1] + kbw - 1) > w) return undefined;
  return {
    conv,
    act,
    pool,
    input: conv.input[0] as string,
    h,
    w,
    kernel: { dims: [f, 1, kh, kw], data: k.data },
    bias,
    pooled,
  };
}

/**
 * How many rows and columns of a pooled value the graph reads: all of them, unless its only reader is a
 * valid stride-1 conv followed by activations and a 2x2/2 floor max pooling, which never reads the last
 * row/column when the conv output has an odd size (the pooling drops it).
 */
function readExtent(
  g: OnnxGraph,
  value: string,
  full: [number, number],
  only: (value: string) => NodeMessage | undefined,
): [number, number] {
  const conv = only(value);
  if (!conv || conv.op_type !== 'Conv' || conv.input[0] !== value) return full;
  const k = g.initializers.get(conv.input[1] as string);
  if (!k || k.dims.length !== 4) return full;
  if (!allEqual(ints(conv, 'strides'), 1, 2) || !allEqual(ints(conv, 'dilations'), 1, 2)) return full;
  if (!allEqual(ints(conv, 'pads'), 0, 4)) return full;
  const autoPad = str(conv, 'auto_pad');
  if (autoPad !== undefined && autoPad !== 'NOTSET' && autoPad !== 'VALID') return full;
  let next = only(conv.output[0] as string);
  while (next && MONOTONIC.has(next.op_type)) next = only(next.output[0] as string);
  if (!next || next.op_type !== 'MaxPool') return full;
  if (!allEqual(ints(next, 'kernel_shape'), 2, 2) || !allEqual(ints(next, 'strides'), 2, 2)) return full;
  if (ints(next, 'kernel_shape') === undefined || ints(next, 'strides') === undefined) return full;
  if (!allEqual(ints(next, 'pads'), 0, 4) || (int(next, 'ceil_mode') ?? 0) !== 0) return full;
  const poolPad = str(next, 'auto_pad');
  if (poolPad !== undefined && poolPad !== 'NOTSET' && poolPad !== 'VALID') return full;
  const [kh, kw] = [k.dims[2] as number, k.dims[3] as number];
  // Conv output size o = n - k + 1; the pooling reads its first 2*floor(o/2) rows, the conv then reads
  // 2*floor(o/2) + k - 1 rows of its input.
  const used = (n: number, kk: number) => {
    const o = n - kk + 1;
    return o < 2 ? n : Math.min(n, 2 * Math.floor(o / 2) + kk - 1);
  };
  return [used(full[0], kh), used(full[1], kw)];
}

/**
 * Static shapes (batch as -1) of the graph inputs and of values that Reshape (with a constant shape),
 * Transpose, Flatten and Identity derive from them: enough to know the image size of a first conv.
 */
export function staticShapes(g: OnnxGraph): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const i of g.inputs) {
    if (i.shape.every((d, k) => typeof d === 'number' || k === 0))
      shapes.set(
        i.name,
        i.shape.map((d) => (typeof d === 'number' ? d : -1)),
      );
  }
  for (const n of g.nodes) {
    const s = shapes.get(n.input[0] as string);
    if (!s) continue;
    const out = n.output[0] as string;
    if (n.op_type === 'Identity') shapes.set(out, s);
    else if (n.op_type === 'Transpose') {
      const perm = ints(n, 'perm') ?? s.map((_, i) => s.length - 1 - i);
      shapes.set(
        out,
        perm.map((p) => s[p] as number),
      );
    } else if (n.op_type === 'Flatten') {
      const axis = int(n, 'axis') ?? 1;
      if (axis !== 1 || s[0] !== -1) continue;
      shapes.set(out, [-1, s.slice(1).reduce((a, b) => a * b, 1)]);
    } else if (n.op_type === 'Reshape') {
      const t = g.initializers.get(n.input[1] as string);
      if (!t || !(t.data instanceof BigInt64Array) || (int(n, 'allowzero') ?? 0) !== 0) continue;
      const target = Array.from(t.data, Number).map((d, i) => (d === 0 ? (s[i] as number) : d));
      const per = s.slice(1).reduce((a, b) => a * b, 1);
      // Only the batch may be unknown: the target's -1 (or a copied -1) is the batch when the other
      // dimensions hold one sample exactly.
      const unknown = target.filter((d) => d === -1).length;
      const rest = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      if (s[0] !== -1 || unknown !== 1 || target[0] !== -1 || rest !== per) continue;
      shapes.set(out, target);
    }
  }
  return shapes;
}

function rewrite(g: OnnxGraph, m: Match): SpaceToDepthRewrite {
  const { conv, act, pool, kernel } = m;
  const [f, , kh, kw] = kernel.dims;
  const [kbh, kbw] = [Math.floor(kh / 2) + 1, Math.floor(kw / 2) + 1];
  const [ph, pw] = m.pooled;
  const [hb, wb] = [ph + kbh - 1, pw + kbw - 1];
  const base = (conv.output[0] as string).replace(/_linear$/, '');
  const created: NodeMessage[] = [];
  const add = nodeAdder(g, created);

  bypassChannelTranspose(g, m);
  // The image cropped to the blocks the pooled rows/columns read (a no-op when all of them are).
  let x = m.input;
  if (2 * hb < m.h || 2 * wb < m.w) {
    const cropped = g.unique(`${base}_cropped`);
    created.push(cropNode(g, x, cropped, 2 * hb, 2 * wb, base));
    x = cropped;
  }
  // [N, 1, 2hb, 2wb] → [N, 4, hb, wb], channel 2*py + px.
  const blocks = add('SpaceToDepth', [x], g.unique(`${base}_blocks`), [attr.int('blocksize', 2)]);

  const kb = blockKernel(kernel.data, f, kh, kw, kbh, kbw);
  const bias = new Float32Array(4 * f);
  for (let s = 0; s < 4; s++) bias.set(m.bias, s * f);
  const wName = g.floats(`${base}_block_kernel`, [4 * f, 4, kbh, kbw], kb);
  const bName = g.floats(`${base}_block_bias`, [4 * f], bias);
  const blockConv = g.unique(`${base}_block_conv`);
  const linear = g.unique(`${base}_block_linear`);
  created.push({
    input: [blocks, wName, bName],
    output: [linear],
    name: blockConv,
    op_type: 'Conv',
    attribute: [attr.ints('kernel_shape', [kbh, kbw])],
  });
  // The activation keeps its output name: ranges learned for the conv layer's output still apply (the
  // values are the same, only arranged in (dy, dx) groups).
  const activated = add(act.op_type, [linear, ...act.input.slice(1)], act.output[0] as string, act.attribute);
  // The 2x2 pooling is the max over the 4 (dy, dx) groups of F channels. onnxruntime runs int8 convs
  // channels-last, where the groups are 4 runs of F bytes per pixel: the graph spells that layout out with
  // Transposes that cancel against the ones onnxruntime inserts, so that the max is its channels-last
  // uint8 MaxPool over a [pixels, 4] grid of F channels and no value is copied to get there.
  // (A pooling over a reshaped NCHW tensor, a DepthToSpace back to pixels or a Split + Max each cost
  // 0.5-5 ms per batch of 128 on the small MNIST CNN, more than the float conv they replace.)
  const nhwc = add('Transpose', [activated], g.unique(`${base}_nhwc`), [attr.ints('perm', [0, 2, 3, 1])]);
  const grid = add(
    'Reshape',
    [nhwc, g.int64s(`${base}_grid_shape`, [4], [-1, ph * pw, 4, f])],
    g.unique(`${base}_grid`),
  );
  const gridNchw = add('Transpose', [grid], g.unique(`${base}_grid_nchw`), [attr.ints('perm', [0, 3, 1, 2])]);
  // A 1x4 window over a width of 4: one output column, whatever the stride.
  const maxed = add('MaxPool', [gridNchw], g.unique(`${base}_group_max`), [
    attr.ints('kernel_shape', [1, 4]),
  ]);
  add('Reshape', [maxed, g.int64s(`${base}_pooled_shape`, [4], [-1, f, ph, pw])], pool.output[0] as string);
  const at = g.nodes.indexOf(conv);
  for (const n of [conv, act, pool]) g.nodes.splice(g.nodes.indexOf(n), 1);
  g.nodes.splice(at, 0, ...created);
  return {
    conv: conv.name,
    blockConv,
    kernel,
    blockKernel: [kbh, kbw],
    pooled: m.pooled,
    bias: m.bias,
    input: m.input,
    blocks,
    activated,
    pooledOutput: pool.output[0] as string,
    activation: act.op_type,
    nodes: created.map((n) => n.name),
  };
}

/**
 * Slice of the first `rows` x `cols` pixels of an [N, C, H, W] value. int32 positions (Slice takes
 * either): 12 bytes fewer than int64, in a file where the int8 size target leaves few to spare.
 */
function cropNode(
  g: OnnxGraph,
  input: string,
  output: string,
  rows: number,
  cols: number,
  base: string,
): NodeMessage {
  const i32 = (name: string, v: number[]) =>
    g.initializer(`${base}_${name}`, DataType.INT32, [2], Int32Array.from(v));
  return {
    input: [input, i32('crop_starts', [0, 0]), i32('crop_ends', [rows, cols]), i32('crop_axes', [2, 3])],
    output: [output],
    name: g.unique(`${output}/Slice`),
    op_type: 'Slice',
    attribute: [],
  };
}

/**
 * The crop alone, for the path that keeps a one-channel first conv in float: every conv the rewrite would
 * match reads only the 2*pooled + k - 1 rows and columns the layers after it use (26x26 of MNIST's 28x28
 * for the small CNN, whose second conv then computes 10x10 outputs instead of 11x11). Returns a copy, or
 * undefined when there is nothing to crop.
 */
export function cropFirstConvs(graph: OnnxGraph): OnnxGraph | undefined {
  const g = graph.clone();
  let cropped = false;
  for (const conv of [...g.nodes]) {
    const m = matchFirstConv(g, conv);
    if (!m) continue;
    const rows = 2 * m.pooled[0] + m.kernel.dims[2] - 1;
    const cols = 2 * m.pooled[1] + m.kernel.dims[3] - 1;
    if (rows >= m.h && cols >= m.w) continue;
    const base = (conv.output[0] as string).replace(/_linear$/, '');
    const out = g.unique(`${base}_cropped`);
    g.nodes.splice(g.nodes.indexOf(conv), 0, cropNode(g, m.input, out, rows, cols, base));
    conv.input[0] = out;
    cropped = true;
  }
  return cropped ? g : undefined;
}

/**
 * A one-channel image reshaped to [N, H, W, 1] then transposed to [N, 1, H, W] holds the same values in the
 * same order: when the conv alone reads the Transpose, which alone reads a Reshape, the Reshape goes
 * straight to [N, 1, H, W] and the Transpose is dropped.
 */
function bypassChannelTranspose(g: OnnxGraph, m: Match): void {
  const producers = g.producers();
  const consumers = g.consumers();
  const t = producers.get(m.input);
  const perm = t ? ints(t, 'perm') : undefined;
  if (t?.op_type !== 'Transpose' || perm?.join(',') !== '0,3,1,2') return;
  if ((consumers.get(m.input) ?? []).length !== 1) return;
  const r = producers.get(t.input[0] as string);
  if (r?.op_type !== 'Reshape' || (consumers.get(t.input[0] as string) ?? []).length !== 1) return;
  if (g.outputs.some((o) => o.name === t.input[0])) return;
  const shape = staticShapes(g).get(t.input[0] as string);
  if (!shape || shape.join(',') !== `-1,${m.h},${m.w},1`) return;
  r.input = [r.input[0] as string, g.int64s(`${m.input}_shape`, [4], [-1, 1, m.h, m.w])];
  r.output = [m.input];
  g.nodes.splice(g.nodes.indexOf(t), 1);
}

/** K'[(s = 2dy+dx)*F + c][2py+px][a][b] = K[c][2a+py-dy][2b+px-dx] inside K, else 0. */
export function blockKernel(
  k: ArrayLike<number>,
  f: number,
  kh: number,
  kw: number,
  kbh: number,
  kbw: number,
): Float32Array {
  const out = new Float32Array(4 * f * 4 * kbh * kbw);
  for (let dy = 0; dy < 2; dy++)
    for (let dx = 0; dx < 2; dx++)
      for (let c = 0; c < f; c++)
        for (let py = 0; py < 2; py++)
          for (let px = 0; px < 2; px++)
            for (let a = 0; a < kbh; a++)
              for (let b = 0; b < kbw; b++) {
                const u = 2 * a + py - dy;
                const v = 2 * b + px - dx;
                if (u < 0 || u >= kh || v < 0 || v >= kw) continue;
                const o = (2 * dy + dx) * f + c;
                out[((o * 4 + 2 * py + px) * kbh + a) * kbw + b] = k[(c * kh + u) * kw + v] as number;
              }
  return out;
}

/** The float value of a scalar float initializer (an activation scale). */
function scalar(g: OnnxGraph, name: string): number | undefined {
  const t = g.initializers.get(name);
  return t && t.data.length === 1 && typeof t.data[0] === 'number' ? t.data[0] : undefined;
}

/**
 * Replaces the QDQ form of a rewritten region in a static int8 graph by the integer ops onnxruntime would
 * fuse it into (QuantizeLinear, uint8 SpaceToDepth, QLinearConv, uint8 Transpose/Reshape/MaxPool), for the
 * file size: the QDQ form writes a Q/DQ pair per tensor, a DequantizeLinear per weight and bias, an int32
 * bias scale, and the 4F-filter block kernel (7x the original kernel's bytes). Here the int8 file stores
 * the F original int8 filters, their F scales and int32 biases, and builds the block kernel and the
 * repeated scales and biases with Pad/Gather/Transpose/Reshape/Tile nodes that read only initializers:
 * onnxruntime folds them into constants when it loads the model (the same int8 values, bit for bit, as
 * quantizing the block kernel, whose per-filter maxima are the original filters'). All ops are standard
 * ONNX. Returns false (graph untouched) when the region is not quantized as expected.
 */
export function lowerSpaceToDepth(g: OnnxGraph, rw: SpaceToDepthRewrite, bits: 7 | 8): boolean {
  const byInput = (op: string, t: string) => g.nodes.find((n) => n.op_type === op && n.input[0] === t);
  const xq = byInput('QuantizeLinear', rw.blocks);
  const yq = byInput('QuantizeLinear', rw.activated);
  const pq = byInput('QuantizeLinear', rw.pooledOutput);
  if (!xq || !yq || !pq || rw.activation !== 'Relu') return false;
  const [xScale, xZp, yScale, yZp] = [xq.input[1], xq.input[2], yq.input[1], yq.input[2]];
  if (!xScale || !xZp || !yScale || !yZp) return false;
  const xs = scalar(g, xScale);
  const zp = g.initializers.get(yZp)?.data[0];
  // The uint8 output with zero point 0 is the Relu; the pooled value must keep the conv output's
  // quantization, which the conv after it was quantized for.
  const same = (a: string | undefined, b: string | undefined) =>
    a !== undefined && b !== undefined && g.initializers.get(a)?.data[0] === g.initializers.get(b)?.data[0];
  if (xs === undefined || zp !== 0 || !same(pq.input[1], yScale) || !same(pq.input[2], yZp)) return false;

  const region = new Set(rw.nodes);
  const tensors = new Set(g.nodes.filter((n) => region.has(n.name)).flatMap((n) => n.output));
  const blockConv = g.nodes.find((n) => n.name === rw.blockConv);
  if (!blockConv) return false;
  const drop = new Set<NodeMessage>(g.nodes.filter((n) => region.has(n.name)));
  const dropped = new Set<string>();
  for (const n of g.nodes) {
    if (n.op_type === 'QuantizeLinear' && tensors.has(n.input[0] as string)) {
      drop.add(n);
      dropped.add(n.output[0] as string);
    }
  }
  const pooledQ = pq.output[0] as string;
  const weightOf = new Set(blockConv.input.slice(1));
  for (const n of g.nodes) {
    if (n.op_type !== 'DequantizeLinear') continue;
    if (n.input[0] !== pooledQ && dropped.has(n.input[0] as string)) drop.add(n);
    if (weightOf.has(n.output[0] as string)) drop.add(n);
  }

  const [f, , kh, kw] = rw.kernel.dims;
  const [kbh, kbw] = rw.blockKernel;
  const base = rw.blocks.replace(/_blocks$/, '');
  const { q, scales } = quantizeWeights(rw.kernel.data, rw.kernel.dims, 0, bits);
  const bias = quantizeBias(rw.bias, xs, scales).q;
  const nodes: NodeMessage[] = [];
  const add = nodeAdder(g, nodes);

  // The image quantized first: the cropping and the block reordering then move uint8 values.
  let x = add('QuantizeLinear', [rw.input, xScale, xZp], g.unique(`${rw.input}_quantized`));
  const crop = g.nodes.find((n) => region.has(n.name) && n.op_type === 'Slice');
  if (crop) x = add('Slice', [x, ...crop.input.slice(1)], g.unique(`${base}_cropped_quantized`));
  const blocks = add('SpaceToDepth', [x], g.unique(`${base}_blocks_quantized`), [attr.int('blocksize', 2)]);

  // Block kernel from the F int8 filters: zero-padded (one row/column before, enough after), then the
  // rows 2a+py-dy+1 and columns 2b+px-dx+1 gathered, i.e. K'[(dy,dx),c][(py,px)][a][b] of blockKernel.
  const k = g.initializer(`${base}_kernel_quantized`, DataType.INT8, [f, kh, kw], q);
  const padded = add(
    'Pad',
    [k, g.int64s(`${base}_kernel_pads`, [6], [0, 1, 1, 0, 2 * kbh - kh, 2 * kbw - kw])],
    g.unique(`${base}_kernel_padded`),
  );
  const taps = (kb: number) => {
    const idx: number[] = [];
    for (let d = 0; d < 2; d++)
      for (let p = 0; p < 2; p++) for (let a = 0; a < kb; a++) idx.push(2 * a + p - d + 1);
    return Int32Array.from(idx);
  };
  const rows = add(
    'Gather',
    [padded, g.initializer(`${base}_kernel_rows`, DataType.INT32, [2, 2, kbh], taps(kbh))],
    g.unique(`${base}_kernel_rows_gathered`),
    [attr.int('axis', 1)],
  );
  // [F, dy, py, a, kw+pad] → [F, dy, py, a, dx, px, b]
  const cols = add(
    'Gather',
    [rows, g.initializer(`${base}_kernel_cols`, DataType.INT32, [2, 2, kbw], taps(kbw))],
    g.unique(`${base}_kernel_cols_gathered`),
    [attr.int('axis', 4)],
  );
  const ordered = add('Transpose', [cols], g.unique(`${base}_kernel_ordered`), [
    attr.ints('perm', [1, 4, 0, 2, 5, 3, 6]),
  ]);
  const w = add(
    'Reshape',
    [ordered, g.int64s(`${base}_kernel_shape`, [4], [4 * f, 4, kbh, kbw])],
    g.unique(`${base}_block_kernel_quantized`),
  );
  const four = g.int64s(`${base}_groups`, [1], [4]);
  const ws = add(
    'Tile',
    [g.floats(`${base}_kernel_scale`, [f], scales), four],
    g.unique(`${base}_block_kernel_scale`),
  );
  const b = add(
    'Tile',
    [g.initializer(`${base}_bias_quantized`, DataType.INT32, [f], bias), four],
    g.unique(`${base}_block_bias_quantized`),
  );
  const wZp = g.initializer(`${base}_kernel_zero_point`, DataType.INT8, [], new Int8Array(1));
  const y = add(
    'QLinearConv',
    [blocks, xScale, xZp, w, ws, wZp, yScale, yZp, b],
    g.unique(`${rw.activated}_quantized`),
  );

  // The max over the (dy, dx) groups, as in the float rewrite, on uint8 values.
  const nhwc = add('Transpose', [y], g.unique(`${base}_nhwc_quantized`), [attr.ints('perm', [0, 2, 3, 1])]);
  const gridShape = g.nodes.find((n) => region.has(n.name) && n.op_type === 'Reshape')?.input[1];
  const pooledShape = g.nodes.filter((n) => region.has(n.name) && n.op_type === 'Reshape')[1]?.input[1];
  if (!gridShape || !pooledShape) return false;
  const grid = add('Reshape', [nhwc, gridShape], g.unique(`${base}_grid_quantized`));
  const gridNchw = add('Transpose', [grid], g.unique(`${base}_grid_nchw_quantized`), [
    attr.ints('perm', [0, 3, 1, 2]),
  ]);
  const maxed = add('MaxPool', [gridNchw], g.unique(`${base}_group_max_quantized`), [
    attr.ints('kernel_shape', [1, 4]),
  ]);
  add('Reshape', [maxed, pooledShape], pooledQ);

  const at = Math.min(...[...drop].map((n) => g.nodes.indexOf(n)));
  for (const n of drop) g.nodes.splice(g.nodes.indexOf(n), 1);
  g.nodes.splice(at, 0, ...nodes);
  g.pruneInitializers();
  return true;
}
