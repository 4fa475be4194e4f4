/**
 * Prediction drift: the distribution of predicted classes in the current data against the class
 * distribution of the training labels. Same rule as a categorical column — chi-square goodness of fit
 * when the training set is small (<= autoReferenceLimit labels), Jensen-Shannon otherwise — with PSI.
 * It is reported on its own: not corrected with the columns and not counted in the drift share.
 */
import { ModelautoError } from '../../core/errors.js';
import type { FeatureDrift } from '../types.js';
import type { PredictionCounts } from './detect.js';
import { categoricalCountsDrift, type FeatureContext } from './feature.js';

export const PREDICTION_FEATURE = 'prediction';

function total(m: ReadonlyMap<string, number>, what: string): number {
  let s = 0;
  for (const [k, v] of m) {
    if (!(Number.isInteger(v) && v >= 0)) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `predictions.${what}: count of ${JSON.stringify(k)} is ${v}; expected a non-negative integer`,
      );
    }
    s += v;
  }
  return s;
}

export function predictionDrift(p: PredictionCounts, ctx: FeatureContext): FeatureDrift {
  const nr = total(p.reference, 'reference');
  const nc = total(p.current, 'current');
  if (nr === 0)
    throw new ModelautoError('INVALID_ARGUMENT', 'predictions.reference: no training labels to compare to');
  if (nc === 0)
    throw new ModelautoError('INVALID_ARGUMENT', 'predictions.current: no predictions in the current data');
  // keep only classes that occur, so an unused class does not add an empty bin
  const nonZero = (m: ReadonlyMap<string, number>) => new Map([...m].filter(([, v]) => v > 0));
  const o = ctx.options;
  const useTests = nr <= o.autoReferenceLimit;
  const method =
    o.predictionMethod === 'auto' ? (useTests ? 'chisquare' : 'jensenshannon') : o.predictionMethod;
  const f = categoricalCountsDrift(
    PREDICTION_FEATURE,
    'categorical',
    nonZero(p.reference),
    nonZero(p.current),
    { options: o, useTests },
    method,
  );
  return f;
}
