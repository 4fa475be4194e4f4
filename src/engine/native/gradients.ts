import * as tf from '@tensorflow/tfjs';
import { sameShape } from './broadcast.js';
import { RELU_GRAD } from './kernels/relu-grad.js';

/**
 * Gradient overrides that call fused native kernels. tfjs's gradient registry is global (not per
 * backend), so each override checks, per call, that the fused kernel is registered for the
 * active backend and its inputs are float32; otherwise it runs tfjs's own gradient. Uninstalling
 * the native kernels puts tfjs's gradients back.
 */

let originalRelu: tf.GradConfig | undefined;

/** True when the fused kernel can take this call. */
function fusedAvailable(...tensors: tf.Tensor[]): boolean {
  return (
    tensors.every((t) => t.dtype === 'float32') &&
    tf.getBackend() === 'cpu' &&
    tf.getKernel(RELU_GRAD, 'cpu') !== undefined
  );
}

function reluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel(RELU_GRAD, { dy, x }, {}) as tf.Tensor;
}

export function installGradientOverrides(): void {
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

export function uninstallGradientOverrides(): void {
  if (!originalRelu) return;
  tf.registerGradient(originalRelu);
  originalRelu = undefined;
}
