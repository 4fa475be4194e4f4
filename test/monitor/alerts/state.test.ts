import { describe, expect, it } from 'vitest';
import { INACTIVE, stepAlert, type SeriesState, type Transition } from '../../../src/monitor/alerts/state.js';

const rule = { op: '>' as const, threshold: 0.5, forMs: 60_000, keepFiringForMs: 0 };

/** Feeds values at the given times; returns the states and transitions seen. */
function run(
  points: [number, number | null][],
  r: typeof rule = rule,
): { states: SeriesState['state'][]; transitions: (Transition | null)[]; last: SeriesState } {
  let s = INACTIVE;
  const states: SeriesState['state'][] = [];
  const transitions: (Transition | null)[] = [];
  for (const [t, v] of points) {
    const step = stepAlert(s, v, t, r);
    s = step.next;
    states.push(s.state);
    transitions.push(step.transition);
  }
  return { states, transitions, last: s };
}

describe('stepAlert', () => {
  it('goes pending, then fires once the condition has held for `for`', () => {
    const r = run([
      [0, 0.2],
      [15_000, 0.7],
      [30_000, 0.8],
      [74_999, 0.9],
      [75_000, 0.6],
      [90_000, 0.9],
    ]);
    expect(r.states).toEqual(['inactive', 'pending', 'pending', 'pending', 'firing', 'firing']);
    expect(r.transitions).toEqual([null, null, null, null, 'firing', null]);
    expect(r.last).toMatchObject({ firedAt: 75_000, pendingSince: null, value: 0.9 });
  });

  it('fires at once with for: 0, and resolves as soon as the condition stops holding', () => {
    const r = run(
      [
        [0, 0.6],
        [10, 0.6],
        [20, 0.5],
        [30, 0.4],
      ],
      { ...rule, forMs: 0 },
    );
    expect(r.states).toEqual(['firing', 'firing', 'inactive', 'inactive']);
    expect(r.transitions).toEqual(['firing', null, 'resolved', null]);
  });

  it('never fires while the condition flaps faster than `for`', () => {
    const points: [number, number][] = [];
    for (let t = 0; t < 600_000; t += 30_000) points.push([t, (t / 30_000) % 3 === 2 ? 0.1 : 0.9]);
    const r = run(points);
    expect(r.transitions.every((t) => t === null)).toBe(true);
    expect(r.states).toContain('pending');
    expect(r.states).not.toContain('firing');
  });

  it('fires again after resolving: each firing is a new episode', () => {
    const r = run(
      [
        [0, 1],
        [10, 0],
        [20, 1],
      ],
      { ...rule, forMs: 0 },
    );
    expect(r.transitions).toEqual(['firing', 'resolved', 'firing']);
    expect(r.last.firedAt).toBe(20);
  });

  it('keeps firing for keepFiringFor after the condition stopped holding', () => {
    const r = run(
      [
        [0, 0.9],
        [10_000, 0.1],
        [20_000, 0.9], // holds again: the countdown is cancelled
        [30_000, 0.1],
        [50_000, 0.1],
        [60_000, 0.1],
      ],
      { ...rule, forMs: 0, keepFiringForMs: 30_000 },
    );
    expect(r.states).toEqual(['firing', 'firing', 'firing', 'firing', 'firing', 'inactive']);
    expect(r.transitions).toEqual(['firing', null, null, null, null, 'resolved']);
  });

  it('treats no data as no evidence: never fires, never resolves, breaks streaks', () => {
    // Inactive stays inactive.
    expect(run([[0, null]]).states).toEqual(['inactive']);
    // Pending goes back to inactive: the condition was not seen to hold for the whole `for`.
    const pending = run([
      [0, 0.9],
      [30_000, null],
      [60_000, 0.9],
      [90_000, 0.9],
      [120_000, 0.9],
    ]);
    expect(pending.states).toEqual(['pending', 'inactive', 'pending', 'pending', 'firing']);
    // Firing stays firing through any amount of missing data, keeping the last value.
    const firing = run(
      [
        [0, 0.9],
        [1e6, null],
        [2e6, null],
      ],
      { ...rule, forMs: 0 },
    );
    expect(firing.states).toEqual(['firing', 'firing', 'firing']);
    expect(firing.transitions).toEqual(['firing', null, null]);
    expect(firing.last).toMatchObject({ value: null, lastValue: 0.9, firedAt: 0 });
    // The keepFiringFor countdown restarts after a gap.
    const keep = run(
      [
        [0, 0.9],
        [10_000, 0.1],
        [20_000, null],
        [30_000, 0.1],
        [50_000, 0.1],
        [60_000, 0.1],
      ],
      { ...rule, forMs: 0, keepFiringForMs: 30_000 },
    );
    expect(keep.transitions).toEqual(['firing', null, null, null, null, 'resolved']);
  });

  it('compares with the rule operator, including equality at the threshold', () => {
    const ge = { ...rule, op: '>=' as const, forMs: 0 };
    expect(stepAlert(INACTIVE, 0.5, 0, ge).transition).toBe('firing');
    expect(stepAlert(INACTIVE, 0.5, 0, { ...ge, op: '>' as const }).transition).toBeNull();
    expect(stepAlert(INACTIVE, 0.4, 0, { ...ge, op: '<' as const }).transition).toBe('firing');
  });
});
