/**
 * One live drift computation: a window of a version's raw inputs against its training reference
 * (`detectDrift` of src/monitor/drift), its predicted classes against the training label counts. The
 * same function runs in the drift thread (drift-worker.ts) and inline, so both give the same report.
 */
import { detectDrift, type PredictionCounts } from '../drift/detect.js';
import type { DriftReference } from '../drift/reference.js';
import type { DriftReport } from '../types.js';
import type { DriftConfig } from './config.js';
import type { WindowSlice } from './input-window.js';

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

/** The options the computation reads: the drift statistics' own. */
export type DriftComputeOptions = DriftConfig['options'];

export function detectWindow(
  reference: DriftReference,
  current: WindowSlice,
  options: DriftComputeOptions,
): DriftReport {
  const predictions = predictionCounts(reference, current);
  return detectDrift(
    reference.data,
    current.data,
    { ...options, referenceRows: options.referenceRows ?? reference.referenceRows },
    predictions ?? undefined,
  );
}
