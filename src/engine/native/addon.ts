import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The compiled addon (native/ -> native/build/Release/modelauto_native.node). Integer parameters
 * travel in one Float64Array per call; every binding bounds-checks what it is given, so a
 * mistake here raises a RangeError rather than corrupting memory.
 */
export interface NativeAddonInfo {
  isa: string;
  avx2: boolean;
  avx512: boolean;
  threads: number;
  hardwareThreads: number;
  compiler: string;
}

/** Any typed array with 4-byte elements: data-movement kernels do not care about the dtype. */
export type Words = Float32Array | Int32Array;

export interface NativeAddon {
  info(): NativeAddonInfo;
  /** Tells glibc to keep freed memory for reuse; false where that does not apply. */
  tuneMalloc(): boolean;
  setThreads(n: number): number;
  /** 0 = best available, 1 = portable, 2 = AVX2; returns the GEMM micro-kernel now in use. */
  setIsaCap(cap: number): string;
  matmul(
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    params: Float64Array,
    bias: Float32Array | null,
    prelu: Float32Array | null,
  ): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, params: Float64Array): void;
  compare(op: number, a: Float32Array, b: Float32Array, out: Uint8Array, params: Float64Array): void;
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number, beta: number): void;
  addN(inputs: Float32Array[], out: Float32Array): void;
  select(condition: Uint8Array, t: Float32Array, e: Float32Array, out: Float32Array): void;
  eluGrad(dy: Float32Array, y: Float32Array, out: Float32Array): void;
  /** out = dy * step(x); with sums, also the sums of out over rows of `cols` elements. */
  reluGrad(
    dy: Float32Array,
    x: Float32Array,
    out: Float32Array,
    sums: Float32Array | null,
    cols: number,
  ): void;
  reduce(
    op: number,
    x: Float32Array,
    out: Float32Array | Int32Array,
    outer: number,
    reduced: number,
    inner: number,
  ): void;
  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number, log: boolean): void;
  /** Softmax gradient over rows of `cols`: out = dy * y - sum(dy * y) * y. */
  softmaxGrad(dy: Float32Array, y: Float32Array, out: Float32Array, rows: number, cols: number): void;
  /** tfjs-layers' categoricalCrossentropy of probabilities, one loss per row. */
  categoricalCrossentropy(
    target: Float32Array,
    output: Float32Array,
    loss: Float32Array,
    rows: number,
    cols: number,
    epsilon: number,
  ): void;
  /** Its gradient w.r.t. `output` for the per-row upstream gradient `dloss`. */
  categoricalCrossentropyGrad(
    dloss: Float32Array,
    target: Float32Array,
    output: Float32Array,
    grad: Float32Array,
    rows: number,
    cols: number,
    epsilon: number,
  ): void;
  transpose(x: Words, out: Words, params: Float64Array): void;
  /** False (nothing written) when an index is out of range. */
  gather(x: Words, indices: Int32Array, out: Words, params: Float64Array): boolean;
  /**
   * params: [beta1, 1-beta1, beta2, 1-beta2, 1-accBeta1, 1-accBeta2, epsilon, -lr, decay], all float32 values.
   * newValue/newM/newV may be value/m/v themselves (all three: an in-place update).
   */
  adam(
    value: Float32Array,
    m: Float32Array,
    v: Float32Array,
    grad: Float32Array,
    newValue: Float32Array,
    newM: Float32Array,
    newV: Float32Array,
    params: Float64Array,
  ): void;
  momentum(
    value: Float32Array,
    acc: Float32Array,
    grad: Float32Array,
    newValue: Float32Array,
    newAcc: Float32Array,
    momentum: number,
    negLr: number,
    nesterov: boolean,
  ): void;
  sgd(value: Float32Array, grad: Float32Array, newValue: Float32Array, negLr: number): void;
  /** Convolution geometry: see src/engine/native/kernels/conv.ts (geometry()). */
  conv2d(
    x: Float32Array,
    w: Float32Array,
    y: Float32Array,
    geom: Float64Array,
    bias: Float32Array | null,
    prelu: Float32Array | null,
  ): void;
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, geom: Float64Array): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geom: Float64Array): void;
  depthwiseConv2d(
    x: Float32Array,
    w: Float32Array,
    y: Float32Array,
    geom: Float64Array,
    bias: Float32Array | null,
    prelu: Float32Array | null,
  ): void;
  depthwiseBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, geom: Float64Array): void;
  depthwiseBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geom: Float64Array): void;
  /** kind 0 = max, 1 = average; for max, argmax receives each window's winner (-1: none). */
  pool(kind: number, x: Float32Array, y: Float32Array, geom: Float64Array, argmax?: Int8Array | null): void;
  maxPoolGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, geom: Float64Array): void;
  /** MaxPoolGrad from the winners pool() recorded. */
  maxPoolGradArgmax(dy: Float32Array, argmax: Int8Array, dx: Float32Array, geom: Float64Array): void;
  avgPoolGrad(dy: Float32Array, dx: Float32Array, geom: Float64Array): void;
}

