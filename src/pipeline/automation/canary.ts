/**
 * Canary analysis from the prediction log: while `@challenger` answers a share of the traffic, the
 * labelled predictions each version made since the canary began are compared — the challenger's
 * live accuracy must be at least the champion's minus a margin, over at least `minRows` labelled
 * rows each. Read from the store, so it works wherever the server runs and whoever sends the traffic.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ModelautoError } from '../../core/errors.js';
import type { PredictionLog } from '../../store/prediction-log.js';

export interface CanaryCheck {
  /** Predictions made at or after this time count (epoch ms): when the canary began. */
  since: number;
  /** Labelled rows each version needs before a verdict. */
  minRows: number;
  /** The challenger may be this much below the champion (accuracy, 0..1). */
  margin: number;
  /** Longest wait for minRows labelled rows, in ms. */
  timeoutMs: number;
}

export interface VersionQuality {
  version: number;
  rows: number;
  accuracy: number | null;
}

export interface CanaryVerdict {
  passed: boolean;
  reason: string;
  challenger: VersionQuality;
  champion: VersionQuality;
}

const LIMIT = 10_000;

async function qualitySince(
  log: PredictionLog,
  model: string,
  version: number,
  since: number,
): Promise<VersionQuality> {
  const rows = (await log.labelled(model, { version, limit: LIMIT })).filter((r) => r.predictedAt >= since);
  const correct = rows.filter((r) => r.predicted === r.label).length;
  return { version, rows: rows.length, accuracy: rows.length ? correct / rows.length : null };
}

const pct = (v: number | null): string => (v === null ? 'n/a' : `${(100 * v).toFixed(1)}%`);

export async function checkCanary(
  log: PredictionLog,
  model: string,
  versions: { champion: number; challenger: number },
  check: CanaryCheck,
  options: { signal?: AbortSignal; log?: (line: string) => void } = {},
): Promise<CanaryVerdict> {
  const deadline = Date.now() + check.timeoutMs;
  for (;;) {
    const challenger = await qualitySince(log, model, versions.challenger, check.since);
    const champion = await qualitySince(log, model, versions.champion, check.since);
    const enough = challenger.rows >= check.minRows && champion.rows >= check.minRows;
    if (enough) {
      const passed = (challenger.accuracy as number) >= (champion.accuracy as number) - check.margin;
      const reason =
        `canary: challenger ${model}:${challenger.version} ${pct(challenger.accuracy)} on ${challenger.rows} labelled rows ` +
        `${passed ? '>=' : '<'} champion ${model}:${champion.version} ${pct(champion.accuracy)} on ${champion.rows}` +
        (check.margin ? ` minus ${check.margin}` : '');
      return { passed, reason, challenger, champion };
    }
    if (options.signal?.aborted) throw new ModelautoError('INTERRUPTED', 'interrupted during the canary');
    if (Date.now() >= deadline) {
      return {
        passed: false,
        reason: `canary: too little labelled traffic within ${Math.round(check.timeoutMs / 1000)} s (challenger ${challenger.rows}, champion ${champion.rows} rows; ${check.minRows} needed each)`,
        challenger,
        champion,
      };
    }
    options.log?.(
      `canary: waiting for labelled traffic (challenger ${challenger.rows}, champion ${champion.rows} of ${check.minRows} rows)`,
    );
    await sleep(500);
  }
}
