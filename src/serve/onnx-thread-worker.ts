/**
 * An inference thread: one onnxruntime session (OnnxModelRuntime), run on request; see onnx-thread.ts
 * for why. Outputs are copied out of onnxruntime's buffers into arrays of their own, which can be
 * transferred to the server's thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ModelautoError } from '../core/errors.js';
import { OnnxModelRuntime } from './onnx-runtime.js';
import type { OnnxThreadCall, OnnxThreadData, OnnxThreadReply } from './onnx-thread-protocol.js';
import type { RuntimeOutputs, RuntimeTensor } from './runtime.js';

const port = parentPort;
if (!port) throw new Error('onnx-thread-worker runs as a worker thread');
const data = workerData as OnnxThreadData;

const post = (reply: OnnxThreadReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);
const describe = (e: unknown) => ({
  error: e instanceof Error ? e.message : String(e),
  code: e instanceof ModelautoError ? e.code : 'INTERNAL',
});

let runtime: OnnxModelRuntime | undefined;
try {
  runtime = await OnnxModelRuntime.create(data.bytes, { threads: data.threads, source: data.source });
  post({ kind: 'ready', inputs: [...runtime.inputs], outputs: [...runtime.outputs] });
} catch (e) {
  post({ kind: 'refused', ...describe(e) });
}

port.on('message', (call: OnnxThreadCall) => {
  if (call.op === 'run') void run(call.id, call.feeds);
  else void release();
});

async function run(id: number, feeds: Record<string, RuntimeTensor>): Promise<void> {
  try {
    if (!runtime) throw new ModelautoError('UNAVAILABLE', 'the ONNX session was released');
    const result = await runtime.run(feeds);
    const outputs: RuntimeOutputs = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, t] of Object.entries(result)) {
      const copy = Float32Array.from(t.data);
      outputs[name] = { data: copy, dims: t.dims };
      transfer.push(copy.buffer);
    }
    post({ kind: 'result', id, outputs }, transfer);
  } catch (e) {
    post({ kind: 'failed', id, ...describe(e) });
  }
}

async function release(): Promise<void> {
  await runtime?.release().catch(() => undefined);
  runtime = undefined;
  post({ kind: 'released' });
  port?.close();
}
