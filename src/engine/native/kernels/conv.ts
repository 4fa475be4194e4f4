import * as tf from '@tensorflow/tfjs';
import { f32, sizeOf } from '../cpu-data.js';
import {
  ACTIVATIONS,
  numAttr,
  outF32,
  type NativeCall,
  type NativeKernel,
  type NativeResult,
} from '../kernel.js';

type Shape4 = [number, number, number, number];
type Pair = number | [number, number];
type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;
type ConvInfo = tf.backend_util.Conv2DInfo;

function shape4(v: unknown): Shape4 | undefined {
  return Array.isArray(v) && v.length === 4 && v.every((d) => typeof d === 'number')
    ? (v as Shape4)
    : undefined;
}

function pair(v: unknown, fallback?: Pair): Pair | undefined {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number') return v;
  if (Array.isArray(v) && v.length === 2 && v.every((d) => typeof d === 'number'))
    return v as [number, number];
  return undefined;
}

function pad(v: unknown): Pad | undefined {
  if (v === 'same' || v === 'valid' || typeof v === 'number') return v;
  if (
    Array.isArray(v) &&
    v.length === 4 &&
    v.every((p) => Array.isArray(p) && p.length === 2 && p.every((d) => typeof d === 'number'))
  ) {
    return v as tf.backend_util.ExplicitPadding;
  }
  return undefined;
}

function rounding(v: unknown): Rounding | 'invalid' {
  if (v === undefined || v === null) return undefined;
  return v === 'floor' || v === 'round' || v === 'ceil' ? v : 'invalid';
}

function isOne(p: Pair): boolean {
  return typeof p === 'number' ? p === 1 : p[0] === 1 && p[1] === 1;
}

