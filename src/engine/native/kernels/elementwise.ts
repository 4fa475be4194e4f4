import { broadcastShapes, broadcastStrides, coalesce, sameShape } from '../broadcast.js';
import { f32, sizeOf } from '../cpu-data.js';
import { numAttr, outF32, type NativeCall, type NativeKernel, type NativeResult } from '../kernel.js';

const MAX_RANK = 8;

/** Codes shared with native/src/elementwise.h. */
const BINARY: Readonly<Record<string, number>> = {
  Add: 0,
  Sub: 1,
  Multiply: 2,
  RealDiv: 3,
  Maximum: 4,
  Minimum: 5,
  SquaredDifference: 6,
  Pow: 7,
  Prelu: 8,
};
const COMPARE: Readonly<Record<string, number>> = {
  Equal: 0,
  NotEqual: 1,
  Less: 2,
  LessEqual: 3,
  Greater: 4,
  GreaterEqual: 5,
};
/** Unary kernels: op code and how to read tfjs's attributes into the two numeric arguments. */
const UNARY: Readonly<Record<string, { code: number; args?: (c: NativeCall) => [number, number] | string }>> =
  {
    Abs: { code: 0 },
    Neg: { code: 1 },
    Square: { code: 2 },
    Sqrt: { code: 3 },
    Rsqrt: { code: 4 },
    Reciprocal: { code: 5 },
    Exp: { code: 6 },
    Expm1: { code: 7 },
    Log: { code: 8 },
    Log1p: { code: 9 },
    Relu: { code: 10 },
    Relu6: { code: 11 },
    Elu: { code: 12 },
    Selu: { code: 13 },
    LeakyRelu: { code: 14, args: (c) => attrPair(c, 'alpha') },
    Sigmoid: { code: 15 },
    Tanh: { code: 16 },
    Softplus: { code: 17 },
    Step: { code: 18, args: (c) => attrPair(c, 'alpha') },
    Sign: { code: 19 },
    Floor: { code: 20 },
    Ceil: { code: 21 },
    Round: { code: 22 },
    ClipByValue: {
      code: 23,
      args: (c) => {
        const lo = numAttr(c.attrs, 'clipValueMin');
        const hi = numAttr(c.attrs, 'clipValueMax');
        return lo === undefined || hi === undefined ? 'clip bounds missing' : [lo, hi];
      },
    },
    Sin: { code: 24 },
    Cos: { code: 25 },
    Erf: { code: 26 },
  };

function attrPair(c: NativeCall, name: string): [number, number] | string {
  const v = numAttr(c.attrs, name);
  return v === undefined ? `attribute ${name} missing` : [v, 0];
}

/** Broadcast geometry for the addon: [rank, shape..., a strides..., b strides...]. */
export function broadcastParams(
  aShape: readonly number[],
  bShape: readonly number[],
): { outShape: number[]; params: Float64Array } | string {
  const outShape = broadcastShapes(aShape, bShape);
  if (!outShape) return 'shapes do not broadcast';
  const merged = coalesce(outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)]);
  const rank = merged.shape.length;
  if (rank > MAX_RANK) return `rank ${rank} > ${MAX_RANK} after merging axes`;
  const params = new Float64Array(1 + 3 * rank);
  params[0] = rank;
  const [sa = [], sb = []] = merged.strides;
  for (let d = 0; d < rank; d++) {
    params[1 + d] = merged.shape[d] ?? 1;
    params[1 + rank + d] = sa[d] ?? 0;
    params[1 + 2 * rank + d] = sb[d] ?? 0;
  }
  return { outShape, params };
}

function binary(name: string, code: number, compare: boolean, aName = 'a', bName = 'b'): NativeKernel {
  return {
    name,
    run: ({ inputs, backend, addon }): NativeResult => {
      const a = inputs[aName];
      const b = inputs[bName];
      const av = f32(backend, a);
      const bv = f32(backend, b);
      if (!a || !b || !av || !bv) return 'inputs are not float32';
      const geom = broadcastParams(a.shape, b.shape);
      if (typeof geom === 'string') return geom;
      const n = sizeOf(geom.outShape);
      if (compare) {
        const out = new Uint8Array(n);
        if (n > 0) addon.compare(code, av, bv, out, geom.params);
        return backend.makeTensorInfo(geom.outShape, 'bool', out);
      }
      const out = outF32(n);
      if (n > 0) addon.binary(code, av, bv, out, geom.params);
      return backend.makeTensorInfo(geom.outShape, 'float32', out);
    },
  };
}

function unary(
  name: string,
  spec: { code: number; args?: (c: NativeCall) => [number, number] | string },
): NativeKernel {
  return {
    name,
    run: (call): NativeResult => {
      const x = call.inputs['x'];
      const xv = f32(call.backend, x);
      if (!x || !xv) return 'input is not float32';
      const args = spec.args ? spec.args(call) : ([0, 0] as [number, number]);
      if (typeof args === 'string') return args;
      const out = outF32(xv.length);
      if (xv.length > 0) call.addon.unary(spec.code, xv, out, args[0], args[1]);
      return call.backend.makeTensorInfo(x.shape.slice(), 'float32', out);
    },
  };
}

const addN: NativeKernel = {
  name: 'AddN',
  run: ({ inputs, backend, addon }): NativeResult => {
    const list = Object.values(inputs);
    const first = list[0];
    if (!first) return 'no inputs';
    const arrays: Float32Array[] = [];
    for (const t of list) {
      const v = f32(backend, t);
      if (!t || !v || !sameShape(t.shape, first.shape)) return 'inputs are not float32 of one shape';
      arrays.push(v);
    }
    const out = outF32(sizeOf(first.shape));
    if (out.length > 0) addon.addN(arrays, out);
    return backend.makeTensorInfo(first.shape.slice(), 'float32', out);
  },
};

const select: NativeKernel = {
  name: 'Select',
  note: 'condition of the same shape as t/e',
  run: ({ inputs, backend, addon }): NativeResult => {
    const { condition, t, e } = inputs;
    const tv = f32(backend, t);
    const ev = f32(backend, e);
    const cv = condition?.dtype === 'bool' ? backend.data.get(condition.dataId)?.values : undefined;
    if (!condition || !t || !e || !tv || !ev || !(cv instanceof Uint8Array))
      return 'not bool/float32/float32';
    if (!sameShape(condition.shape, t.shape) || !sameShape(t.shape, e.shape)) return 'condition is broadcast';
    const out = outF32(tv.length);
    if (out.length > 0) addon.select(cv, tv, ev, out);
    return backend.makeTensorInfo(t.shape.slice(), 'float32', out);
  },
};

const eluGrad: NativeKernel = {
  name: 'EluGrad',
  run: ({ inputs, backend, addon }): NativeResult => {
    const { dy, y } = inputs;
    const dv = f32(backend, dy);
    const yv = f32(backend, y);
    if (!dy || !y || !dv || !yv || dv.length !== yv.length) return 'inputs are not float32 of one shape';
    const out = outF32(yv.length);
    if (out.length > 0) addon.eluGrad(dv, yv, out);
    return backend.makeTensorInfo(y.shape.slice(), 'float32', out);
  },
};

export const elementwiseKernels: NativeKernel[] = [
  ...Object.entries(BINARY).map(([name, code]) =>
    name === 'Prelu' ? binary(name, code, false, 'x', 'alpha') : binary(name, code, false),
  ),
  ...Object.entries(COMPARE).map(([name, code]) => binary(name, code, true)),
  ...Object.entries(UNARY).map(([name, spec]) => unary(name, spec)),
  addN,
  select,
  eluGrad,
];
