/**
 * onnxruntime-node as a serving runtime: one InferenceSession per loaded version.
 *
 * onnxruntime-node runs a session on the calling thread, with `threads - 1` helper threads per operator,
 * so batches are what make the cost of a call pay off: one call per batch, not per request. With
 * `--inference-thread worker` the server runs it in an inference thread instead (onnx-thread.ts).
 */
import * as ort from 'onnxruntime-node';
import { ModelautoError } from '../core/errors.js';
import { createSession } from '../export/onnx/runtime.js';
import type { ModelRuntime, RuntimeOutputs, RuntimeTensor, RuntimeTensorInfo } from './runtime.js';

export class OnnxModelRuntime implements ModelRuntime {
  readonly kind = 'onnxruntime' as const;
  private released = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputs: readonly RuntimeTensorInfo[],
    readonly outputs: readonly RuntimeTensorInfo[],
  ) {}

  /** `source` names the model in error messages. */
  static async create(
    bytes: Uint8Array,
    options: { threads: number; source: string },
  ): Promise<OnnxModelRuntime> {
    const session = await createSession(bytes, { threads: options.threads });
    try {
      const inputs = session.inputMetadata.map((m) => info(m, options.source, 'input'));
      const outputs = session.outputMetadata.map((m) => info(m, options.source, 'output'));
      for (const o of outputs) {
        if (o.type !== 'float32') {
          throw new ModelautoError(
            'INVALID_DATA',
            `${options.source}: output ${o.name} is ${o.type}; the server serves float32 outputs`,
          );
        }
      }
      return new OnnxModelRuntime(session, inputs, outputs);
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  async run(feeds: Record<string, RuntimeTensor>): Promise<RuntimeOutputs> {
    if (this.released) throw new ModelautoError('UNAVAILABLE', 'the ONNX session was released');
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) {
      tensors[name] =
        f.type === 'string'
          ? new ort.Tensor('string', f.data, f.dims)
          : new ort.Tensor('float32', f.data, f.dims);
    }
    const result = await this.session.run(tensors);
    const out: RuntimeOutputs = {};
    for (const o of this.outputs) {
      const t = result[o.name];
      if (!t || !(t.data instanceof Float32Array)) {
        throw new ModelautoError('INTERNAL', `onnxruntime gave no float32 output ${o.name}`);
      }
      out[o.name] = { data: t.data, dims: [...t.dims] };
    }
    return out;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

function info(m: ort.InferenceSession.ValueMetadata, source: string, what: string): RuntimeTensorInfo {
  if (!m.isTensor) throw new ModelautoError('INVALID_DATA', `${source}: ${what} ${m.name} is not a tensor`);
  if (m.type !== 'float32' && m.type !== 'string') {
    throw new ModelautoError(
      'INVALID_DATA',
      `${source}: ${what} ${m.name} is ${m.type}; the server feeds float32 and string tensors`,
    );
  }
  return {
    name: m.name,
    type: m.type,
    shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : null)),
  };
}
