import { describe, expect, it } from 'vitest';
import {
  classificationReport,
  confusionMatrix,
  formatClassificationReport,
  formatConfusionMatrix,
} from '../../src/metrics/index.js';
import { pyFixed, pyRepr } from '../../src/metrics/format.js';

describe('Python number formatting', () => {
  it("pyFixed rounds exact ties to even like Python's '%.Nf'", () => {
    // Expected strings are Python 3.11 output.
    const cases: Array<[number, number, string]> = [
      [0.125, 2, '0.12'],
      [0.375, 2, '0.38'],
      [2.5, 0, '2'],
      [0.5, 0, '0'],
      [1.5, 0, '2'],
      [0.665, 2, '0.67'],
      [2.675, 2, '2.67'],
      [1 / 3, 4, '0.3333'],
      [-0, 2, '-0.00'],
      [1e-5, 2, '0.00'],
      [NaN, 2, 'nan'],
      [-Infinity, 2, '-inf'],
    ];
    for (const [x, d, s] of cases) expect(pyFixed(x, d), `${x} with ${d} digits`).toBe(s);
  });

  it('pyRepr matches repr(float)', () => {
    const cases: Array<[number, string]> = [
      [1, '1.0'],
      [10.5, '10.5'],
      [1e16, '1e+16'],
      [1.5e-7, '1.5e-07'],
      [0.0001, '0.0001'],
      [0.00012, '0.00012'],
      [123456789012345680, '1.2345678901234568e+17'],
      [0.1 + 0.2, '0.30000000000000004'],
      [-2.5, '-2.5'],
      [1e15, '1000000000000000.0'],
      [9999999999999998, '9999999999999998.0'],
    ];
    for (const [x, s] of cases) expect(pyRepr(x)).toBe(s);
  });
});

describe('formatClassificationReport', () => {
  it('reproduces the scikit-learn layout, including NaN cells and a micro avg row', () => {
    const report = classificationReport([0, 1, 2, 2], [0, 1, 1, 2], { labels: [0, 1, 5], zeroDivision: NaN });
    expect(formatClassificationReport(report, 3)).toBe(
      [
        '              precision    recall  f1-score   support',
        '',
        '           0      1.000     1.000     1.000         1',
        '           1      0.500     1.000     0.667         1',
        '           5        nan       nan       nan         0',
        '',
        '   micro avg      0.667     1.000     0.800         2',
        '   macro avg      0.750     1.000     0.833         2',
        'weighted avg      0.750     1.000     0.833         2',
        '',
      ].join('\n'),
    );
  });

  it('uses target names for the width and the report digits by default', () => {
    const report = classificationReport(['a', 'b', 'b'], ['a', 'b', 'a'], {
      targetNames: ['a rather long class name', 'b'],
      digits: 1,
    });
    const text = formatClassificationReport(report);
    const lines = text.split('\n');
    expect(lines[2]).toBe('a rather long class name        0.5       1.0       0.7         1');
    expect(lines[5]).toBe('                accuracy                            0.7         3');
  });
});

describe('formatConfusionMatrix', () => {
  it('aligns counts under their labels', () => {
    const yTrue = ['cat', 'dog', 'cat', 'emu', 'dog', 'cat'];
    const yPred = ['cat', 'dog', 'dog', 'emu', 'dog', 'cat'];
    const labels = ['cat', 'dog', 'emu'];
    expect(formatConfusionMatrix(confusionMatrix(yTrue, yPred), labels)).toBe(
      [
        'true \\ pred  cat  dog  emu',
        'cat            2    1    0',
        'dog            0    2    0',
        'emu            0    0    1',
        '',
      ].join('\n'),
    );
  });

  it('prints normalized matrices with fixed decimals and checks the shape', () => {
    const cm = confusionMatrix([0, 0, 1], [0, 1, 1], { normalize: 'true' });
    expect(formatConfusionMatrix(cm, [0, 1], { digits: 3 })).toBe(
      ['true \\ pred      0      1', '0            0.500  0.500', '1            0.000  1.000', ''].join('\n'),
    );
    expect(() => formatConfusionMatrix(cm, [0, 1, 2])).toThrow(/3 rows/);
  });
});
