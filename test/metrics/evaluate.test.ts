import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import {
  accuracyScore,
  classificationReport,
  evaluateClassifier,
  evaluateRegressor,
  f1Score,
  logLoss,
  precisionScore,
  rocAucScore,
  topKAccuracyScore,
} from '../../src/metrics/index.js';
import { expectClose } from './helpers.js';

function task(rng: Rng, n: number, k: number): { yTrue: number[]; yPred: number[]; yProba: number[][] } {
  const yTrue = Array.from({ length: n }, (_, i) => (i < k ? i : rng.int(k)));
  const yProba = yTrue.map((y) => {
    const row = Array.from({ length: k }, (_, c) => rng.next() + (c === y ? 1 : 0));
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((v) => v / s);
  });
  const yPred = yProba.map((row) => row.indexOf(Math.max(...row)));
  return { yTrue, yPred, yProba };
}

describe('evaluateClassifier', () => {
  const rng = new Rng(5);

  it('binary: label metrics, log loss, binary ROC AUC, no top-k', () => {
    const { yTrue, yPred, yProba } = task(rng, 50, 2);
    const e = evaluateClassifier({ yTrue, yPred, yProba, classes: [0, 1] });
    expect(e.nSamples).toBe(50);
    expectClose(e.accuracy, accuracyScore(yTrue, yPred), 'accuracy');
    expectClose(e.f1.macro, f1Score(yTrue, yPred, { average: 'macro' }), 'f1 macro');
    expectClose(
      e.precision.weighted,
      precisionScore(yTrue, yPred, { average: 'weighted' }),
      'precision weighted',
    );
    expectClose(e.logLoss, logLoss(yTrue, yProba), 'log loss');
    expectClose(
      e.rocAuc,
      rocAucScore(
        yTrue,
        yProba.map((r) => r[1] as number),
      ),
      'roc auc',
    );
    expect(e.rocAucMethod).toBe('binary');
    expect(e.top2Accuracy).toBeUndefined();
    expect(e.report).toEqual(classificationReport(yTrue, yPred, { labels: [0, 1] }));
    expect(JSON.parse(JSON.stringify(e))).toEqual(e);
  });

  it('six classes: one-vs-rest macro ROC AUC, top-2 and top-5 accuracy', () => {
    const { yTrue, yPred, yProba } = task(rng, 120, 6);
    const e = evaluateClassifier({ yTrue, yPred, yProba, classes: [0, 1, 2, 3, 4, 5] });
    expect(e.rocAucMethod).toBe('ovr-macro');
    expectClose(e.rocAuc, rocAucScore(yTrue, yProba, { multiClass: 'ovr' }), 'roc auc');
    expectClose(e.top2Accuracy, topKAccuracyScore(yTrue, yProba, { k: 2 }), 'top-2');
    expectClose(e.top5Accuracy, topKAccuracyScore(yTrue, yProba, { k: 5 }), 'top-5');
    expect(e.confusionMatrix.length).toBe(6);
  });

  it('three classes give top-2 only', () => {
    const { yTrue, yPred, yProba } = task(rng, 30, 3);
    const e = evaluateClassifier({ yTrue, yPred, yProba, classes: [0, 1, 2] });
    expect(e.top2Accuracy).toBeDefined();
    expect(e.top5Accuracy).toBeUndefined();
  });

  it('omits ROC AUC with a reason when a class is absent from yTrue, keeps the class elsewhere', () => {
    const yTrue = ['a', 'b', 'a', 'b'];
    const yPred = ['a', 'c', 'a', 'b'];
    const yProba = [
      [0.8, 0.1, 0.1],
      [0.2, 0.3, 0.5],
      [0.6, 0.2, 0.2],
      [0.1, 0.7, 0.2],
    ];
    const e = evaluateClassifier({ yTrue, yPred, yProba, classes: ['a', 'b', 'c'] });
    expect(e.rocAuc).toBeUndefined();
    expect(e.rocAucOmitted).toContain("'c'");
    expect(e.logLoss).toBeGreaterThan(0);
    expect(e.confusionMatrix).toEqual([
      [2, 0, 0],
      [0, 1, 1],
      [0, 0, 0],
    ]);
    expect(e.report.classes.map((c) => c.name)).toEqual(['a', 'b', 'c']);
    expect(e.warnings.some((w) => w.includes('Recall'))).toBe(true);
  });

  it('reads yProba columns in the order of classes, whatever that order is', () => {
    const { yTrue, yPred, yProba } = task(rng, 40, 3);
    const sorted = evaluateClassifier({ yTrue, yPred, yProba, classes: [0, 1, 2] });
    const reordered = evaluateClassifier({
      yTrue,
      yPred,
      yProba: yProba.map((r) => [r[2] as number, r[0] as number, r[1] as number]),
      classes: [2, 0, 1],
    });
    expectClose(reordered.logLoss, sorted.logLoss, 'log loss');
    expectClose(reordered.rocAuc, sorted.rocAuc, 'roc auc');
    expectClose(reordered.top2Accuracy, sorted.top2Accuracy, 'top-2');
    expect(reordered.confusionMatrix[0]).toEqual([
      sorted.confusionMatrix[2]?.[2],
      sorted.confusionMatrix[2]?.[0],
      sorted.confusionMatrix[2]?.[1],
    ]);
  });

  it('refuses labels outside classes and badly shaped probabilities', () => {
    expect(() => evaluateClassifier({ yTrue: [0, 3], yPred: [0, 1], classes: [0, 1] })).toThrow(
      ModelautoError,
    );
    expect(() =>
      evaluateClassifier({ yTrue: [0, 1], yPred: [0, 1], yProba: [[1, 0], [0.5]], classes: [0, 1] }),
    ).toThrow(/yProba\[1\]/);
    expect(() => evaluateClassifier({ yTrue: [0, 1], yPred: [0, 1], classes: [0, 1, 1] })).toThrow(/unique/);
  });
});

describe('evaluateRegressor', () => {
  it('returns mae, mse, rmse and r2', () => {
    const e = evaluateRegressor({ yTrue: [1, 2, 3, 4], yPred: [1.5, 2, 2.5, 4] });
    expectClose(e.mae, 0.25, 'mae');
    expectClose(e.mse, 0.125, 'mse');
    expectClose(e.rmse, Math.sqrt(0.125), 'rmse');
    expectClose(e.r2, 1 - 0.5 / 5, 'r2');
    expect(e.warnings).toEqual([]);
  });

  it('r2 of a single sample is null with a warning', () => {
    const e = evaluateRegressor({ yTrue: [1], yPred: [2] });
    expect(e.r2).toBeNull();
    expect(e.warnings[0]).toContain('two samples');
  });
});

describe('warnings without a handler', () => {
  it('go to process.emitWarning as UndefinedMetricWarning', async () => {
    const seen = new Promise<Error>((resolve) => process.once('warning', resolve));
    precisionScore([0, 0], [0, 0], { average: 'binary' });
    const w = await seen;
    expect(w.name).toBe('UndefinedMetricWarning');
    expect(w.message).toContain('Precision is ill-defined');
  });
});
