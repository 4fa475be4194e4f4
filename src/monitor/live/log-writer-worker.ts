/**
 * The prediction log writer thread (see log-writer.ts): opens the store given in `workerData.uri`,
 * announces itself, then runs the requests it is sent, one at a time in order, answering each.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ModelautoError } from '../../core/errors.js';
import { openPredictionLog } from '../../store/prediction-log-open.js';
import type { PredictionLog } from '../../store/prediction-log.js';
import type { WriterReply, WriterRequest } from './log-writer.js';
import { unpackRecords } from './packed-records.js';

const port = parentPort;
if (!port) throw new Error('log-writer-worker.ts runs as a worker thread');

function describe(e: unknown): { error: string; code: string } {
  return {
    error: e instanceof Error ? e.message : String(e),
    code: e instanceof ModelautoError ? e.code : 'STORE',
  };
}

let log: PredictionLog;
try {
  log = await openPredictionLog((workerData as { uri: string }).uri);
  port.postMessage({ kind: 'ready', location: log.location } satisfies WriterReply);
} catch (e) {
  port.postMessage({ kind: 'failed', id: null, ...describe(e) } satisfies WriterReply);
  process.exit(1);
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (request: WriterRequest) => {
  queue = queue.then(async () => {
    try {
      let result: number | null = null;
      let values: ArrayBuffer | undefined;
      if (request.op === 'append') await log.append(request.records);
      else if (request.op === 'appendPacked') {
        await log.append(unpackRecords(request.packed, request.maxValues));
        // The buffer goes back to the server thread, to be filled again.
        values = request.packed.values.buffer as ArrayBuffer;
      } else if (request.op === 'prune') result = await log.prune(request.limits);
      else await log.close();
      const reply: WriterReply = { kind: 'done', id: request.id, result, ...(values ? { values } : {}) };
      port.postMessage(reply, values ? [values] : []);
    } catch (e) {
      port.postMessage({ kind: 'failed', id: request.id, ...describe(e) } satisfies WriterReply);
    }
  });
});
