/**
 * The drift thread (see drift-thread.ts): keeps the references it is asked to load, computes the
 * reports it is asked for, one message at a time, in order.
 */
import { parentPort } from 'node:worker_threads';
import { ModelautoError } from '../../core/errors.js';
import { loadDriftReference, type DriftReference } from '../drift/reference.js';
import { detectWindow } from './drift-compute.js';
import type { ArtifactReply, DriftReply, DriftRequest } from './drift-thread.js';

const port = parentPort;
if (!port) throw new Error('drift-worker.ts runs as a worker thread');

const references = new Map<string, DriftReference>();
/** Artifact reads waiting for the server's answer. */
const reads = new Map<number, { resolve: (b: Uint8Array | undefined) => void; reject: (e: Error) => void }>();
let nextRead = 0;

function failure(id: number, e: unknown): DriftReply {
  return {
    kind: 'failed',
    id,
    error: e instanceof Error ? e.message : String(e),
    code: e instanceof ModelautoError ? e.code : 'INTERNAL',
  };
}

/** Reads an artifact of the version being loaded through the server (which has the store). */
function readArtifact(id: number, name: string): Promise<Uint8Array | undefined> {
  const read = nextRead++;
  return new Promise((resolve, reject) => {
    reads.set(read, { resolve, reject });
    port?.postMessage({ kind: 'read', id, read, name } satisfies DriftReply);
  });
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (m: DriftRequest | ArtifactReply) => {
  if (m.op === 'artifact') {
    // Answers go straight through: the load waiting for them holds the queue.
    const r = reads.get(m.read);
    reads.delete(m.read);
    if (m.error !== undefined) r?.reject(new ModelautoError('INVALID_DATA', m.error));
    else r?.resolve(m.bytes ?? undefined);
    return;
  }
  queue = queue.then(async () => {
    let reply: DriftReply;
    try {
      if (m.op === 'load') {
        const reference = await loadDriftReference((name) => readArtifact(m.id, name), {
          allowProfileFallback: m.allowProfileFallback,
        });
        references.set(m.key, reference);
        reply = { kind: 'loaded', id: m.id };
      } else if (m.op === 'detect') {
        const reference = references.get(m.key);
        if (!reference) throw new ModelautoError('INTERNAL', `no drift reference loaded for ${m.key}`);
        reply = { kind: 'report', id: m.id, report: detectWindow(reference, m.current, m.options) };
      } else {
        references.delete(m.key);
        reply = { kind: 'done', id: m.id };
      }
    } catch (e) {
      reply = failure(m.id, e);
    }
    port.postMessage(reply);
  });
});
