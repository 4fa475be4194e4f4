import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import * as m from '../../src/metrics/index.js';
import type { Label } from '../../src/metrics/index.js';

function thrown(fn: () => unknown): ModelautoError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelautoError);
    expect((e as ModelautoError).code).toBe('INVALID_ARGUMENT');
    return e as ModelautoError;
  }
  throw new Error('expected an INVALID_ARGUMENT error, nothing was thrown');
}

/** Loose signatures so the tests can pass what TypeScript callers could not. */
type Loose = (a: unknown, b: unknown, o?: unknown) => unknown;
const loose = (fn: unknown): Loose => fn as Loose;

const LABEL_FNS: Array<[string, Loose]> = [
  ['accuracyScore', loose(m.accuracyScore)],
  ['balancedAccuracyScore', loose(m.balancedAccuracyScore)],
  ['precisionRecallFscoreSupport', loose(m.precisionRecallFscoreSupport)],
  ['precisionScore', loose(m.precisionScore)],
  ['recallScore', loose(m.recallScore)],
  ['f1Score', loose(m.f1Score)],
  ['fbetaScore', loose(m.fbetaScore)],
  ['confusionMatrix', loose(m.confusionMatrix)],
  ['classificationReport', loose(m.classificationReport)],
];
const NUMBER_FNS: Array<[string, Loose]> = [
  ['meanAbsoluteError', loose(m.meanAbsoluteError)],
  ['meanSquaredError', loose(m.meanSquaredError)],
  ['rootMeanSquaredError', loose(m.rootMeanSquaredError)],
  ['r2Score', loose(m.r2Score)],
];
const SCORE_FNS: Array<[string, Loose]> = [
  ['rocAucScore', loose(m.rocAucScore)],
  ['logLoss', loose(m.logLoss)],
  ['topKAccuracyScore', loose(m.topKAccuracyScore)],
];

describe('every metric validates its inputs', () => {
  for (const [name, fn] of [...LABEL_FNS, ...NUMBER_FNS]) {
    it(`${name}: length mismatch, empty input, wrong sampleWeight length, unknown option`, () => {
      const e = thrown(() => fn([0, 1, 1], [0, 1]));
      expect(e.message).toContain(name);
      expect(e.message).toMatch(/3.*2/);
      expect(thrown(() => fn([], [])).message).toContain('empty');
      expect(thrown(() => fn([0, 1], [0, 1], { sampleWeight: [1] })).message).toContain('sampleWeight');
      expect(thrown(() => fn([0, 1], [0, 1], { sampleWieght: [1, 1] })).message).toContain('sampleWieght');
    });
  }
  for (const [name, fn] of SCORE_FNS) {
    it(`${name}: length mismatch, empty input, non-finite scores`, () => {
      expect(thrown(() => fn([0, 1, 1], [0.2, 0.8])).message).toContain(name);
      expect(thrown(() => fn([], [])).message).toContain('empty');
      expect(thrown(() => fn([0, 1], [0.2, NaN])).message).toContain('[1]');
      expect(thrown(() => fn([0, 1], [[0.2, 0.8], [0.5]])).message).toContain('[1]');
    });
  }

  it('labels must be integers or strings of one kind', () => {
    expect(thrown(() => m.accuracyScore([0, 1.5], [0, 1])).message).toContain('yTrue[1]');
    expect(thrown(() => m.accuracyScore([0, 1], ['0', 1] as Label[])).message).toMatch(/mix of label types/);
    expect(thrown(() => loose(m.accuracyScore)([0, null], [0, 1])).message).toContain('yTrue[1]');
    expect(thrown(() => m.confusionMatrix([0, 1], [0, 1], { labels: ['a', 'b'] })).message).toContain(
      'options.labels',
    );
    expect(thrown(() => m.confusionMatrix([0, 1], [0, 1], { labels: [0, 1, 0] })).message).toContain(
      'unique',
    );
  });
});

