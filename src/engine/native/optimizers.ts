import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from './addon.js';
import { adoptPooled, exclusiveValues, POOL_MIN_ELEMENTS } from './buffer-pool.js';
import { asCpuBackend, type CpuBackendLike } from './cpu-data.js';
import { nativeAddon } from './install.js';
import { outF32 } from './kernel.js';

/**
 * Optimizers whose update runs as one native call per variable, with the same float32 math, in
 * the same order, as tfjs's own (results are bit-identical, except that moments decaying below
 * 2^-126 are flushed to zero instead of crawling through float32's subnormal range, which costs
 * ~100x per operation; weights are unaffected, see native/src/denormals.h). They extend tfjs's
 * classes so `model.compile({optimizer})`, getWeights/setWeights and serialization work
 * unchanged; when the addon, the cpu backend or float32 data is missing they run tfjs's
 * implementation.
 *
 * Updates run in place when the buffer pool can vouch that nothing else observes a variable's
 * array (see exclusiveValues): a training step then neither allocates new weights and moments
 * nor pays tfjs's bookkeeping for three tensor creations and assigns per variable. The first
 * step (or any step after something took a reference, e.g. dataSync()) writes new arrays and
 * assigns them, as tfjs does; those arrays are registered so the next step can go in place.
 */

type Grads = Parameters<tf.AdamOptimizer['applyGradients']>[0];
type SgdGrads = Parameters<tf.SGDOptimizer['applyGradients']>[0];
type MomentumGrads = Parameters<tf.MomentumOptimizer['applyGradients']>[0];
interface OptimizerVariable {
  originalName: string;
  variable: tf.Variable;
}

/** tfjs declares these fields private; the subclass keeps them in the parent's layout. */
interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: OptimizerVariable[];
  accumulatedSecondMoment: OptimizerVariable[];
}
interface MomentumInternals {
  accumulations: OptimizerVariable[];
}

const f32 = Math.fround;

interface NativeContext {
  addon: NativeAddon;
  backend: CpuBackendLike;
}

function nativeContext(): NativeContext | undefined {
  if (tf.getBackend() !== 'cpu') return undefined;
  const addon = nativeAddon();
  const backend = asCpuBackend(tf.backend());
  return addon && backend ? { addon, backend } : undefined;
}

function values(ctx: NativeContext, t: tf.Tensor): Float32Array | undefined {
  if (t.dtype !== 'float32' || t.isDisposed) return undefined;
  const v = ctx.backend.data.get(t.dataId)?.values;
  return v instanceof Float32Array ? v : undefined;
}

function gradList(grads: Grads | SgdGrads): { name: string; tensor: tf.Tensor | undefined }[] {
  return Array.isArray(grads)
    ? grads.map((g) => ({ name: g.name, tensor: g.tensor }))
    : Object.keys(grads).map((name) => ({ name, tensor: grads[name] }));
}

function variableNamed(name: string): tf.Variable {
  const v = tf.engine().registeredVariables[name];
  if (!v) throw new Error(`optimizer: no registered variable named ${name}`);
  return v;
}

function slot(list: OptimizerVariable[], i: number, value: tf.Variable, suffix: string): tf.Variable {
  let entry = list[i];
  if (!entry) {
    entry = {
      originalName: `${value.name}/${suffix}`,
      variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
    };
    list[i] = entry;
  }
  return entry.variable;
}

/** Every (variable, gradient) pair is float32 on the cpu backend: otherwise use tfjs's update. */
function allFloat32(ctx: NativeContext, grads: Grads | SgdGrads): boolean {
  return gradList(grads).every(({ name, tensor }) => {
    if (!tensor) return true;
    const v = tf.engine().registeredVariables[name];
    return v !== undefined && values(ctx, v) !== undefined && values(ctx, tensor) !== undefined;
  });
}

function assignFrom(variable: tf.Variable, data: Float32Array): void {
  tf.tidy(() => variable.assign(tf.tensor(data, variable.shape, 'float32')));
}

