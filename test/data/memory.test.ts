import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import { fromArrays, fromTensors } from '../../src/data/memory.js';
import { column, labelsOf } from './helpers.js';

function expectInvalid(run: () => unknown, message: RegExp, path?: string): void {
  let caught: unknown;
  try {
    run();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ModelautoError);
  expect((caught as ModelautoError).code).toBe('INVALID_DATA');
  expect((caught as ModelautoError).message).toMatch(message);
  if (path !== undefined) expect((caught as ModelautoError).location?.path).toBe(path);
}

describe('fromArrays', () => {
  it('turns rows into numeric columns and labels into sorted classes', () => {
    const ds = fromArrays({
      x: [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      y: [10, 2, 10],
      featureNames: ['a', 'b'],
      name: 'toy',
    });
    expect(ds.n).toBe(3);
    expect(ds.name).toBe('toy');
    expect(Array.from(column(ds, 'b').values as Float64Array)).toEqual([2, 4, 6]);
    expect(ds.target).toMatchObject({ classes: ['2', '10'] });
    expect(labelsOf(ds)).toEqual(['10', '2', '10']);
  });

  it('names columns x0.. by default, supports declared classes and regression', () => {
    const cls = fromArrays({ x: [[1], [2]], y: ['b', 'a'], classes: ['b', 'a', 'c'] });
    expect(cls.features.kind === 'table' && cls.features.columns[0]?.name).toBe('x0');
    expect(Array.from(cls.target.y)).toEqual([0, 1]);
    const reg = fromArrays({ x: [[1], [2]], y: [0.5, -3], task: 'regression' });
    expect(reg.target).toMatchObject({ kind: 'regression' });
    expect(Array.from(reg.target.y)).toEqual([0.5, -3]);
  });

  it('takes a dense block as tensor features', () => {
    const ds = fromArrays({ x: { data: new Float32Array(12).fill(1), shape: [3, 2, 2] }, y: [0, 1, 0] });
    expect(ds.features).toMatchObject({ kind: 'tensor', shape: [2, 2] });
  });

  it('rejects NaN, ragged rows, length mismatches and unknown labels', () => {
    expectInvalid(
      () => fromArrays({ x: [[1, NaN]], y: [0] }),
      /x\[0\]\[1\] \(x1\) is NaN: expected a finite number/,
      'x[0][1]',
    );
    expectInvalid(
      () => fromArrays({ x: [[1, 2], [3]], y: [0, 1] }),
      /ragged rows: x\[1\] has 1 values, expected 2/,
      'x[1]',
    );
    expectInvalid(() => fromArrays({ x: [[1], [2]], y: [0] }), /x has 2 rows but y has 1 values/);
    expectInvalid(
      () => fromArrays({ x: [[1]], y: ['z'], classes: ['a', 'b'] }),
      /y\[0\] is "z", not one of the classes: a, b/,
    );
    expectInvalid(
      () => fromArrays({ x: [[1]], y: ['a'], task: 'regression' }),
      /y\[0\] is "a": expected a finite number/,
    );
    expectInvalid(() => fromArrays({ x: [[1, 2]], y: [0], featureNames: ['a'] }), /featureNames has 1 names/);
    expectInvalid(
      () => fromArrays({ x: { data: Float32Array.from([1, 2, Infinity, 4]), shape: [2, 2] }, y: [0, 1] }),
      /value 0 of sample 1 is Infinity/,
    );
    expectInvalid(
      () => fromArrays({ x: { data: new Float32Array(5), shape: [2, 2] }, y: [0, 1] }),
      /needs 4 values but the data holds 5/,
    );
  });
});

describe('fromTensors', () => {
  it('accepts class indices, one-hot rows and regression values', () => {
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const idx = fromTensors(x, tf.tensor1d([2, 0, 2], 'int32'));
    expect(idx.features).toMatchObject({ kind: 'tensor', shape: [2] });
    expect(idx.target).toMatchObject({ classes: ['0', '1', '2'] });
    expect(Array.from(idx.target.y)).toEqual([2, 0, 2]);

    const hot = fromTensors(
      x,
      tf.tensor2d([
        [0, 1],
        [1, 0],
        [0, 1],
      ]),
      { classes: ['cat', 'dog'] },
    );
    expect(labelsOf(hot)).toEqual(['dog', 'cat', 'dog']);

    const reg = fromTensors(x, tf.tensor2d([[0.5], [1.5], [2.5]]), { task: 'regression' });
    expect(Array.from(reg.target.y)).toEqual([0.5, 1.5, 2.5]);
  });

  it('rejects NaN, mismatched lengths, soft labels and out-of-range indices', () => {
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    expectInvalid(
      () =>
        fromTensors(
          tf.tensor2d([
            [1, NaN],
            [3, 4],
          ]),
          tf.tensor1d([0, 1]),
        ),
      /value 1 of sample 0 is NaN/,
    );
    expectInvalid(() => fromTensors(x, tf.tensor1d([0, 1, 1])), /x has 2 samples but y has 3 values/);
    expectInvalid(
      () =>
        fromTensors(
          x,
          tf.tensor2d([
            [0.3, 0.7],
            [1, 0],
          ]),
        ),
      /y row 0 is not one-hot/,
    );
    expectInvalid(
      () => fromTensors(x, tf.tensor1d([0, 5]), { classes: ['a', 'b'] }),
      /class index 5, but only 2 classes/,
    );
    expectInvalid(() => fromTensors(x, tf.tensor1d([0, 1.5])), /y\[1\] is 1.5: expected a class index/);
    expectInvalid(
      () => fromTensors(tf.tensor1d([1, 2]), tf.tensor1d([0, 1])),
      /expected \[samples, \.\.\.features\]/,
    );
  });
});
