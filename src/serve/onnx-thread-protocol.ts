/**
 * The messages between the server's thread and an inference thread (onnx-thread.ts ↔
 * onnx-thread-worker.ts). Tensors travel as typed arrays, transferred rather than copied again.
 */
import type { RuntimeOutputs, RuntimeTensor, RuntimeTensorInfo } from './runtime.js';

/** What the worker is started with (workerData). */
export interface OnnxThreadData {
  bytes: Uint8Array;
  threads: number;
  source: string;
}

export type OnnxThreadCall =
  { op: 'run'; id: number; feeds: Record<string, RuntimeTensor> } | { op: 'release' };

export type OnnxThreadReply =
  | { kind: 'ready'; inputs: RuntimeTensorInfo[]; outputs: RuntimeTensorInfo[] }
  | { kind: 'refused'; error: string; code: string }
  | { kind: 'result'; id: number; outputs: RuntimeOutputs }
  | { kind: 'failed'; id: number; error: string; code: string }
  | { kind: 'released' };
