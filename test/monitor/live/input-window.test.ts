/** The window of raw inputs live drift reads: ring order, count and age bounds, profile column names. */
import { describe, expect, it } from 'vitest';
import { InputWindow } from '../../../src/monitor/live/input-window.js';
import type { ServedSignature } from '../../../src/serve/index.js';

const IMAGE: ServedSignature = {
  inputs: [{ name: 'input', role: 'tensor', datatype: 'FP32', sampleShape: [2] }],
  outputs: [],
  labels: ['a', 'b'],
  task: 'classification',
};

const TABLE: ServedSignature = {
  inputs: [
    {
      name: 'age',
      role: 'column',
      datatype: 'FP32',
      kind: 'numeric',
      nanIsMissing: true,
      missingAllowed: true,
      categories: [],
    },
    {
      name: 'plan',
      role: 'column',
      datatype: 'BYTES',
      kind: 'categorical',
      nanIsMissing: false,
      missingAllowed: true,
      categories: ['basic', 'pro'],
    },
  ],
  outputs: [],
  labels: null,
  task: null,
};

function pushImage(w: InputWindow, at: number, rows: number[][], predicted: string[] | null): void {
  w.push(
    new Map([['input', { role: 'tensor', data: Float32Array.from(rows.flat()) }]]),
    rows.length,
    at,
    predicted,
  );
}

describe('input window', () => {
  it('keeps the newest rows in arrival order, as px_<i> columns', () => {
    const w = new InputWindow(IMAGE, 3);
    pushImage(w, 1, [[1, 10]], ['a']);
    pushImage(
      w,
      2,
      [
        [2, 20],
        [3, 30],
      ],
      ['b', 'a'],
    );
    pushImage(w, 3, [[4, 40]], ['b']);
    expect(w.rows).toBe(3);
    const s = w.slice(null, null);
    expect(s.data.rows).toBe(3);
    expect([...s.data.numeric.keys()]).toEqual(['px_0', 'px_1']);
    expect([...(s.data.numeric.get('px_0') ?? [])]).toEqual([2, 3, 4]);
    expect([...(s.data.numeric.get('px_1') ?? [])]).toEqual([20, 30, 40]);
    expect(s.predictions).toEqual(['b', 'a', 'b']);
    expect([s.start, s.end]).toEqual([2, 3]);
  });

  it('slices by count and by age', () => {
    const w = new InputWindow(IMAGE, 10);
    for (let i = 0; i < 6; i++) pushImage(w, i * 100, [[i, i]], null);
    expect([...(w.slice(2, null).data.numeric.get('px_0') ?? [])]).toEqual([4, 5]);
    expect([...(w.slice(null, 250).data.numeric.get('px_0') ?? [])]).toEqual([3, 4, 5]);
    expect(w.slice(2, 250).data.rows).toBe(2);
    expect(w.slice(null, 10_000).data.rows).toBe(0);
    expect(w.slice(null, 10_000).start).toBeNaN();
  });

  it('a request larger than the window keeps its last rows', () => {
    const w = new InputWindow(IMAGE, 2);
    pushImage(
      w,
      5,
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
      ['a', 'b', 'a'],
    );
    const s = w.slice(null, null);
    expect([...(s.data.numeric.get('px_0') ?? [])]).toEqual([2, 3]);
    expect(s.predictions).toEqual(['b', 'a']);
  });

  it('reads table cells as the profile does: numbers, categories, missing values', () => {
    const w = new InputWindow(TABLE, 5);
    w.push(
      new Map([
        ['age', { role: 'column', values: [30, '41', null, Number.NaN] }],
        ['plan', { role: 'column', values: [' pro ', null, '', true] }],
      ]),
      4,
      7,
      null,
    );
    const s = w.slice(null, null);
    expect([...(s.data.numeric.get('age') ?? [])]).toEqual([30, 41, Number.NaN, Number.NaN]);
    expect(s.data.categorical.get('plan')).toEqual(['pro', null, null, 'true']);
    expect(s.predictions).toEqual([null, null, null, null]);
  });
});