/** A new array for a variable's next value, registered so later updates may go in place. */
function freshArray(n: number): Float32Array {
  // outF32 registers the large ones itself
  return n < POOL_MIN_ELEMENTS ? adoptPooled(new Float32Array(n), true) : outF32(n);
}

/**
 * The arrays an update writes for `vars`: their own when every one is exclusively ours (the
 * update then runs in place), else new arrays that `commit` assigns afterwards.
 */
function outputsFor(ctx: NativeContext, vars: tf.Variable[]): { arrays: Float32Array[]; commit: () => void } {
  const own = vars.map((v) => exclusiveValues(ctx.backend, v.dataId));
  if (own.every((a): a is Float32Array => a !== undefined)) {
    return { arrays: own, commit: () => undefined };
  }
  const arrays = vars.map((v) => freshArray(v.size));
  return { arrays, commit: () => vars.forEach((v, i) => assignFrom(v, arrays[i] as Float32Array)) };
}

/** A float32 scalar variable's value, read from the backend (dataSync would pin the array). */
function readScalar(ctx: NativeContext, v: tf.Variable): number {
  return values(ctx, v)?.[0] ?? v.dataSync()[0] ?? 0;
}

/** Sets a scalar variable, in place when only the variable can see its array. */
function writeScalar(ctx: NativeContext, v: tf.Variable, x: number): void {
  const own = exclusiveValues(ctx.backend, v.dataId);
  if (own && own.length === 1) {
    own[0] = x;
    return;
  }
  const a = freshArray(1);
  a[0] = x;
  assignFrom(v, a);
}

export class NativeAdamOptimizer extends tf.AdamOptimizer {
  /** Updates done natively / by tfjs's implementation (shown by diagnostics and tests). */
  readonly steps = { native: 0, js: 0 };

  constructor(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number) {
    // tfjs fills in the backend's epsilon when it is null
    super(learningRate, beta1, beta2, epsilon ?? (null as unknown as number));
  }

  /** AdamW's multiplicative weight decay applied before the Adam step (1 = none). */
  protected decayFactor(): number {
    return 1;
  }

  override applyGradients(grads: Grads): void {
    const ctx = nativeContext();
    if (!ctx || !allFloat32(ctx, grads)) {
      this.steps.js++;
      this.jsDecay(grads);
      super.applyGradients(grads);
      return;
    }
    this.steps.native++;
    const st = this as unknown as AdamInternals;
    const accB1 = readScalar(ctx, st.accBeta1);
    const accB2 = readScalar(ctx, st.accBeta2);
    const params = new Float64Array([
      f32(this.beta1),
      f32(1 - this.beta1),
      f32(this.beta2),
      f32(1 - this.beta2),
      f32(1 - accB1),
      f32(1 - accB2),
      f32(this.epsilon),
      f32(-this.learningRate),
      f32(this.decayFactor()),
    ]);
    gradList(grads).forEach(({ name, tensor }, i) => {
      const value = variableNamed(name);
      const m = slot(st.accumulatedFirstMoment, i, value, 'm');
      const v = slot(st.accumulatedSecondMoment, i, value, 'v');
      if (!tensor) return;
      const wv = values(ctx, value);
      const mv = values(ctx, m);
      const vv = values(ctx, v);
      const gv = values(ctx, tensor);
      if (!wv || !mv || !vv || !gv) throw new Error(`optimizer: ${name} lost its float32 data`);
      const out = outputsFor(ctx, [value, m, v]);
      const [nw, nm, nv] = out.arrays as [Float32Array, Float32Array, Float32Array];
      ctx.addon.adam(wv, mv, vv, gv, nw, nm, nv, params);
      out.commit();
    });
    writeScalar(ctx, st.accBeta1, f32(accB1 * f32(this.beta1)));
    writeScalar(ctx, st.accBeta2, f32(accB2 * f32(this.beta2)));
    this.incrementIterations();
  }

