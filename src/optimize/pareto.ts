import { z } from 'zod';
import { ModelautoError } from '../core/errors.js';

/** What the accuracy-budget search minimises among candidates within tolerance. */
export const OBJECTIVES = ['size', 'latency'] as const;
export type Objective = (typeof OBJECTIVES)[number];

export const TOLERANCE_MODES = ['relative', 'absolute'] as const;
export type ToleranceMode = (typeof TOLERANCE_MODES)[number];

export type Budget = { kind: 'trials'; trials: number } | { kind: 'minutes'; minutes: number };

/** `12trials`, `12 trials`, `1trial`, `30minutes`, `30min`, `30m`, `1.5h` / `2hours`. */
export function parseBudget(text: string, field = '--budget'): Budget {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(trials?|t|minutes?|mins?|m|hours?|h)\s*$/i.exec(text);
  if (!m) {
    throw new ModelautoError(
      'USAGE',
      `${field}: expected <n>trials or <n>minutes (e.g. 10trials, 30minutes), got "${text}"`,
    );
  }
  const n = Number(m[1]);
  const unit = (m[2] as string).toLowerCase();
  if (unit.startsWith('t')) {
    if (!Number.isInteger(n) || n < 1)
      throw new ModelautoError('USAGE', `${field}: expected a whole number of trials >= 1, got "${text}"`);
    return { kind: 'trials', trials: n };
  }
  const minutes = unit.startsWith('h') ? n * 60 : n;
  if (!(minutes > 0)) throw new ModelautoError('USAGE', `${field}: expected a time > 0, got "${text}"`);
  return { kind: 'minutes', minutes };
}

export function formatBudget(b: Budget): string {
  return b.kind === 'trials' ? `${b.trials}trials` : `${b.minutes}minutes`;
}

export const ToleranceSchema = z
  .number({ error: 'expected a tolerance >= 0 (e.g. 0.01)' })
  .min(0, 'expected a tolerance >= 0 (e.g. 0.01)')
  .lt(1, 'expected a tolerance < 1 (a share of the baseline accuracy, e.g. 0.01)');

/**
 * The lowest accuracy a candidate may have: relative (Intel Neural Compressor's default) keeps
 * accuracy >= baseline * (1 - tolerance); absolute keeps accuracy >= baseline - tolerance.
 */
export function accuracyFloor(baseline: number, tolerance: number, mode: ToleranceMode): number {
  return mode === 'relative' ? baseline * (1 - tolerance) : baseline - tolerance;
}

export interface ParetoPoint {
  key: string;
  accuracy: number;
  /** The objective's value, lower is better (bytes or milliseconds). */
  cost: number;
}

/** Keys of the points no other point beats on both accuracy (higher) and cost (lower). */
export function paretoFront(points: readonly ParetoPoint[]): Set<string> {
  const front = new Set<string>();
  for (const p of points) {
    const dominated = points.some(
      (q) =>
        q !== p &&
        q.accuracy >= p.accuracy &&
        q.cost <= p.cost &&
        (q.accuracy > p.accuracy || q.cost < p.cost),
    );
    if (!dominated) front.add(p.key);
  }
  return front;
}

/** The cheapest point at or above the floor (ties: the more accurate), or undefined. */
export function bestWithin(points: readonly ParetoPoint[], floor: number): ParetoPoint | undefined {
  return points
    .filter((p) => p.accuracy >= floor)
    .reduce<ParetoPoint | undefined>(
      (best, p) =>
        !best || p.cost < best.cost || (p.cost === best.cost && p.accuracy > best.accuracy) ? p : best,
      undefined,
    );
}
