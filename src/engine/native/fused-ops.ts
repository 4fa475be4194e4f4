import * as tf from '@tensorflow/tfjs';
import { RELU_GRAD } from './kernels/relu-grad.js';

/**
 * tf.fused.matMul (what every tfjs-layers Dense layer calls) for the training step. While a
 * gradient is being recorded, tfjs fuses only linear activations: a Dense layer with relu runs
 * as MatMul, Add and Relu, three kernels whose dispatch, tape entries and saved-tensor clones
 * cost more than the bias add and relu themselves; a linear one runs through customGrad with
 * four reshapes to and from rank 3. For the plain case (rank-2 float32 operands, a bias per
 * output column, linear or relu) this records the one _FusedMatMul kernel on the tape instead,
 * with the gradient below, which computes exactly what tfjs's fused gradient computes (and only
 * the input gradients the tape asks for). The native _FusedMatMul adds the bias and applies the
 * activation to the finished product, as the unfused kernels do. Every other call, and every
 * call when the native kernels are not installed, goes to tfjs's implementation.
 */

const FUSED_MATMUL = '_FusedMatMul';

type FusedMatMulArgs = Parameters<typeof tf.fused.matMul>[0];
type FusedMatMul = typeof tf.fused.matMul;

let original: FusedMatMul | undefined;

/** The fused kernel registered for the cpu backend is ours (not tfjs's JS one). */
let nativeKernelActive: () => boolean = () => false;

function eligible(args: FusedMatMulArgs): args is FusedMatMulArgs & { a: tf.Tensor2D; b: tf.Tensor2D } {
  const { a, b, bias, activation, preluActivationWeights } = args;
  if (!(a instanceof tf.Tensor) || !(b instanceof tf.Tensor)) return false;
  if (a.rank !== 2 || b.rank !== 2 || a.dtype !== 'float32' || b.dtype !== 'float32') return false;
  if (activation !== undefined && activation !== 'linear' && activation !== 'relu') return false;
  if (preluActivationWeights !== undefined && preluActivationWeights !== null) return false;
  if (bias !== undefined && bias !== null) {
    const n = args.transposeB ? b.shape[0] : b.shape[1];
    if (!(bias instanceof tf.Tensor) || bias.dtype !== 'float32' || bias.rank !== 1 || bias.shape[0] !== n)
      return false;
  }
  const k1 = args.transposeA ? a.shape[0] : a.shape[1];
  const k2 = args.transposeB ? b.shape[1] : b.shape[0];
  return k1 === k2 && tf.getBackend() === 'cpu' && nativeKernelActive();
}

function fusedMatMul(args: FusedMatMulArgs): tf.Tensor {
  const orig = original;
  if (!orig) throw new Error('fused matMul override is not installed');
  if (!eligible(args)) return orig(args);
  const inputs: tf.NamedTensorMap = { a: args.a, b: args.b };
  if (args.bias instanceof tf.Tensor) inputs['bias'] = args.bias;
  const attrs = {
    transposeA: args.transposeA === true,
    transposeB: args.transposeB === true,
    activation: args.activation ?? 'linear',
    leakyreluAlpha: args.leakyreluAlpha ?? 0.2,
  };
  return tf.engine().runKernel(FUSED_MATMUL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** dy through the activation: relu's gradient is dy where the output is positive. */
function activationGrad(dy: tf.Tensor, y: tf.Tensor, activation: unknown): tf.Tensor {
  if (activation !== 'relu') return dy;
  // y > 0 exactly where the pre-activation is > 0, so the fused Relu gradient (which also sums
  // the columns for the bias gradient) applies to y as it does to the pre-activation.
  if (tf.getKernel(RELU_GRAD, 'cpu') !== undefined && tf.getBackend() === 'cpu')
    return tf.engine().runKernel(RELU_GRAD, { dy, x: y }, {}) as tf.Tensor;
  return tf.mul(dy, tf.step(y));
}

const gradConfig: tf.GradConfig = {
  kernelName: FUSED_MATMUL,
  inputsToSave: ['a', 'b'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [a, b, y] = saved;
    if (Array.isArray(dy) || !a || !b || !y)
      throw new Error(`${FUSED_MATMUL} gradient: unexpected arguments`);
    const { transposeA, transposeB, activation } = attrs as {
      transposeA?: boolean;
      transposeB?: boolean;
      activation?: string;
    };
    const d = activationGrad(dy, y, activation);
    // tfjs's fused matMul gradient, case by case
    return {
      a: () =>
        !transposeA
          ? tf.matMul(d, b, false, !transposeB)
          : transposeB
            ? tf.matMul(b, d, true, true)
            : tf.matMul(b, d, false, true),
      b: () =>
        !transposeB
          ? tf.matMul(a, d, !transposeA, false)
          : transposeA
            ? tf.matMul(d, a, true, true)
            : tf.matMul(d, a, true, false),
      bias: () => tf.sum(d, 0),
    };
  },
};

export function installFusedOps(isNativeActive: () => boolean): void {
  if (original) return;
  const fused = tf.fused as { matMul: FusedMatMul };
  if (tf.getGradient(FUSED_MATMUL) !== undefined) return; // someone else differentiates it: leave tfjs alone
  original = fused.matMul;
  nativeKernelActive = isNativeActive;
  tf.registerGradient(gradConfig);
  fused.matMul = fusedMatMul as FusedMatMul;
}

export function uninstallFusedOps(): void {
  if (!original) return;
  const fused = tf.fused as { matMul: FusedMatMul };
  // only undo our own replacement (something installed after us keeps its own)
  if (fused.matMul === (fusedMatMul as FusedMatMul)) fused.matMul = original;
  original = undefined;
  nativeKernelActive = () => false;
  if (tf.getGradient(FUSED_MATMUL) === gradConfig) tf.unregisterGradient(FUSED_MATMUL);
}
