/**
 * The drift statistics (src/monitor/drift) over the store: a version's reference is the raw training
 * sample (and profile) recorded with the run that made it, read from the version's artifacts; each
 * window is compared with `detectDrift` (drift-compute.ts), its predicted classes against the
 * training label counts.
 *
 * By default (`drift.compute: thread`) references live and reports are computed in a worker thread
 * (drift-thread.ts), so a drift run never stalls the server's requests; `inline` computes on the
 * server's thread. Both run the same code on the same values and give the same reports.
 */
import { ModelautoError } from '../../core/errors.js';
import type { Stores } from '../../store/open.js';
import { loadDriftReference, type DriftReference } from '../drift/reference.js';
import type { DriftConfig } from './config.js';
import { detectWindow } from './drift-compute.js';
import { DriftThread } from './drift-thread.js';
import type { DriftEngine } from './drift-tracker.js';
import { versionArtifacts } from './version-artifacts.js';

/** A version's reference: its key in the drift thread, or the reference itself (inline). */
export interface StoredReference {
  key: string;
  reference: DriftReference | null;
}

/** A version saved without a profile or sample has no reference: no drift, said once. */
function missing(e: unknown): { missing: string } {
  if (e instanceof ModelautoError && e.code === 'NOT_FOUND') return { missing: e.message };
  throw e;
}

export function storeDriftEngine(stores: Stores, config: DriftConfig): DriftEngine<StoredReference> {
  const thread = config.compute === 'thread' ? new DriftThread() : undefined;
  const options = { allowProfileFallback: config.profileFallback };
  return {
    async reference(model, version) {
      const files = await versionArtifacts(stores, model, version);
      const read = async (name: string) => (files.has(name) ? files.read(name) : undefined);
      const key = `${model}:${version}`;
      try {
        if (thread) {
          await thread.load(key, read, options.allowProfileFallback);
          return { reference: { key, reference: null } };
        }
        return { reference: { key, reference: await loadDriftReference(read, options) } };
      } catch (e) {
        return missing(e);
      }
    },
    detect(stored, current) {
      if (stored.reference) return detectWindow(stored.reference, current, config.options);
      if (!thread) throw new ModelautoError('INTERNAL', `no drift reference for ${stored.key}`);
      return thread.detect(stored.key, current, config.options);
    },
    forget(stored) {
      thread?.forget(stored.key);
    },
    async close() {
      await thread?.close();
    },
  };
}
