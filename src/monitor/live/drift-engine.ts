/**
 * The drift statistics (src/monitor/drift) over the store: a version's reference is the raw training
 * sample (and profile) recorded with the run that made it, read from the version's artifacts; each
 * window is compared with `detectDrift`, its predicted classes against the training label counts.
 */
import { ModelautoError } from '../../core/errors.js';
import type { Stores } from '../../store/open.js';
import { detectDrift, type PredictionCounts } from '../drift/detect.js';
import { loadDriftReference, type DriftReference } from '../drift/reference.js';
import type { DriftConfig } from './config.js';
import type { DriftEngine } from './drift-tracker.js';
import type { WindowSlice } from './input-window.js';
import { versionArtifacts } from './version-artifacts.js';

/** Training label counts against the window's predicted classes; null when either side has none. */
function predictionCounts(reference: DriftReference, current: WindowSlice): PredictionCounts | null {
  const label = reference.profile.label;
  if (label.kind !== 'classification') return null;
  const counted = new Map<string, number>();
  for (const p of current.predictions) if (p !== null) counted.set(p, (counted.get(p) ?? 0) + 1);
  if (counted.size === 0) return null;
  const ref = new Map(label.classes.map((c, i) => [c, label.counts[i] ?? 0]));
  if ([...ref.values()].every((n) => n === 0)) return null;
  return { reference: ref, current: counted };
}

export function storeDriftEngine(stores: Stores, config: DriftConfig): DriftEngine<DriftReference> {
  return {
    async reference(model, version) {
      const files = await versionArtifacts(stores, model, version);
      try {
        const reference = await loadDriftReference(
          async (name) => (files.has(name) ? files.read(name) : undefined),
          { allowProfileFallback: config.profileFallback },
        );
        return { reference };
      } catch (e) {
        // A version saved without a profile or sample has no reference: no drift, said once.
        if (e instanceof ModelautoError && e.code === 'NOT_FOUND') return { missing: e.message };
        throw e;
      }
    },
    detect(reference, current) {
      const predictions = predictionCounts(reference, current);
      return detectDrift(
        reference.data,
        current.data,
        { ...config.options, referenceRows: config.options.referenceRows ?? reference.referenceRows },
        predictions ?? undefined,
      );
    },
  };
}
