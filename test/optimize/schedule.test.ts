import { describe, expect, it } from 'vitest';
import { isModelautoError } from '../../src/core/errors.js';
import { lastUpdateStep, parsePruningSchedule, scheduleAt } from '../../src/optimize/schedule.js';

describe('pruning schedules (tfmot formulas)', () => {
  it('PolynomialDecay: s = final + (initial - final) * (1 - p)^3, updates every `frequency` steps in [begin, end]', () => {
    const s = parsePruningSchedule({
      type: 'polynomialDecay',
      initialSparsity: 0.5,
      finalSparsity: 0.8,
      endStep: 844,
    });
    expect(s).toMatchObject({ beginStep: 0, power: 3, frequency: 100 });
    expect(scheduleAt(s, 0)).toEqual({ update: true, sparsity: 0.5 });
    // Hand-computed: 0.8 + (0.5 - 0.8) * (1 - 100/844)^3 = 0.594588...
    expect(scheduleAt(s, 100).sparsity).toBeCloseTo(0.8 - 0.3 * Math.pow(1 - 100 / 844, 3), 12);
    expect(scheduleAt(s, 100).sparsity).toBeCloseTo(0.5945, 4);
    expect(scheduleAt(s, 100).update).toBe(true);
    expect(scheduleAt(s, 150).update).toBe(false);
    expect(scheduleAt(s, 800)).toMatchObject({ update: true });
    expect(scheduleAt(s, 900)).toEqual({ update: false, sparsity: 0.8 }); // past endStep: p clipped to 1
    expect(lastUpdateStep(s, 844)).toBe(800);
  });

  it('ConstantSparsity: constant target from beginStep on, endStep -1 means forever', () => {
    const s = parsePruningSchedule({
      type: 'constantSparsity',
      targetSparsity: 0.6,
      beginStep: 10,
      frequency: 5,
    });
    expect(scheduleAt(s, 9)).toEqual({ update: false, sparsity: 0.6 });
    expect(scheduleAt(s, 10).update).toBe(true);
    expect(scheduleAt(s, 14).update).toBe(false);
    expect(scheduleAt(s, 15).update).toBe(true);
    expect(scheduleAt(s, 100_000).update).toBe(true);
    const bounded = parsePruningSchedule({
      type: 'constantSparsity',
      targetSparsity: 0.6,
      endStep: 20,
      frequency: 10,
    });
    expect([0, 10, 20, 30].map((t) => scheduleAt(bounded, t).update)).toEqual([true, true, true, false]);
    expect(lastUpdateStep(bounded, 1000)).toBe(20);
    expect(lastUpdateStep(bounded, 15)).toBe(10);
  });

  it('refuses sparsities outside [0, 1) and steps out of order, naming the field', () => {
    const bad = (input: unknown): string => {
      try {
        parsePruningSchedule(input, 'prune.schedule');
      } catch (e) {
        expect(isModelautoError(e)).toBe(true);
        return (e as Error).message;
      }
      throw new Error('expected a failure');
    };
    expect(bad({ type: 'constantSparsity', targetSparsity: 1 })).toContain(
      'prune.schedule.targetSparsity: expected a sparsity in [0, 1)',
    );
    expect(bad({ type: 'constantSparsity', targetSparsity: -0.1 })).toContain('[0, 1)');
    expect(bad({ type: 'polynomialDecay', initialSparsity: 0.5, finalSparsity: 1.2, endStep: 10 })).toContain(
      'prune.schedule.finalSparsity',
    );
    expect(
      bad({ type: 'polynomialDecay', initialSparsity: 0.1, finalSparsity: 0.5, beginStep: 20, endStep: 10 }),
    ).toContain('prune.schedule.endStep: expected endStep >= beginStep (20)');
    expect(bad({ type: 'constantSparsity', targetSparsity: 0.5, frequency: 0 })).toContain('frequency');
  });
});
