/**
 * What the server needs from an inference engine: the input and output tensors, and a call that runs
 * one batch. onnxruntime-node serves versions that have an ONNX export; tfjs serves the others. The
 * batcher, the protocols and the model manager see only this interface.
 */
export type RuntimeDtype = 'float32' | 'string';

export interface RuntimeTensorInfo {
  name: string;
  type: RuntimeDtype;
  /** null: any size (the batch). */
  shape: (number | null)[];
}

export type RuntimeTensor =
  | { type: 'float32'; data: Float32Array; dims: number[] }
  | { type: 'string'; data: string[]; dims: number[] };

export interface RuntimeOutput {
  data: Float32Array;
  dims: number[];
}

export type RuntimeOutputs = Record<string, RuntimeOutput>;

export interface ModelRuntime {
  readonly kind: 'onnxruntime' | 'tfjs';
  readonly inputs: readonly RuntimeTensorInfo[];
  readonly outputs: readonly RuntimeTensorInfo[];
  /** Runs one batch: every feed has the same first dimension; every output is float32. */
  run(feeds: Record<string, RuntimeTensor>): Promise<RuntimeOutputs>;
  /** Frees the session or model; the runtime is unusable afterwards. */
  release(): Promise<void>;
}

/** Values per sample of a tensor shape whose first dimension is the batch. */
export function sampleSize(shape: readonly (number | null)[]): number {
  let size = 1;
  for (let d = 1; d < shape.length; d++) size *= shape[d] ?? 1;
  return size;
}
