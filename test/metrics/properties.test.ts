import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import {
  accuracyScore,
  balancedAccuracyScore,
  confusionMatrix,
  f1Score,
  fbetaScore,
  logLoss,
  meanAbsoluteError,
  meanSquaredError,
  precisionRecallFscoreSupport,
  precisionScore,
  r2Score,
  recallScore,
  rocAucScore,
  rootMeanSquaredError,
  topKAccuracyScore,
  type Label,
} from '../../src/metrics/index.js';
import { expectClose } from './helpers.js';

const quiet = { onWarning: (): void => undefined };

function randomTask(rng: Rng, n: number, k: number, accuracy = 0.6): { yTrue: number[]; yPred: number[] } {
  const yTrue = Array.from({ length: n }, () => rng.int(k));
  const yPred = yTrue.map((y) => (rng.next() < accuracy ? y : rng.int(k)));
  return { yTrue, yPred };
}

function randomProba(rng: Rng, n: number, k: number, yTrue: number[]): number[][] {
  return Array.from({ length: n }, (_, i) => {
    const row = Array.from({ length: k }, (_, c) => rng.next() + (c === yTrue[i] ? 0.7 : 0));
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((v) => v / s);
  });
}

function permute<T>(values: readonly T[], order: Int32Array): T[] {
  return Array.from(order, (i) => values[i] as T);
}

/** Every label-based score in [0, 1], run through the same property checks. */
const LABEL_SCORES: Array<[string, (t: Label[], p: Label[], w?: number[]) => number]> = [
  ['accuracyScore', (t, p, w) => accuracyScore(t, p, w ? { sampleWeight: w } : {})],
  [
    'balancedAccuracyScore',
    (t, p, w) => balancedAccuracyScore(t, p, { ...quiet, ...(w ? { sampleWeight: w } : {}) }),
  ],
  ...(['micro', 'macro', 'weighted'] as const).flatMap(
    (average): Array<[string, (t: Label[], p: Label[], w?: number[]) => number]> => [
      [
        `precisionScore/${average}`,
        (t, p, w) => precisionScore(t, p, { average, ...quiet, ...(w ? { sampleWeight: w } : {}) }),
      ],
      [
        `recallScore/${average}`,
        (t, p, w) => recallScore(t, p, { average, ...quiet, ...(w ? { sampleWeight: w } : {}) }),
      ],
      [
        `f1Score/${average}`,
        (t, p, w) => f1Score(t, p, { average, ...quiet, ...(w ? { sampleWeight: w } : {}) }),
      ],
      [
        `fbetaScore(2)/${average}`,
        (t, p, w) => fbetaScore(t, p, { beta: 2, average, ...quiet, ...(w ? { sampleWeight: w } : {}) }),
      ],
    ],
  ),
];

describe('shared properties of label scores', () => {
  const rng = new Rng(7);
  const tasks = Array.from({ length: 12 }, (_, i) =>
    randomTask(rng, 5 + i * 9, 2 + (i % 5), 0.3 + (i % 3) * 0.3),
  );
  const weights = tasks.map((t) => t.yTrue.map(() => 0.1 + rng.next() * 3));

  for (const [name, score] of LABEL_SCORES) {
    it(`${name}: in [0, 1], deterministic, invariant to sample order`, () => {
      tasks.forEach((task, i) => {
        const w = weights[i] as number[];
        const value = score(task.yTrue, task.yPred, w);
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(1);
        expect(score(task.yTrue, task.yPred, w)).toBe(value);
        const order = rng.permutation(task.yTrue.length);
        expectClose(
          score(permute(task.yTrue, order), permute(task.yPred, order), permute(w, order)),
          value,
          name,
        );
      });
    });

    it(`${name}: integer weights equal repeated samples; relabelling keeps the score`, () => {
      tasks.forEach((task) => {
        const reps = task.yTrue.map(() => 1 + rng.int(3));
        const repeat = (ys: number[]): number[] =>
          ys.flatMap((y, i) => new Array<number>(reps[i] as number).fill(y));
        expectClose(score(task.yTrue, task.yPred, reps), score(repeat(task.yTrue), repeat(task.yPred)), name);
        // Strings that sort like the numbers they replace.
        const rename = (ys: number[]): string[] => ys.map((y) => `class-${String(y).padStart(3, '0')}`);
        expectClose(score(rename(task.yTrue), rename(task.yPred)), score(task.yTrue, task.yPred), name);
      });
    });

    it(`${name}: perfect predictions score 1`, () => {
      for (const task of tasks) expect(score(task.yTrue, task.yTrue)).toBeCloseTo(1, 12);
    });
  }
});

