import * as tf from '@tensorflow/tfjs';
import { CATEGORICAL_CROSSENTROPY } from './kernels/loss.js';

/**
 * Fused training losses for tfjs-layers models. `compile({loss: 'categoricalCrossentropy'})`
 * makes tfjs compute the loss with 8 kernels forward and ~20 backward on [batch, classes]
 * tensors, which in a small model's step cost more in dispatch than the model's dense layers
 * (see kernels/loss.ts). While the native kernels are installed, LayersModel.compile is wrapped:
 * after tfjs's own compile, each output whose loss was given by that name computes it with one
 * fused kernel and one fused gradient instead. Same values within float32 rounding; what the
 * model reports (loss name, metrics, feedLossFns used to validate targets) is unchanged.
 * Per call, anything the kernel does not cover (another backend, float16, shapes that differ,
 * scalars) runs tfjs's original function.
 */

type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

interface CompilableModel {
  lossFunctions?: LossFn[];
  outputNames?: string[];
}

type Compile = (this: tf.LayersModel, args: tf.ModelCompileArgs) => void;

let originalCompile: Compile | undefined;
let wrappedCompile: Compile | undefined;

/** Marks our wrappers so a model compiled twice is not wrapped twice. */
const fusedFns = new WeakSet<LossFn>();

function canFuse(yTrue: tf.Tensor, yPred: tf.Tensor): boolean {
  return (
    tf.getBackend() === 'cpu' &&
    tf.getKernel(CATEGORICAL_CROSSENTROPY, 'cpu') !== undefined &&
    yPred.dtype === 'float32' &&
    (yTrue.dtype === 'float32' || yTrue.dtype === 'int32' || yTrue.dtype === 'bool') &&
    yPred.rank >= 1 &&
    yTrue.rank === yPred.rank &&
    yTrue.shape.every((d, i) => d === yPred.shape[i])
  );
}

function fusedCategoricalCrossentropy(original: LossFn): LossFn {
  const fn: LossFn = (yTrue, yPred) => {
    if (!canFuse(yTrue, yPred)) return original(yTrue, yPred);
    // tfjs-layers clips with its epsilon(), which is the backend's epsilon (1e-7 on cpu)
    const epsilon = tf.backend().epsilon();
    return tf
      .engine()
      .runKernel(CATEGORICAL_CROSSENTROPY, { target: yTrue, output: yPred }, { epsilon }) as tf.Tensor;
  };
  fusedFns.add(fn);
  return fn;
}

/** The loss name compile() was given for output i, if it was given by name. */
function lossName(loss: tf.ModelCompileArgs['loss'], i: number, outputNames: string[]): string | undefined {
  if (typeof loss === 'string') return loss;
  if (Array.isArray(loss)) {
    const l: unknown = loss[i];
    return typeof l === 'string' ? l : undefined;
  }
  if (typeof loss === 'object' && loss !== null) {
    const name = outputNames[i];
    const l: unknown = name === undefined ? undefined : (loss as Record<string, unknown>)[name];
    return typeof l === 'string' ? l : undefined;
  }
  return undefined;
}

function fuseLosses(model: CompilableModel, args: tf.ModelCompileArgs): void {
  const fns = model.lossFunctions;
  if (!Array.isArray(fns)) return;
  const names = model.outputNames ?? [];
  model.lossFunctions = fns.map((fn, i) =>
    lossName(args.loss, i, names) === 'categoricalCrossentropy' && !fusedFns.has(fn)
      ? fusedCategoricalCrossentropy(fn)
      : fn,
  );
}

export function installLossOverrides(): void {
  if (originalCompile) return;
  const proto = tf.LayersModel.prototype as unknown as { compile: Compile };
  const compile = proto.compile;
  originalCompile = compile;
  // tf.Sequential.compile delegates to an inner LayersModel's compile, so this covers both.
  wrappedCompile = function (this: tf.LayersModel, args: tf.ModelCompileArgs): void {
    compile.call(this, args);
    fuseLosses(this as unknown as CompilableModel, args);
  };
  proto.compile = wrappedCompile;
}

/** Restores tfjs's compile; models compiled meanwhile fall back per call once the kernel is gone. */
export function uninstallLossOverrides(): void {
  if (!originalCompile) return;
  const proto = tf.LayersModel.prototype as unknown as { compile: Compile };
  // only undo our own wrapper: if something wrapped compile after us, leave its wrapper alone
  if (proto.compile === wrappedCompile) proto.compile = originalCompile;
  originalCompile = undefined;
  wrappedCompile = undefined;
}