/** Runs one of tfjs's geometry helpers; its errors mean "let the JS kernel report this". */
function info(make: () => ConvInfo): ConvInfo | string {
  try {
    return make();
  } catch (err) {
    return `invalid geometry: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** [batch, in_h, in_w, in_c, out_h, out_w, out_c, f_h, f_w, sh, sw, dh, dw, pad_top, pad_left, act, alpha, bias_cs, prelu_cs] */
function geometry(c: ConvInfo, extra: number[] = []): Float64Array {
  return new Float64Array([
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.outHeight,
    c.outWidth,
    c.outChannels,
    c.filterHeight,
    c.filterWidth,
    c.strideHeight,
    c.strideWidth,
    c.dilationHeight,
    c.dilationWidth,
    c.padInfo.top,
    c.padInfo.left,
    ...extra,
  ]);
}

function nhwc(attrs: tf.NamedAttrMap): boolean {
  const f = attrs['dataFormat'];
  return f === undefined || f === null || f === 'NHWC' || f === 'channelsLast';
}

/** Per-channel bias/prelu operand: a scalar or [.., C] with only 1s before the channel axis. */
function channelOperand(
  call: NativeCall,
  name: string,
  channels: number,
): { values: Float32Array | null; stride: number } | string {
  const t = call.inputs[name];
  if (!t) return { values: null, stride: 0 };
  const values = f32(call.backend, t);
  if (!values) return `${name} is not float32`;
  const n = sizeOf(t.shape);
  const leadingOnes = t.shape.slice(0, -1).every((d) => d === 1);
  if (t.shape.length > 4 || !leadingOnes) return `${name} is not per-channel`;
  if (n === 1) return { values, stride: 0 };
  if (n === channels) return { values, stride: 1 };
  return `${name} is not per-channel`;
}

/** Fused epilogue parameters shared by FusedConv2D and FusedDepthwiseConv2D. */
function epilogue(
  call: NativeCall,
  channels: number,
): { extra: number[]; bias: Float32Array | null; prelu: Float32Array | null } | string {
  const activation = call.attrs['activation'];
  let act = 0;
  let alpha = 0;
  if (activation !== undefined && activation !== null && activation !== '') {
    if (typeof activation !== 'string' || ACTIVATIONS[activation] === undefined)
      return `activation ${String(activation)}`;
    act = ACTIVATIONS[activation] ?? 0;
    if (activation === 'leakyrelu') {
      const a = numAttr(call.attrs, 'leakyreluAlpha');
      if (a === undefined) return 'leakyrelu without leakyreluAlpha';
      alpha = a;
    }
  }
  const bias = channelOperand(call, 'bias', channels);
  if (typeof bias === 'string') return bias;
  let prelu: { values: Float32Array | null; stride: number } = { values: null, stride: 0 };
  if (activation === 'prelu') {
    const p = channelOperand(call, 'preluActivationWeights', channels);
    if (typeof p === 'string') return p;
    if (!p.values) return 'prelu weights missing';
    prelu = p;
  }
  return { extra: [act, alpha, bias.stride, prelu.stride], bias: bias.values, prelu: prelu.values };
}

function convForward(depthwise: boolean, fused: boolean) {
  return (call: NativeCall): NativeResult => {
    const { inputs, attrs, backend, addon } = call;
    const { x, filter } = inputs;
    const xv = f32(backend, x);
    const wv = f32(backend, filter);
    const xs = shape4(x?.shape);
    const ws = shape4(filter?.shape);
    if (!xv || !wv || !xs || !ws) return 'inputs are not rank-4 float32';
    if (!nhwc(attrs)) return 'NCHW layout';
    const strides = pair(attrs['strides']);
    const dilations = pair(attrs['dilations'], 1);
    const p = pad(attrs['pad']);
    const r = rounding(attrs['dimRoundingMode']);
    if (strides === undefined || dilations === undefined || p === undefined || r === 'invalid')
      return 'unsupported attributes';
    if (depthwise && !isOne(strides) && !isOne(dilations)) return 'strides and dilations both > 1';
    const c = info(() =>
      tf.backend_util.computeConv2DInfo(xs, ws, strides, dilations, p, r, depthwise, 'channelsLast'),
    );
    if (typeof c === 'string') return c;
    let extra = [0, 0, 0, 0];
    let bias: Float32Array | null = null;
    let prelu: Float32Array | null = null;
    if (fused) {
      const e = epilogue(call, c.outChannels);
      if (typeof e === 'string') return e;
      ({ extra, bias, prelu } = e);
    }
    const out = outF32(sizeOf(c.outShape));
    if (out.length > 0) {
      const g = geometry(c, extra);
      if (depthwise) addon.depthwiseConv2d(xv, wv, out, g, bias, prelu);
      else addon.conv2d(xv, wv, out, g, bias, prelu);
    }
    return backend.makeTensorInfo(c.outShape.slice(), 'float32', out);
  };
}

function convBackpropInput(depthwise: boolean) {
  return ({ inputs, attrs, backend, addon }: NativeCall): NativeResult => {
    const { dy, filter } = inputs;
    const dv = f32(backend, dy);
    const wv = f32(backend, filter);
    const ws = shape4(filter?.shape);
    const inShape = shape4(attrs['inputShape']);
    if (!dy || !dv || !wv || !ws || !inShape) return 'inputs are not rank-4 float32';
    if (!nhwc(attrs)) return 'NCHW layout';
    const strides = pair(attrs['strides']);
    const dilations = pair(attrs['dilations'], 1);
    const p = pad(attrs['pad']);
    const r = rounding(attrs['dimRoundingMode']);
    if (strides === undefined || dilations === undefined || p === undefined || r === 'invalid')
      return 'unsupported attributes';
    // tfjs's JS gradient kernels ignore dilations; only the undilated case is defined.
    if (!isOne(dilations)) return 'dilations > 1';
    const c = info(() =>
      tf.backend_util.computeConv2DInfo(inShape, ws, strides, 1, p, r, depthwise, 'channelsLast'),
    );
    if (typeof c === 'string') return c;
    if (c.outShape.some((d, i) => d !== dy.shape[i])) return 'dy does not match the geometry';
    const n = sizeOf(inShape);
    const out = dv.length > 0 ? outF32(n) : new Float32Array(n);
    if (out.length > 0 && dv.length > 0) {
      if (depthwise) addon.depthwiseBackpropInput(dv, wv, out, geometry(c));
      else addon.conv2dBackpropInput(dv, wv, out, geometry(c));
    }
    return backend.makeTensorInfo(inShape.slice(), 'float32', out);
  };
}

function convBackpropFilter(depthwise: boolean) {
  return ({ inputs, attrs, backend, addon }: NativeCall): NativeResult => {
    const { x, dy } = inputs;
    const xv = f32(backend, x);
    const dv = f32(backend, dy);
    const xs = shape4(x?.shape);
    const fs = shape4(attrs['filterShape']);
    if (!dy || !xv || !dv || !xs || !fs) return 'inputs are not rank-4 float32';
    if (!nhwc(attrs)) return 'NCHW layout';
    const strides = pair(attrs['strides']);
    const dilations = pair(attrs['dilations'], 1);
    const p = pad(attrs['pad']);
    const r = rounding(attrs['dimRoundingMode']);
    if (strides === undefined || dilations === undefined || p === undefined || r === 'invalid')
      return 'unsupported attributes';
    if (!isOne(dilations)) return 'dilations > 1';
    const c = info(() =>
      tf.backend_util.computeConv2DInfo(xs, fs, strides, 1, p, r, depthwise, 'channelsLast'),
    );
    if (typeof c === 'string') return c;
    if (c.outShape.some((d, i) => d !== dy.shape[i])) return 'dy does not match the geometry';
    const n = sizeOf(fs);
    const out = xv.length > 0 && dv.length > 0 ? outF32(n) : new Float32Array(n);
    if (out.length > 0 && xv.length > 0 && dv.length > 0) {
      if (depthwise) addon.depthwiseBackpropFilter(xv, dv, out, geometry(c));
      else addon.conv2dBackpropFilter(xv, dv, out, geometry(c));
    }
    return backend.makeTensorInfo(fs.slice(), 'float32', out);
  };
}

function poolInfo(attrs: tf.NamedAttrMap, xShape: Shape4, withRounding: boolean): ConvInfo | string {
  const filterSize = pair(attrs['filterSize']);
  const strides = pair(attrs['strides']);
  const p = pad(attrs['pad']);
  const r = withRounding ? rounding(attrs['dimRoundingMode']) : undefined;
  if (filterSize === undefined || strides === undefined || p === undefined || r === 'invalid')
    return 'unsupported attributes';
  return info(() => tf.backend_util.computePool2DInfo(xShape, filterSize, strides, 1, p, r));
}

/**
 * Where each max-pool window's winner was, recorded by MaxPool for the MaxPoolGrad that follows
 * in training: keyed by the output's data id (immutable data; the entry goes with it), checked
 * against the input's data id and the geometry, so the gradient needs neither the input nor a
 * second search. Windows of up to 127 pixels (int8 positions, -1 for none).
 */
interface Argmax {
  input: object;
  key: string;
  positions: Int8Array;
}
const argmaxes = new WeakMap<object, Argmax>();
const MAX_ARGMAX_WINDOW = 127;

function poolKey(c: ConvInfo): string {
  return [
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.outHeight,
    c.outWidth,
    c.filterHeight,
    c.filterWidth,
    c.strideHeight,
    c.strideWidth,
    c.padInfo.top,
    c.padInfo.left,
  ].join(',');
}

function pool(kind: 0 | 1) {
  return ({ inputs, attrs, backend, addon }: NativeCall): NativeResult => {
    const x = inputs['x'];
    const xv = f32(backend, x);
    const xs = shape4(x?.shape);
    if (!x || !xv || !xs) return 'input is not rank-4 float32';
    const c = poolInfo(attrs, xs, true);
    if (typeof c === 'string') return c;
    // tfjs returns the input itself for a 1x1 window that keeps the shape (NaN included)
    if (c.filterHeight === 1 && c.filterWidth === 1 && c.outShape.every((d, i) => d === xs[i]))
      return '1x1 identity pool';
    const n = sizeOf(c.outShape);
    const out = outF32(n);
    const positions =
      kind === 0 && n > 0 && c.filterHeight * c.filterWidth <= MAX_ARGMAX_WINDOW ? new Int8Array(n) : null;
    if (n > 0) addon.pool(kind, xv, out, geometry(c), positions);
    const info = backend.makeTensorInfo(c.outShape.slice(), 'float32', out);
    if (positions) argmaxes.set(info.dataId, { input: x.dataId, key: poolKey(c), positions });
    return info;
  };
}

const maxPoolGrad = ({ inputs, attrs, backend, addon }: NativeCall): NativeResult => {
  const { dy, input, output } = inputs;
  const dv = f32(backend, dy);
  const xv = f32(backend, input);
  const xs = shape4(input?.shape);
  if (!dy || !dv || !xv || !xs) return 'inputs are not rank-4 float32';
  const c = poolInfo(attrs, xs, true);
  if (typeof c === 'string') return c;
  if (c.outShape.some((d, i) => d !== dy.shape[i])) return 'dy does not match the geometry';
  const out = outF32(xv.length);
  if (out.length > 0) {
    const known = output ? argmaxes.get(output.dataId) : undefined;
    if (known && input && known.input === input.dataId && known.key === poolKey(c))
      addon.maxPoolGradArgmax(dv, known.positions, out, geometry(c));
    else addon.maxPoolGrad(xv, dv, out, geometry(c));
  }
  return backend.makeTensorInfo(xs.slice(), 'float32', out);
};

const avgPoolGrad = ({ inputs, attrs, backend, addon }: NativeCall): NativeResult => {
  const { dy, input } = inputs;
  const dv = f32(backend, dy);
  const xs = shape4(input?.shape);
  if (!dy || !dv || !xs || input?.dtype !== 'float32') return 'inputs are not rank-4 float32';
  // tfjs's AvgPoolGrad computes its geometry without dimRoundingMode
  const c = poolInfo(attrs, xs, false);
  if (typeof c === 'string') return c;
  if (c.outShape.some((d, i) => d !== dy.shape[i])) return 'dy does not match the geometry';
  const out = outF32(sizeOf(xs));
  if (out.length > 0) addon.avgPoolGrad(dv, out, geometry(c));
  return backend.makeTensorInfo(xs.slice(), 'float32', out);
};

const NHWC = 'NHWC only; direct convolution (no im2col), implicit-GEMM for 1x1 and large filters';

export const convKernels: NativeKernel[] = [
  { name: 'Conv2D', run: convForward(false, false), note: NHWC },
  { name: 'FusedConv2D', run: convForward(false, true), note: `${NHWC}; per-channel bias/prelu fused` },
  {
    name: 'Conv2DBackpropInput',
    run: convBackpropInput(false),
    note: 'NHWC only; direct convolution for stride 1',
  },
  { name: 'Conv2DBackpropFilter', run: convBackpropFilter(false), note: 'NHWC only' },
  { name: 'DepthwiseConv2dNative', run: convForward(true, false) },
  { name: 'FusedDepthwiseConv2D', run: convForward(true, true), note: 'per-channel bias/prelu fused' },
  { name: 'DepthwiseConv2dNativeBackpropInput', run: convBackpropInput(true), note: 'dilations 1 (as tfjs)' },
  {
    name: 'DepthwiseConv2dNativeBackpropFilter',
    run: convBackpropFilter(true),
    note: 'dilations 1 (as tfjs)',
  },
  { name: 'MaxPool', run: pool(0), note: 'records the winners for MaxPoolGrad' },
  { name: 'AvgPool', run: pool(1) },
  { name: 'MaxPoolGrad', run: maxPoolGrad, note: 'uses the winners MaxPool recorded' },
  { name: 'AvgPoolGrad', run: avgPoolGrad },
];
