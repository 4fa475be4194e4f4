/**
 * Dataset drift: every selected column compared (feature.ts), p-values corrected for the number of
 * columns tested, the share of drifted columns against the dataset threshold, and optionally the
 * predicted-class distribution against the training labels. Batch reports and live windows both call
 * this; the live monitor fills in model, version and window afterwards.
 */
import { ModelautoError } from '../../core/errors.js';
import { listNames } from '../../data/values.js';
import { adjustPValues } from '../stats/correction.js';
import { populationStd } from '../stats/wasserstein.js';
import type { DriftReport, FeatureDrift } from '../types.js';
import { columnOrder, type ColumnarData } from './columnar.js';
import { categoricalDrift, numericDrift, presentSorted, type FeatureContext } from './feature.js';
import { parseDriftOptions, type DriftOptions, type DriftOptionsInput } from './options.js';
import { predictionDrift } from './prediction.js';

/** Predicted classes in the current window and the training label counts, by class name. */
export interface PredictionCounts {
  reference: Map<string, number>;
  current: Map<string, number>;
}

function invalid(message: string): ModelautoError {
  return new ModelautoError('INVALID_ARGUMENT', message);
}

function kindOf(data: ColumnarData, name: string): 'numeric' | 'categorical' | undefined {
  if (data.numeric.has(name)) return 'numeric';
  if (data.categorical.has(name)) return 'categorical';
  return undefined;
}

/** The columns to compare, checked against both samples. */
function selectColumns(reference: ColumnarData, current: ColumnarData, o: DriftOptions): string[] {
  const refNames = columnOrder(reference);
  const known = new Set(refNames);
  for (const [key, names] of [
    ['include', o.include ?? []],
    ['skip', o.skip],
  ] as const) {
    const unknown = names.filter((n) => !known.has(n));
    if (unknown.length > 0) {
      throw invalid(
        `drift.${key}: unknown column(s) ${listNames(unknown)}; the reference has: ${listNames(refNames)}`,
      );
    }
  }
  const skip = new Set(o.skip);
  const selected = (o.include ?? refNames).filter((n) => !skip.has(n));
  if (selected.length === 0) throw invalid('no columns left to compare (check drift.include and drift.skip)');
  const missing = selected.filter((n) => kindOf(current, n) === undefined);
  if (missing.length > 0) {
    throw invalid(`the current data lacks reference column(s) ${listNames(missing)}`);
  }
  const extra = columnOrder(current).filter((n) => !known.has(n) && !skip.has(n));
  if (extra.length > 0) {
    throw invalid(
      `the current data has column(s) the reference lacks: ${listNames(extra)} (list them in drift.skip to ignore them)`,
    );
  }
  for (const n of selected) {
    const rk = kindOf(reference, n);
    const ck = kindOf(current, n);
    if (rk !== ck) {
      throw invalid(`column ${JSON.stringify(n)} is ${rk} in the reference but ${ck} in the current data`);
    }
  }
  return selected;
}

/** With maxFeatures, keep the columns whose reference values spread most (ties in column order). */
function limitColumns(
  names: string[],
  reference: ColumnarData,
  max: number | undefined,
): { kept: string[]; dropped: string[] } {
  if (max === undefined || names.length <= max) return { kept: names, dropped: [] };
  const spread = names.map((n, i) => {
    const num = reference.numeric.get(n);
    let s: number;
    if (num) {
      const v = presentSorted(num);
      s = v.length > 0 ? populationStd(v) : -1;
    } else {
      s = new Set((reference.categorical.get(n) ?? []).filter((v) => v !== null)).size - 1;
    }
    return { n, i, s };
  });
  spread.sort((a, b) => b.s - a.s || a.i - b.i);
  const keep = new Set(spread.slice(0, max).map((x) => x.n));
  return { kept: names.filter((n) => keep.has(n)), dropped: names.filter((n) => !keep.has(n)) };
}

/**
 * Compares the current data to the reference column by column. Options are validated (zod) and default
 * to Evidently's rule (see options.ts). Model, version and window fields are null: a batch comparison
 * has none, and the live monitor fills them in.
 */
export function detectDrift(
  reference: ColumnarData,
  current: ColumnarData,
  options?: DriftOptionsInput,
  predictions?: PredictionCounts,
): DriftReport {
  const o = parseDriftOptions(options);
  if (reference.rows < o.minRows) {
    throw invalid(
      `the reference has ${reference.rows} rows; drift detection needs at least minRows = ${o.minRows}`,
    );
  }
  if (current.rows < o.minRows) {
    throw invalid(
      `the current data has ${current.rows} rows; drift detection needs at least minRows = ${o.minRows}`,
    );
  }
  const referenceRows = o.referenceRows ?? reference.rows;
  const ctx: FeatureContext = { options: o, useTests: referenceRows <= o.autoReferenceLimit };
  const { kept, dropped } = limitColumns(selectColumns(reference, current, o), reference, o.maxFeatures);
  const skipped = dropped.map((feature) => ({
    feature,
    reason: `beyond maxFeatures = ${o.maxFeatures} (smaller reference spread)`,
  }));

  const features: FeatureDrift[] = [];
  for (const name of kept) {
    const ref = reference.numeric.get(name);
    const r = ref
      ? numericDrift(name, ref, current.numeric.get(name) as Float64Array, ctx)
      : categoricalDrift(
          name,
          reference.categorical.get(name) as (string | null)[],
          current.categorical.get(name) as (string | null)[],
          ctx,
        );
    if ('skipped' in r) skipped.push({ feature: name, reason: r.skipped });
    else features.push(r);
  }
  if (features.length === 0) {
    throw invalid(
      `no column could be compared: ${skipped.map((s) => `${s.feature} (${s.reason})`).join('; ')}`,
    );
  }
  applyCorrection(features, o);
  const drifted = features.filter((f) => f.drifted).length;
  const driftShare = drifted / features.length;
  return {
    model: null,
    version: null,
    windowStart: null,
    windowEnd: null,
    referenceRows,
    currentRows: current.rows,
    features,
    prediction: predictions ? predictionDrift(predictions, ctx) : null,
    driftShare,
    datasetDrift: driftShare >= o.driftShare,
    correction: o.correction,
    computedAt: Date.now(),
    ...(skipped.length > 0 ? { skipped } : {}),
    ...(referenceRows !== reference.rows ? { referenceSampleRows: reference.rows } : {}),
  };
}

/** Replaces the p-values of the tested columns by corrected ones and decides those columns. */
function applyCorrection(features: FeatureDrift[], o: DriftOptions): void {
  const tested = features.filter((f) => f.pValue !== null);
  const adjusted = adjustPValues(
    tested.map((f) => f.pValue as number),
    o.correction,
  );
  tested.forEach((f, i) => {
    const p = adjusted[i] as number;
    f.pValue = p;
    f.score = p;
    f.drifted = p < f.threshold;
  });
}