describe('identities between metrics', () => {
  const rng = new Rng(11);

  it('micro precision = micro recall = micro F1 = accuracy for single-label multiclass', () => {
    for (let i = 0; i < 20; i++) {
      const { yTrue, yPred } = randomTask(rng, 30 + i, 3 + (i % 4));
      const micro = precisionRecallFscoreSupport(yTrue, yPred, { average: 'micro' });
      const acc = accuracyScore(yTrue, yPred);
      expectClose(micro.precision, acc, 'precision');
      expectClose(micro.recall, acc, 'recall');
      expectClose(micro.fScore, acc, 'f1');
      expectClose(f1Score(yTrue, yPred, { average: 'micro' }), acc, 'f1Score');
    }
  });

  it('weighted recall = accuracy; macro recall = balanced accuracy when every class is in yTrue', () => {
    for (let i = 0; i < 20; i++) {
      const { yTrue, yPred } = randomTask(rng, 40, 3);
      if (new Set(yTrue).size !== 3 || [...new Set(yPred)].some((p) => !yTrue.includes(p))) continue;
      expectClose(
        recallScore(yTrue, yPred, { average: 'weighted' }),
        accuracyScore(yTrue, yPred),
        'weighted recall',
      );
      expectClose(
        recallScore(yTrue, yPred, { average: 'macro' }),
        balancedAccuracyScore(yTrue, yPred),
        'macro recall',
      );
    }
  });

  it('confusion matrix: total n, diagonal = accuracy, rows = support, columns = predicted counts', () => {
    for (let i = 0; i < 10; i++) {
      const { yTrue, yPred } = randomTask(rng, 25 + i, 4);
      const cm = confusionMatrix(yTrue, yPred);
      const per = precisionRecallFscoreSupport(yTrue, yPred, { ...quiet });
      expect(cm.flat().reduce((a, b) => a + b, 0)).toBe(yTrue.length);
      expectClose(
        cm.reduce((a, row, r) => a + (row[r] as number), 0) / yTrue.length,
        accuracyScore(yTrue, yPred),
        'diag',
      );
      expect(cm.map((row) => row.reduce((a, b) => a + b, 0))).toEqual(per.support);
      cm.forEach((row, r) => {
        const normalized = confusionMatrix(yTrue, yPred, { normalize: 'true' })[r] as number[];
        const total = row.reduce((a, b) => a + b, 0);
        normalized.forEach((v, c) =>
          expectClose(v, total === 0 ? 0 : (row[c] as number) / total, 'normalized'),
        );
      });
    }
  });

  it('F1 is the harmonic mean of precision and recall per class', () => {
    const { yTrue, yPred } = randomTask(rng, 60, 5);
    const per = precisionRecallFscoreSupport(yTrue, yPred, { zeroDivision: 0 });
    per.fScore.forEach((f, i) => {
      const p = per.precision[i] as number;
      const r = per.recall[i] as number;
      expectClose(f, p + r === 0 ? 0 : (2 * p * r) / (p + r), `class ${i}`);
    });
  });

  it('zeroDivision NaN leaves ill-defined classes out of the macro average', () => {
    // Class 2 is never predicted (precision undefined); class 3 only in labels (everything undefined).
    const yTrue = [0, 1, 2, 0, 1, 2];
    const yPred = [0, 1, 1, 0, 0, 1];
    const labels = [0, 1, 2, 3];
    const per = precisionRecallFscoreSupport(yTrue, yPred, { labels, zeroDivision: NaN });
    expect(Number.isNaN(per.precision[2])).toBe(true);
    expect(per.fScore[2]).toBe(0);
    expect(Number.isNaN(per.fScore[3])).toBe(true);
    const macro = precisionRecallFscoreSupport(yTrue, yPred, { labels, zeroDivision: NaN, average: 'macro' });
    expectClose(
      macro.precision,
      ((per.precision[0] as number) + (per.precision[1] as number)) / 2,
      'macro precision',
    );
    expectClose(macro.fScore, ((per.fScore[0] as number) + (per.fScore[1] as number) + 0) / 3, 'macro f');
  });
});

