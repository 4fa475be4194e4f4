/**
 * The state of one alert series (a rule on one model) and how one evaluation moves it, as in
 * Prometheus:
 *
 * - inactive → pending when the condition holds; pending → firing once it has held for `for`
 *   (with `for: 0`, inactive → firing at once); pending → inactive as soon as it does not hold;
 * - firing → inactive (a `resolved` event) when the condition stops holding, or, with
 *   `keepFiringFor`, once it has not held for that long; holding again meanwhile keeps it firing.
 *
 * No data (a null value) is not evidence either way. It never fires and never resolves: a firing
 * alert stays firing (a metric that went dark must not look like a recovery), an inactive one stays
 * inactive. It does break a streak: a pending alert goes back to inactive and a firing alert's
 * keepFiringFor countdown restarts, since the condition was not seen to hold (or not to hold) for
 * the whole duration.
 */
import type { AlertState } from '../types.js';
import { compare, type AlertRule } from './rule.js';

export interface SeriesState {
  state: AlertState;
  /** Pending: since when the condition holds. Null otherwise. */
  pendingSince: number | null;
  /** Firing: when it fired. Null otherwise. */
  firedAt: number | null;
  /** Firing with keepFiringFor: since when the condition no longer holds; null while it holds. */
  clearSince: number | null;
  /** The value of the last evaluation; null when it had no data. */
  value: number | null;
  /** The last value that was not null (what a resolved event reports). */
  lastValue: number | null;
}

export const INACTIVE: SeriesState = {
  state: 'inactive',
  pendingSince: null,
  firedAt: null,
  clearSince: null,
  value: null,
  lastValue: null,
};

export type Transition = 'firing' | 'resolved';

export interface Step {
  next: SeriesState;
  /** Set when this evaluation fired or resolved the alert: the events that are recorded. */
  transition: Transition | null;
}

type Condition = Pick<AlertRule, 'op' | 'threshold' | 'forMs' | 'keepFiringForMs'>;

/** One evaluation of a series at `now` with the metric's current `value` (null: no data). */
export function stepAlert(s: SeriesState, value: number | null, now: number, rule: Condition): Step {
  const seen = { value, lastValue: value ?? s.lastValue };
  if (value === null) {
    if (s.state === 'pending') return { next: { ...INACTIVE, ...seen }, transition: null };
    return { next: { ...s, ...seen, clearSince: null }, transition: null };
  }
  const holds = compare(value, rule.op, rule.threshold);
  switch (s.state) {
    case 'inactive':
      if (!holds) return { next: { ...INACTIVE, ...seen }, transition: null };
      if (rule.forMs === 0) return fire(now, seen);
      return { next: { ...INACTIVE, ...seen, state: 'pending', pendingSince: now }, transition: null };
    case 'pending': {
      if (!holds) return { next: { ...INACTIVE, ...seen }, transition: null };
      const since = s.pendingSince ?? now;
      if (now - since >= rule.forMs) return fire(now, seen);
      return { next: { ...s, ...seen }, transition: null };
    }
    case 'firing': {
      if (holds) return { next: { ...s, ...seen, clearSince: null }, transition: null };
      const clearSince = s.clearSince ?? now;
      if (now - clearSince >= rule.keepFiringForMs) {
        return { next: { ...INACTIVE, ...seen }, transition: 'resolved' };
      }
      return { next: { ...s, ...seen, clearSince }, transition: null };
    }
  }
}

function fire(now: number, seen: Pick<SeriesState, 'value' | 'lastValue'>): Step {
  return { next: { ...INACTIVE, ...seen, state: 'firing', firedAt: now }, transition: 'firing' };
}
