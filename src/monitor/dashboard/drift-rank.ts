/**
 * Ranking features by drift across methods. A p-value test and a distance have opposite directions
 * and different scales, so each score is turned into its distance past the threshold: 1 at the
 * threshold, above 1 drifted, below 1 not.
 */
import type { DriftReport, FeatureDrift } from '../types.js';
import type { DriftFeatureRow, DriftSummary } from './api-types.js';
import { num } from './http.js';

/** The smallest p-value ranked apart from zero (a p-value of 0 is as drifted as it gets). */
const MIN_P = 1e-300;

export function severity(f: FeatureDrift): number | null {
  if (!Number.isFinite(f.score) || !Number.isFinite(f.threshold) || f.threshold <= 0) return null;
  if (f.pValue !== null) {
    // log(p)/log(alpha): both logs negative for alpha < 1, larger as p gets smaller.
    if (f.threshold >= 1) return null;
    const s = Math.log(Math.max(f.score, MIN_P)) / Math.log(f.threshold);
    return s === 0 ? 0 : s; // p = 1 gives -0
  }
  return f.score / f.threshold;
}

function row(f: FeatureDrift): DriftFeatureRow {
  return {
    feature: f.feature,
    kind: f.kind,
    method: f.method,
    score: num(f.score),
    pValue: num(f.pValue),
    statistic: num(f.statistic),
    threshold: f.threshold,
    drifted: f.drifted,
    psi: num(f.psi),
    severity: num(severity(f)),
  };
}

/** Drifted features first, then by severity, then by name, so the order is stable between polls. */
export function compareRows(a: DriftFeatureRow, b: DriftFeatureRow): number {
  if (a.drifted !== b.drifted) return a.drifted ? -1 : 1;
  const sa = a.severity ?? -Infinity;
  const sb = b.severity ?? -Infinity;
  if (sa !== sb) return sb - sa;
  return a.feature < b.feature ? -1 : a.feature > b.feature ? 1 : 0;
}

/** The report without histograms: the `top` most drifted features, and every feature's severity. */
export function summarizeDrift(report: DriftReport, top: number): DriftSummary {
  const rows = report.features.map(row);
  const ranked = [...rows].sort(compareRows);
  return {
    version: report.version,
    windowStart: report.windowStart,
    windowEnd: report.windowEnd,
    referenceRows: report.referenceRows,
    currentRows: report.currentRows,
    driftShare: report.driftShare,
    datasetDrift: report.datasetDrift,
    correction: report.correction,
    computedAt: report.computedAt,
    featureCount: rows.length,
    driftedCount: rows.filter((r) => r.drifted).length,
    features: ranked.slice(0, top),
    severities: rows.map((r) => r.severity),
    featureNames: rows.map((r) => r.feature),
    skipped: report.skipped ?? [],
    prediction: report.prediction,
  };
}