describe('score-based metrics', () => {
  const rng = new Rng(23);

  it('ROC AUC: in [0, 1], order-invariant, flips under negated scores, 1 for separated classes', () => {
    for (let i = 0; i < 10; i++) {
      const yTrue = Array.from({ length: 40 }, (_, j) => (j < 3 ? j % 2 : rng.int(2)));
      const scores = yTrue.map((y) => Math.round((y * 0.4 + rng.next()) * 10) / 10);
      const auc = rocAucScore(yTrue, scores);
      expect(auc).toBeGreaterThanOrEqual(0);
      expect(auc).toBeLessThanOrEqual(1);
      const order = rng.permutation(yTrue.length);
      expectClose(rocAucScore(permute(yTrue, order), permute(scores, order)), auc, 'permuted');
      expectClose(
        rocAucScore(
          yTrue,
          scores.map((s) => -s),
        ),
        1 - auc,
        'negated',
      );
      expect(
        rocAucScore(
          yTrue,
          yTrue.map((y) => y + rng.next() * 0.5),
        ),
      ).toBe(1);
    }
  });

  it('ROC AUC equals the probability that a positive outscores a negative (ties count half)', () => {
    const yTrue = Array.from({ length: 50 }, (_, j) => (j < 2 ? j : rng.int(2)));
    const scores = yTrue.map(() => rng.int(5) / 4);
    let wins = 0;
    let pairs = 0;
    yTrue.forEach((a, i) =>
      yTrue.forEach((b, j) => {
        if (a === 1 && b === 0) {
          pairs++;
          wins += (scores[i] as number) > (scores[j] as number) ? 1 : scores[i] === scores[j] ? 0.5 : 0;
        }
      }),
    );
    expectClose(rocAucScore(yTrue, scores), wins / pairs, 'mann-whitney');
  });

  it('log loss: non-negative, order-invariant, weights = repetition, minimal for confident truth', () => {
    const yTrue = Array.from({ length: 30 }, (_, j) => j % 3);
    const proba = randomProba(rng, 30, 3, yTrue);
    const loss = logLoss(yTrue, proba);
    expect(loss).toBeGreaterThan(0);
    const order = rng.permutation(30);
    expectClose(logLoss(permute(yTrue, order), permute(proba, order)), loss, 'permuted');
    const reps = yTrue.map(() => 1 + rng.int(3));
    const rep = <T>(xs: T[]): T[] => xs.flatMap((x, i) => new Array<T>(reps[i] as number).fill(x));
    expectClose(logLoss(yTrue, proba, { sampleWeight: reps }), logLoss(rep(yTrue), rep(proba)), 'weights');
    const perfect = yTrue.map((y) => [0, 1, 2].map((c) => (c === y ? 1 : 0)));
    expect(logLoss(yTrue, perfect)).toBeLessThan(1e-12);
    expectClose(logLoss(yTrue, proba, { normalize: false }), loss * 30, 'sum');
  });

  it('top-k accuracy grows with k, reaches 1 at k = classes, and top-1 is argmax accuracy', () => {
    const yTrue = Array.from({ length: 40 }, (_, j) => j % 5);
    const proba = randomProba(rng, 40, 5, yTrue);
    const values = [1, 2, 3, 4, 5].map((k) => topKAccuracyScore(yTrue, proba, { k, ...quiet }));
    for (let k = 1; k < 5; k++) expect(values[k]).toBeGreaterThanOrEqual(values[k - 1] as number);
    expect(values[4]).toBe(1);
    const argmax = proba.map((row) => row.indexOf(Math.max(...row)));
    expectClose(values[0], accuracyScore(yTrue, argmax), 'top-1');
  });
});

describe('regression metrics', () => {
  const rng = new Rng(31);
  it('rmse^2 = mse, mae <= rmse, r2 = 1 - mse / variance, order invariance', () => {
    for (let i = 0; i < 10; i++) {
      const yTrue = Array.from({ length: 20 + i }, () => rng.next() * 10 - 5);
      const yPred = yTrue.map((y) => y + rng.next() - 0.5);
      const mse = meanSquaredError(yTrue, yPred);
      expectClose(rootMeanSquaredError(yTrue, yPred) ** 2, mse, 'rmse');
      expect(meanAbsoluteError(yTrue, yPred)).toBeLessThanOrEqual(Math.sqrt(mse) + 1e-12);
      const mean = yTrue.reduce((a, b) => a + b, 0) / yTrue.length;
      const variance = yTrue.reduce((a, y) => a + (y - mean) ** 2, 0) / yTrue.length;
      expectClose(r2Score(yTrue, yPred), 1 - mse / variance, 'r2');
      const order = rng.permutation(yTrue.length);
      expectClose(r2Score(permute(yTrue, order), permute(yPred, order)), r2Score(yTrue, yPred), 'permuted');
    }
    expect(r2Score([1, 2, 3], [1, 2, 3])).toBe(1);
  });
});
