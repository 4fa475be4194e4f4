import { broadcastShapes, broadcastStrides, sameShape } from '../broadcast.js';
import { f32, sizeOf } from '../cpu-data.js';
import {
  ACTIVATIONS,
  boolAttr,
  numAttr,
  outF32,
  type NativeCall,
  type NativeKernel,
  type NativeResult,
} from '../kernel.js';

const HEADER = 14;
const PER_BATCH = 4;

interface Operand {
  values: Float32Array;
  shape: number[];
}

/** Absent, a scalar, or one value per output column (any leading 1s): broadcast over rows only. */
function perColumn(op: Operand | undefined, n: number): boolean {
  if (!op) return true;
  const size = sizeOf(op.shape);
  const last = op.shape[op.shape.length - 1] ?? 1;
  return size === 1 || (size === n && last === n);
}

/**
 * Batched matmul with an optional fused bias/activation epilogue. Batch axes broadcast the NumPy
 * way (tfjs's JS kernel indexes batches modulo their count, which agrees with broadcasting
 * whenever one side's batch shape is a suffix of the other's or has size 1).
 */
function matmul(call: NativeCall, fused: boolean): NativeResult {
  const { inputs, attrs, backend, addon } = call;
  const a = inputs['a'];
  const b = inputs['b'];
  const av = f32(backend, a);
  const bv = f32(backend, b);
  if (!a || !b || !av || !bv) return 'inputs are not float32';
  if (a.shape.length < 2 || b.shape.length < 2) return 'rank < 2';
  const transposeA = boolAttr(attrs, 'transposeA');
  const transposeB = boolAttr(attrs, 'transposeB');
  const ar = a.shape.length;
  const br = b.shape.length;
  const aRows = a.shape[ar - 2] ?? 0;
  const aCols = a.shape[ar - 1] ?? 0;
  const bRows = b.shape[br - 2] ?? 0;
  const bCols = b.shape[br - 1] ?? 0;
  const M = transposeA ? aCols : aRows;
  const K = transposeA ? aRows : aCols;
  const K2 = transposeB ? bCols : bRows;
  const N = transposeB ? bRows : bCols;
  if (K !== K2) return 'inner dimensions differ';
  const batchShape = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (!batchShape) return 'batch dimensions do not broadcast';
  const outShape = [...batchShape, M, N];

  let act = 0;
  let alpha = 0;
  let bias: Operand | undefined;
  let prelu: Operand | undefined;
  if (fused) {
    const activation = attrs['activation'];
    if (activation !== undefined && activation !== null && activation !== '') {
      if (typeof activation !== 'string' || ACTIVATIONS[activation] === undefined)
        return `activation ${String(activation)}`;
      act = ACTIVATIONS[activation] ?? 0;
    }
    if (activation === 'leakyrelu') {
      const al = numAttr(attrs, 'leakyreluAlpha');
      if (al === undefined) return 'leakyrelu without leakyreluAlpha';
      alpha = al;
    }
    const biasInfo = inputs['bias'];
    if (biasInfo) {
      const values = f32(backend, biasInfo);
      if (!values) return 'bias is not float32';
      bias = { values, shape: biasInfo.shape };
    }
    if (activation === 'prelu') {
      const w = inputs['preluActivationWeights'];
      const values = f32(backend, w);
      if (!w || !values) return 'prelu weights are not float32';
      prelu = { values, shape: w.shape };
    }
    for (const op of [bias, prelu]) {
      if (op && !sameShape(broadcastShapes(outShape, op.shape) ?? [], outShape))
        return 'bias/prelu would enlarge the output';
    }
  }

  const out = outF32(sizeOf(outShape));
  const batch = sizeOf(batchShape);
  // The addon's parameter block: the product's shape and strides, then per-batch offsets.
  const header = (batches: number): Float64Array => {
    const p = new Float64Array(HEADER + batches * PER_BATCH);
    p[0] = batches;
    p[1] = M;
    p[2] = N;
    p[3] = K;
    p[4] = transposeA ? 1 : aCols;
    p[5] = transposeA ? aCols : 1;
    p[6] = transposeB ? 1 : bCols;
    p[7] = transposeB ? bCols : 1;
    p[8] = act;
    p[9] = alpha;
    return p;
  };
  if (out.length > 0 && batch === 1 && perColumn(bias, N) && perColumn(prelu, N)) {
    // The common case (one matrix product, a bias per output column): no stride bookkeeping,
    // which costs more than a small product itself.
    const p = header(1);
    p[11] = bias && sizeOf(bias.shape) > 1 ? 1 : 0;
    p[13] = prelu && sizeOf(prelu.shape) > 1 ? 1 : 0;
    addon.matmul(av, bv, out, p, bias?.values ?? null, prelu?.values ?? null);
    return backend.makeTensorInfo(outShape, 'float32', out);
  }
  if (out.length > 0) {
    const rank = outShape.length;
    const aStr = broadcastStrides(a.shape.slice(0, -2), batchShape).map((s) => s * aRows * aCols);
    const bStr = broadcastStrides(b.shape.slice(0, -2), batchShape).map((s) => s * bRows * bCols);
    const biasStr = bias ? broadcastStrides(bias.shape, outShape) : new Array<number>(rank).fill(0);
    const preluStr = prelu ? broadcastStrides(prelu.shape, outShape) : new Array<number>(rank).fill(0);
    const p = header(batch);
    p[10] = biasStr[rank - 2] ?? 0;
    p[11] = biasStr[rank - 1] ?? 0;
    p[12] = preluStr[rank - 2] ?? 0;
    p[13] = preluStr[rank - 1] ?? 0;
    const nb = batchShape.length;
    const idx = new Array<number>(nb).fill(0);
    for (let bi = 0; bi < batch; bi++) {
      let ao = 0;
      let bo = 0;
      let biasO = 0;
      let preluO = 0;
      for (let d = 0; d < nb; d++) {
        const i = idx[d] ?? 0;
        ao += i * (aStr[d] ?? 0);
        bo += i * (bStr[d] ?? 0);
        biasO += i * (biasStr[d] ?? 0);
        preluO += i * (preluStr[d] ?? 0);
      }
      const o = HEADER + bi * PER_BATCH;
      p[o] = ao;
      p[o + 1] = bo;
      p[o + 2] = biasO;
      p[o + 3] = preluO;
      for (let d = nb - 1; d >= 0; d--) {
        const next = (idx[d] ?? 0) + 1;
        if (next < (batchShape[d] ?? 1)) {
          idx[d] = next;
          break;
        }
        idx[d] = 0;
      }
    }
    addon.matmul(av, bv, out, p, bias?.values ?? null, prelu?.values ?? null);
  }
  return backend.makeTensorInfo(outShape, 'float32', out);
}

export const matmulKernels: NativeKernel[] = [
  { name: 'BatchMatMul', run: (call) => matmul(call, false) },
  {
    name: '_FusedMatMul',
    run: (call) => matmul(call, true),
    note: 'bias and activation (relu, relu6, elu, leakyrelu, prelu, sigmoid) fused into the GEMM',
  },
];
