/**
 * tfjs as a serving runtime, for versions registered without an ONNX export: the layers model the run
 * saved, predicted with tfjs's CPU backend on the main thread. Slower than onnxruntime, but it serves
 * anything modelauto can train.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelautoError } from '../core/errors.js';
import type { ModelRuntime, RuntimeOutputs, RuntimeTensor, RuntimeTensorInfo } from './runtime.js';

export class TfjsModelRuntime implements ModelRuntime {
  readonly kind = 'tfjs' as const;
  readonly inputs: readonly RuntimeTensorInfo[];
  readonly outputs: readonly RuntimeTensorInfo[];
  private released = false;

  constructor(private readonly model: tf.LayersModel) {
    this.inputs = model.inputs.map((t) => ({
      name: t.sourceLayer.name,
      type: 'float32',
      shape: [...t.shape],
    }));
    // Output names as the ONNX exporter gives them, so a version serves the same signature on either runtime.
    this.outputs = model.outputs.map((t) => ({
      name: model.outputs.length === 1 ? 'output' : t.sourceLayer.name,
      type: 'float32',
      shape: [...t.shape],
    }));
    for (const t of model.inputs) {
      if (t.dtype !== 'float32') {
        throw new ModelautoError(
          'INVALID_DATA',
          `tfjs model input ${t.sourceLayer.name} is ${t.dtype}; the server feeds float32 tensors`,
        );
      }
    }
  }

  async run(feeds: Record<string, RuntimeTensor>): Promise<RuntimeOutputs> {
    if (this.released) throw new ModelautoError('UNAVAILABLE', 'the tfjs model was released');
    const results = tf.tidy(() => {
      const xs = this.inputs.map((info) => {
        const f = feeds[info.name];
        if (!f || f.type !== 'float32')
          throw new ModelautoError('INTERNAL', `missing float32 feed ${info.name}`);
        return tf.tensor(f.data, f.dims, 'float32');
      });
      const y = this.model.predict(xs.length === 1 ? (xs[0] as tf.Tensor) : xs);
      return Array.isArray(y) ? y : [y];
    });
    try {
      const out: RuntimeOutputs = {};
      this.outputs.forEach((o, i) => {
        const t = results[i] as tf.Tensor;
        out[o.name] = { data: t.dataSync() as Float32Array, dims: [...t.shape] };
      });
      return out;
    } finally {
      for (const t of results) t.dispose();
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.model.dispose();
  }
}
