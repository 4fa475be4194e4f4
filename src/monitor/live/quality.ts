/**
 * Live quality per model version: accuracy and macro precision, recall and F1 of the labelled
 * predictions in a sliding window — the last `windowRows` labels, given within the last `windowAge`
 * (either bound may be off) — computed with the evaluation's metric code (src/metrics, scikit-learn
 * semantics). Macro averages run over the classes that occur in the window's labels or predictions
 * (scikit-learn's default without `labels`), so classes nobody has labelled yet do not count as zero;
 * an undefined ratio (a class predicted but never labelled) counts as 0, as zero_division=0 does.
 *
 * The windows are read from the prediction log, the one place every labeller writes to (this
 * server's feedback API, the CLI, other replicas), so every replica sees the same numbers.
 */
import { accuracyScore, precisionRecallFscoreSupport } from '../../metrics/index.js';
import type { LabelledPrediction, PredictionLog } from '../../store/prediction-log.js';
import type { QualityPoint } from '../types.js';
import type { QualityConfig } from './config.js';

/** Labels kept in memory per version at least (time windows and alert windows read from them). */
export const MIN_CACHED_LABELS = 10_000;

export interface QualityWindow {
  /** The newest `rows` labels (null: no count bound)... */
  rows: number | null;
  /** ...given within the last `ageMs` (null: no age bound). */
  ageMs: number | null;
}

/** Quality of labelled predictions at time `t`; null for an empty window. */
export function qualityOf(rows: readonly LabelledPrediction[], t: number): QualityPoint | null {
  if (rows.length === 0) return null;
  const yTrue = rows.map((r) => r.label);
  const yPred = rows.map((r) => r.predicted);
  const macro = precisionRecallFscoreSupport(yTrue, yPred, { average: 'macro', zeroDivision: 0 });
  return {
    t,
    n: rows.length,
    accuracy: accuracyScore(yTrue, yPred),
    precisionMacro: macro.precision,
    recallMacro: macro.recall,
    f1Macro: macro.fScore,
  };
}

/**
 * The labelled predictions of each served version, re-read from the log every `interval` (and after
 * feedback), so that any window's quality is computed without a database round trip: the configured
 * window for the series and /metrics, the alert rules' own windows on demand. A time window holds at
 * most `cacheRows` labels (the newest).
 */
export class QualityTracker {
  private readonly cache = new Map<string, LabelledPrediction[]>();
  private readonly series = new Map<string, QualityPoint[]>();

  constructor(
    private readonly log: PredictionLog,
    private readonly config: QualityConfig,
    readonly cacheRows: number = Math.max(MIN_CACHED_LABELS, config.windowRows ?? 0),
  ) {}

  get window(): QualityWindow {
    return { rows: this.config.windowRows, ageMs: this.config.windowAge };
  }

  /** Re-reads a version's labels, then appends its point over the configured window to its series. */
  async refresh(model: string, version: number, now: number): Promise<QualityPoint | null> {
    const key = `${model}:${version}`;
    this.cache.set(key, await this.log.labelled(model, { version, limit: this.cacheRows }));
    const point = this.value(model, version, this.window, now);
    if (point) {
      let list = this.series.get(key);
      if (!list) {
        list = [];
        this.series.set(key, list);
      }
      // A refresh at the same instant (feedback, then the timer) replaces the point.
      if (list.at(-1)?.t === now) list.pop();
      list.push(point);
      if (list.length > this.config.keep) list.splice(0, list.length - this.config.keep);
    }
    return point;
  }

  /** A version's quality over `window` at `now`, from the labels last read; null when the window is empty. */
  value(model: string, version: number, window: QualityWindow, now: number): QualityPoint | null {
    const labels = this.cache.get(`${model}:${version}`) ?? [];
    let from = window.rows === null ? 0 : Math.max(0, labels.length - window.rows);
    if (window.ageMs !== null) {
      const since = now - window.ageMs;
      while (from < labels.length && (labels[from] as LabelledPrediction).labelledAt < since) from++;
    }
    return qualityOf(labels.slice(from), now);
  }

  points(model: string, version: number): QualityPoint[] {
    return [...(this.series.get(`${model}:${version}`) ?? [])];
  }
}
