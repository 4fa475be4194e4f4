import * as tf from '@tensorflow/tfjs';
import { sameShape } from './broadcast.js';
import { CATEGORICAL_CROSSENTROPY, CATEGORICAL_CROSSENTROPY_GRAD, SOFTMAX_GRAD } from './kernels/loss.js';
import { RELU_GRAD } from './kernels/relu-grad.js';

/**
 * Gradient overrides that call fused native kernels. tfjs's gradient registry is global (not per
 * backend), so each override checks, per call, that the fused kernel is registered for the
 * active backend and its inputs are float32; otherwise it runs tfjs's own gradient. Uninstalling
 * the native kernels puts tfjs's gradients back.
 */

let originalRelu: tf.GradConfig | undefined;
let originalSoftmax: tf.GradConfig | undefined;

/** True when the fused kernel can take this call. */
function fusedAvailable(...tensors: tf.Tensor[]): boolean {
  return kernelAvailable(RELU_GRAD, ...tensors);
}

function kernelAvailable(kernel: string, ...tensors: tf.Tensor[]): boolean {
  return (
    tensors.every((t) => t.dtype === 'float32') &&
    tf.getBackend() === 'cpu' &&
    tf.getKernel(kernel, 'cpu') !== undefined
  );
}

/** The softmax gradient in tfjs's ops: dy * y - sum(dy * y) * y over the last axis. */
function softmaxGradOps(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  const dyTimesY = tf.mul(dy, y);
  return tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, -1, true), y));
}

function reluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel(RELU_GRAD, { dy, x }, {}) as tf.Tensor;
}

function installReluOverride(): void {
  if (originalRelu) return;
  const relu = tf.getGradient('Relu');
  if (!relu) return;
  originalRelu = relu;
  tf.registerGradient({
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      if (!Array.isArray(dy) && x && sameShape(dy.shape, x.shape) && fusedAvailable(dy, x)) {
        return { x: () => reluGrad(dy, x) };
      }
      return relu.gradFunc(dy, saved, attrs);
    },
  });
  // Second-order gradients through the fused kernel: d/d(dy) is the same mask, and the step
  // function has a zero derivative (as tfjs's Step gradient says).
  tf.registerGradient({
    kernelName: RELU_GRAD,
    inputsToSave: ['x'],
    gradFunc: (ddy, saved) => {
      const [x] = saved;
      if (Array.isArray(ddy) || !x) throw new Error(`${RELU_GRAD} gradient: unexpected arguments`);
      return {
        dy: () => (fusedAvailable(ddy, x) ? reluGrad(ddy, x) : tf.mul(ddy, tf.step(x))),
        x: () => tf.zerosLike(x),
      };
    },
  });
}

function installSoftmaxOverride(): void {
  if (originalSoftmax) return;
  const softmax = tf.getGradient('Softmax');
  if (!softmax) return;
  originalSoftmax = softmax;
  tf.registerGradient({
    kernelName: 'Softmax',
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [y] = saved;
      const dim = (attrs as { dim?: unknown }).dim;
      const lastAxis = y !== undefined && (dim === -1 || dim === y.rank - 1);
      if (
        !Array.isArray(dy) &&
        y &&
        lastAxis &&
        sameShape(dy.shape, y.shape) &&
        kernelAvailable(SOFTMAX_GRAD, dy, y)
      ) {
        return { logits: () => tf.engine().runKernel(SOFTMAX_GRAD, { dy, y }, {}) as tf.Tensor };
      }
      return softmax.gradFunc(dy, saved, attrs);
    },
  });
  // Second-order gradients: with S = sum(dy * y), out = y * (dy - S), so for an upstream g,
  // d/d(dy) = y * (g - sum(g * y)) and d/dy = g * (dy - S) - dy * sum(g * y).
  tf.registerGradient({
    kernelName: SOFTMAX_GRAD,
    inputsToSave: ['dy', 'y'],
    gradFunc: (g, saved) => {
      const [dy, y] = saved;
      if (Array.isArray(g) || !dy || !y) throw new Error(`${SOFTMAX_GRAD} gradient: unexpected arguments`);
      return {
        dy: () => softmaxGradOps(g, y),
        y: () => {
          const s = tf.sum(tf.mul(dy, y), -1, true);
          const gy = tf.sum(tf.mul(g, y), -1, true);
          return tf.sub(tf.mul(g, tf.sub(dy, s)), tf.mul(dy, gy));
        },
      };
    },
  });
}

/**
 * The gradients of the fused categoricalCrossentropy (../losses.ts): w.r.t. the predictions by
 * the fused kernel, w.r.t. the targets (rarely needed: they are data) by tfjs's ops, as
 * -dy * log(clip(output / sum(output))).
 */
function installCrossentropyGradient(): void {
  tf.registerGradient({
    kernelName: CATEGORICAL_CROSSENTROPY,
    inputsToSave: ['target', 'output'],
    gradFunc: (dy, saved, attrs) => {
      const [target, output] = saved;
      if (Array.isArray(dy) || !target || !output)
        throw new Error(`${CATEGORICAL_CROSSENTROPY} gradient: unexpected arguments`);
      const eps = (attrs as { epsilon?: unknown }).epsilon;
      if (typeof eps !== 'number') throw new Error(`${CATEGORICAL_CROSSENTROPY} gradient: no epsilon`);
      return {
        output: () =>
          tf
            .engine()
            .runKernel(CATEGORICAL_CROSSENTROPY_GRAD, { dy, target, output }, { epsilon: eps }) as tf.Tensor,
        target: () => {
          const p = tf.clipByValue(tf.div(output, tf.sum(output, -1, true)), eps, 1 - eps);
          return tf.mul(tf.expandDims(tf.neg(dy), -1), tf.log(p));
        },
      };
    },
  });
}

export function installGradientOverrides(): void {
  installReluOverride();
  installSoftmaxOverride();
  installCrossentropyGradient();
}

export function uninstallGradientOverrides(): void {
  if (originalSoftmax) {
    tf.registerGradient(originalSoftmax);
    originalSoftmax = undefined;
  }
  if (!originalRelu) return;
  tf.registerGradient(originalRelu);
  originalRelu = undefined;
}