describe('option values name the allowed values', () => {
  it('average', () => {
    const e = thrown(() => loose(m.f1Score)([0, 1], [0, 1], { average: 'mean' }));
    expect(e.message).toContain("'binary', 'micro', 'macro', 'weighted', null");
    expect(e.message).toContain('options.average');
    expect(thrown(() => loose(m.rocAucScore)([0, 1], [0.1, 0.9], { average: 'samples' })).message).toContain(
      "'macro', 'weighted', 'micro'",
    );
  });

  it('zeroDivision, normalize, multiClass, beta, k, digits', () => {
    expect(thrown(() => loose(m.precisionScore)([0, 1], [0, 1], { zeroDivision: 2 })).message).toContain(
      '"warn", 0, 1, NaN',
    );
    expect(thrown(() => loose(m.confusionMatrix)([0, 1], [0, 1], { normalize: 'rows' })).message).toContain(
      "'true', 'pred', 'all'",
    );
    expect(
      thrown(() =>
        loose(m.rocAucScore)(
          [0, 1, 2],
          [
            [1, 0, 0],
            [0, 1, 0],
            [0, 0, 1],
          ],
          { multiClass: 'ovo' },
        ),
      ).message,
    ).toContain("'ovr'");
    expect(thrown(() => m.fbetaScore([0, 1], [0, 1], { beta: -1 })).message).toContain('>= 0');
    expect(
      thrown(() =>
        m.topKAccuracyScore(
          [0, 1, 2],
          [
            [1, 0, 0],
            [0, 1, 0],
            [0, 0, 1],
          ],
          { k: 0 },
        ),
      ).message,
    ).toContain('k');
    expect(thrown(() => m.classificationReport([0, 1], [0, 1], { digits: -1 })).message).toContain('digits');
    expect(thrown(() => loose(m.f1Score)([0, 1], [0, 1], { beta: 2 })).message).toContain('fbetaScore');
  });
});

describe('scikit-learn refusals', () => {
  it('binary average on a multiclass target lists the other averages', () => {
    expect(thrown(() => m.f1Score([0, 1, 2], [0, 1, 1])).message).toContain(
      "'micro', 'macro', 'weighted', null",
    );
  });
  it('posLabel must be one of the labels', () => {
    expect(thrown(() => m.precisionScore(['a', 'b'], ['a', 'a'])).message).toContain("['a', 'b']");
  });
  it('ROC AUC for multiclass needs multiClass and probabilities', () => {
    const proba = [
      [0.7, 0.2, 0.1],
      [0.1, 0.8, 0.1],
      [0.2, 0.2, 0.6],
    ];
    expect(thrown(() => m.rocAucScore([0, 1, 2], proba)).message).toContain("multiClass: 'ovr'");
    expect(
      thrown(() => m.rocAucScore([0, 1, 2], [[0.5, 0.5, 0.5], ...proba.slice(1)], { multiClass: 'ovr' }))
        .message,
    ).toContain('sum up to 1');
    expect(
      thrown(() => m.rocAucScore([0, 1, 0], proba, { multiClass: 'ovr', labels: [0, 1, 2] })).message,
    ).toContain('class 2 is absent');
    expect(
      thrown(() => m.rocAucScore([0, 1, 2], proba, { multiClass: 'ovr', labels: [2, 1, 0] })).message,
    ).toContain('ordered');
    expect(
      thrown(() =>
        m.rocAucScore(
          [0, 1, 1],
          [
            [0.4, 0.6],
            [0.3, 0.7],
            [0.1, 0.9],
          ],
        ),
      ).message,
    ).toContain('positive class 1');
  });
  it('log loss: one class, column count, label outside labels', () => {
    expect(thrown(() => m.logLoss([1, 1], [0.8, 0.6])).message).toContain('only one label');
    expect(
      thrown(() =>
        m.logLoss(
          [0, 1, 0],
          [
            [0.2, 0.3, 0.5],
            [0.2, 0.3, 0.5],
            [0.2, 0.3, 0.5],
          ],
        ),
      ).message,
    ).toContain('different numbers of classes');
    expect(thrown(() => m.logLoss([0, 5], [0.3, 0.6], { labels: [0, 1] })).message).toContain('yTrue[1]');
  });
  it('weights summing to zero cannot normalize', () => {
    expect(thrown(() => m.accuracyScore([0, 1], [0, 1], { sampleWeight: [0, 0] })).message).toContain(
      'sum to zero',
    );
  });
  it('report target names must match the labels', () => {
    expect(
      thrown(() => m.classificationReport([0, 1, 2], [0, 1, 1], { targetNames: ['a', 'b'] })).message,
    ).toContain('targetNames');
  });
  it('errors carry the function and argument as their location', () => {
    const e = thrown(() => m.accuracyScore([0, 1], [0, 1, 1]));
    expect(e.location?.path).toBe('accuracyScore: yPred');
    expect(e.toJSON().code).toBe('INVALID_ARGUMENT');
  });
});