const REQUIRED: readonly (keyof NativeAddon)[] = [
  'info',
  'setThreads',
  'setIsaCap',
  'tuneMalloc',
  'matmul',
  'binary',
  'compare',
  'unary',
  'addN',
  'select',
  'eluGrad',
  'reluGrad',
  'reduce',
  'softmax',
  'softmaxGrad',
  'categoricalCrossentropy',
  'categoricalCrossentropyGrad',
  'transpose',
  'gather',
  'adam',
  'momentum',
  'sgd',
  'conv2d',
  'conv2dBackpropInput',
  'conv2dBackpropFilter',
  'depthwiseConv2d',
  'depthwiseBackpropInput',
  'depthwiseBackpropFilter',
  'pool',
  'maxPoolGrad',
  'maxPoolGradArgmax',
  'avgPoolGrad',
];

export type AddonLoad = { ok: true; addon: NativeAddon; path: string } | { ok: false; reason: string };

let cached: AddonLoad | undefined;

/** The package root: the nearest ancestor with a package.json named "modelauto" (src/ or dist/). */
export function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const parsed: unknown = JSON.parse(readFileSync(pkg, 'utf8'));
        if (
          typeof parsed === 'object' &&
          parsed !== null &&
          (parsed as { name?: unknown }).name === 'modelauto'
        ) {
          return dir;
        }
      } catch {
        // an unreadable package.json on the way up is not ours; keep looking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function addonPath(): string | undefined {
  const root = packageRoot();
  return root === undefined ? undefined : join(root, 'native', 'build', 'Release', 'modelauto_native.node');
}

function isAddon(value: unknown): value is NativeAddon {
  if (typeof value !== 'object' || value === null) return false;
  const rec = value as Record<string, unknown>;
  return REQUIRED.every((name) => typeof rec[name] === 'function');
}

/** Loads the addon once; never throws. `MODELAUTO_NATIVE=0` turns the native kernels off. */
export function loadAddon(): AddonLoad {
  if (cached) return cached;
  cached = tryLoad();
  return cached;
}

function tryLoad(): AddonLoad {
  const flag = process.env['MODELAUTO_NATIVE'];
  if (flag === '0' || flag === 'off' || flag === 'false') {
    return { ok: false, reason: `disabled by MODELAUTO_NATIVE=${flag}` };
  }
  const path = addonPath();
  if (path === undefined) return { ok: false, reason: 'cannot locate the modelauto package root' };
  if (!existsSync(path)) {
    return {
      ok: false,
      reason: `addon not built (${path} is missing; run "node scripts/build-native.mjs --verbose" to see why)`,
    };
  }
  let loaded: unknown;
  try {
    loaded = createRequire(import.meta.url)(path);
  } catch (err) {
    return { ok: false, reason: `addon failed to load: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!isAddon(loaded)) {
    const rec = (typeof loaded === 'object' && loaded !== null ? loaded : {}) as Record<string, unknown>;
    const missing = REQUIRED.filter((name) => typeof rec[name] !== 'function');
    return {
      ok: false,
      reason: `addon is out of date (missing ${missing.join(', ')}); rebuild with "node scripts/build-native.mjs"`,
    };
  }
  return { ok: true, addon: loaded, path };
}