  /** The decay step of the JS path (AdamW), with the same rounding as the native one. */
  private jsDecay(grads: Grads): void {
    const d = this.decayFactor();
    if (d === 1) return;
    tf.tidy(() => {
      for (const { name, tensor } of gradList(grads)) {
        if (!tensor) continue;
        const value = variableNamed(name);
        value.assign(tf.mul(value, tf.scalar(f32(d))));
      }
    });
  }
}

/**
 * Adam with decoupled weight decay (Loshchilov & Hutter; PyTorch's and Keras' AdamW):
 * value *= 1 - learningRate * weightDecay, then the Adam step. tfjs has no AdamW.
 */
export class NativeAdamWOptimizer extends NativeAdamOptimizer {
  static override get className(): string {
    return 'AdamW';
  }

  constructor(
    learningRate = 0.001,
    beta1 = 0.9,
    beta2 = 0.999,
    epsilon?: number,
    readonly weightDecay = 0.01,
  ) {
    super(learningRate, beta1, beta2, epsilon);
  }

  protected override decayFactor(): number {
    return 1 - this.learningRate * this.weightDecay;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), weightDecay: this.weightDecay };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const num = (k: string, d: number): number => (typeof config[k] === 'number' ? (config[k] as number) : d);
    return new cls(
      num('learningRate', 0.001),
      num('beta1', 0.9),
      num('beta2', 0.999),
      num('epsilon', 1e-7),
      num('weightDecay', 0.01),
    );
  }
}
tf.serialization.registerClass(NativeAdamWOptimizer);

export class NativeSGDOptimizer extends tf.SGDOptimizer {
  readonly steps = { native: 0, js: 0 };

  override applyGradients(grads: SgdGrads): void {
    const ctx = nativeContext();
    if (!ctx || !allFloat32(ctx, grads)) {
      this.steps.js++;
      super.applyGradients(grads);
      return;
    }
    this.steps.native++;
    const negLr = f32(-this.learningRate);
    for (const { name, tensor } of gradList(grads)) {
      if (!tensor) continue;
      const value = variableNamed(name);
      const wv = values(ctx, value);
      const gv = values(ctx, tensor);
      if (!wv || !gv) throw new Error(`optimizer: ${name} lost its float32 data`);
      const out = outputsFor(ctx, [value]);
      const [nw] = out.arrays as [Float32Array];
      ctx.addon.sgd(wv, gv, nw, negLr);
      out.commit();
    }
    this.incrementIterations();
  }
}

export class NativeMomentumOptimizer extends tf.MomentumOptimizer {
  readonly steps = { native: 0, js: 0 };

  override applyGradients(grads: MomentumGrads): void {
    const ctx = nativeContext();
    // momentum and useNesterov are private in tfjs; getConfig() is their public view
    const config = this.getConfig();
    const momentum = Number(config['momentum']);
    const nesterov = config['useNesterov'] === true;
    if (!ctx || !allFloat32(ctx, grads)) {
      this.steps.js++;
      super.applyGradients(grads);
      return;
    }
    this.steps.native++;
    const st = this as unknown as MomentumInternals;
    const negLr = f32(-this.learningRate);
    gradList(grads).forEach(({ name, tensor }, i) => {
      const value = variableNamed(name);
      const acc = slot(st.accumulations, i, value, 'momentum');
      if (!tensor) return;
      const wv = values(ctx, value);
      const av = values(ctx, acc);
      const gv = values(ctx, tensor);
      if (!wv || !av || !gv) throw new Error(`optimizer: ${name} lost its float32 data`);
      const out = outputsFor(ctx, [value, acc]);
      const [nw, na] = out.arrays as [Float32Array, Float32Array];
      ctx.addon.momentum(wv, av, gv, nw, na, f32(momentum), negLr, nesterov);
      out.commit();
    });
    this.incrementIterations();
  }
}
