import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../../src/core/errors.js';
import {
  evaluateCondition,
  metricNames,
  parseCondition,
} from '../../../src/pipeline/flow/gate/conditions.js';

const candidate = { test_accuracy: 0.97, test_f1_macro: 0.96, size_bytes: 120_000, latency_p99_ms: 3.5 };
const champion = { test_accuracy: 0.975, test_f1_macro: 0.962, size_bytes: 400_000 };

const check = (text: string, champ: Record<string, number> | undefined = champion) =>
  evaluateCondition(parseCondition(text), candidate, champ);

describe('gate conditions', () => {
  it('compares metrics with numbers and with the champion, with arithmetic', () => {
    expect(check('test_accuracy >= 0.975').passed).toBe(false);
    expect(check('test_accuracy >= 0.97').passed).toBe(true);
    // A bare name falls back to its test_ metric.
    expect(check('f1_macro >= champion.f1_macro - 0.005').passed).toBe(true);
    expect(check('f1_macro >= champion.f1_macro - 0.001').passed).toBe(false);
    expect(check('size_bytes <= 0.5 * champion.size_bytes').passed).toBe(true);
    expect(check('size_bytes * (1 + 1) <= champion.size_bytes / 2').passed).toBe(false);
    expect(check('latency_p99_ms < 5').passed).toBe(true);
    expect(check('-test_accuracy < -0.9').passed).toBe(true);
    expect(check('test_accuracy != 0.97').passed).toBe(false);
    expect(check('.5e1 == 5').passed).toBe(true);
  });

  it('explains a failed condition with the values it compared', () => {
    const r = check('f1_macro >= champion.f1_macro - 0.001');
    expect(r.detail).toBe('f1_macro=0.9600 < champion.f1_macro=0.9620 - 0.001 = 0.9610');
    expect(r.left).toBeCloseTo(0.96, 10);
    expect(r.right).toBeCloseTo(0.961, 10);
    expect(check('test_accuracy >= 0.9').detail).toBe('test_accuracy=0.9700 >= 0.9');
  });

  it('never passes a NaN metric, whatever the operator', () => {
    const nan = { test_accuracy: Number.NaN };
    for (const op of ['>=', '<=', '>', '<', '==', '!=']) {
      expect(evaluateCondition(parseCondition(`test_accuracy ${op} 0.5`), nan, undefined).passed).toBe(false);
    }
  });

  it('names a metric the candidate or champion does not have, listing those it has', () => {
    expect(() => check('recall >= 0.9')).toThrow(
      /the candidate has no metric "recall" \(nor "test_recall"\); metrics: latency_p99_ms, size_bytes, test_accuracy, test_f1_macro/,
    );
    expect(() => check('latency_p99_ms <= champion.latency_p99_ms')).toThrow(
      /the champion has no metric "latency_p99_ms"/,
    );
  });

  it('lists the metrics a condition reads, by whose they are', () => {
    expect(metricNames(parseCondition('f1_macro + size_bytes >= champion.f1_macro - 0.005'))).toEqual({
      candidate: ['f1_macro', 'size_bytes'],
      champion: ['f1_macro'],
    });
  });

  it('refuses malformed conditions with what is wrong', () => {
    for (const [text, why] of [
      ['test_accuracy', /expected a comparison/],
      ['test_accuracy >= ', /ends too early/],
      ['test_accuracy >> 0.9', /unexpected ">"/],
      ['a.b >= 1', /only champion\.<metric> has a dot/],
      ['(a >= 1', /missing "\)"/],
      ['a >= 1 2', /unexpected "2" after the right side/],
      ['a >= $x', /unexpected "\$"/],
    ] as const) {
      const e = (() => {
        try {
          parseCondition(text);
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(e, text).toBeInstanceOf(ModelautoError);
      expect((e as ModelautoError).message, text).toMatch(why);
    }
  });
});
