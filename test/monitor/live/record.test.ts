/** How requests are written to the prediction log: compact tensors, summaries, cells, predicted classes. */
import { describe, expect, it } from 'vitest';
import {
  decodeLoggedTensor,
  encodeInputs,
  encodeOutputs,
  encodeTensor,
  predictedClasses,
  type LoggedInput,
} from '../../../src/monitor/live/record.js';
import type { ServedOutputs, ServedSignature } from '../../../src/serve/index.js';

const IMAGE: ServedSignature = {
  inputs: [{ name: 'input', role: 'tensor', datatype: 'FP32', sampleShape: [2, 2] }],
  outputs: [{ name: 'output', runtimeName: 'output', datatype: 'FP32', sampleShape: [3] }],
  labels: ['a', 'b', 'c'],
  task: 'classification',
};

function outputs(rows: number, data: number[]): ServedOutputs {
  return { rows, tensors: new Map([['output', { data: Float32Array.from(data), sampleShape: [3] }]]) };
}

describe('prediction log records', () => {
  it('stores raw pixels one byte each, and round-trips them', () => {
    const pixels = Float32Array.from({ length: 784 }, (_, i) => (i * 7) % 256);
    const enc = encodeTensor(pixels, [1, 28, 28], 100_000);
    expect(enc).toMatchObject({ kind: 'tensor', dtype: 'uint8', shape: [1, 28, 28] });
    // 784 bytes as base64.
    expect((enc as { data: string }).data).toHaveLength(1048);
    expect(decodeLoggedTensor(enc)).toEqual(pixels);
  });

  it('stores other values as float32, exactly', () => {
    const values = Float32Array.from([0.5, -1.25, 3.1415927, 255.5]);
    const enc = encodeTensor(values, [1, 4], 100);
    expect(enc).toMatchObject({ kind: 'tensor', dtype: 'float32' });
    expect(decodeLoggedTensor(enc)).toEqual(values);
  });

  it('summarizes tensors past the size limit, NaN left out and counted', () => {
    const enc = encodeTensor(Float32Array.from([1, 2, 3, Number.NaN, 4]), [1, 5], 4);
    expect(enc).toEqual({
      kind: 'summary',
      shape: [1, 5],
      min: 1,
      max: 4,
      mean: 2.5,
      std: Math.sqrt(1.25),
      nan: 1,
    });
    expect(decodeLoggedTensor(enc)).toBeNull();
  });

  it('keeps table cells as JSON values per row', () => {
    const table: ServedSignature = {
      ...IMAGE,
      inputs: [
        {
          name: 'plan',
          role: 'column',
          datatype: 'BYTES',
          kind: 'categorical',
          nanIsMissing: false,
          missingAllowed: true,
          categories: ['a'],
        },
      ],
    };
    const enc = encodeInputs(
      new Map([['plan', { role: 'column', values: ['pro', null, 'basic'] }]]),
      3,
      table,
      10,
    );
    expect(enc).toEqual({ plan: { kind: 'cells', values: ['pro', null, 'basic'] } });
    const img = encodeInputs(
      new Map([['input', { role: 'tensor', data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }]]),
      2,
      IMAGE,
      100,
    );
    expect(img['input']).toMatchObject({ kind: 'tensor', dtype: 'uint8', shape: [2, 2, 2] });
  });

  it('keeps output scores as exact float32 (whole numbers too), or a summary past the limit', () => {
    const enc = encodeOutputs(outputs(2, [0.1, 0.2, 0.7, 1, 0, 0]), 100);
    expect(enc['output']).toMatchObject({ kind: 'tensor', dtype: 'float32', shape: [2, 3] });
    expect(decodeLoggedTensor(enc['output'] as LoggedInput)).toEqual(
      Float32Array.from([0.1, 0.2, 0.7, 1, 0, 0]),
    );
    expect(encodeOutputs(outputs(2, [0.1, 0.2, 0.7, 1, 0, 0]), 5)['output']).toMatchObject({
      kind: 'summary',
      shape: [2, 3],
    });
  });

  it('predicts the argmax class per row, the first of equal scores, never NaN', () => {
    expect(predictedClasses(outputs(3, [0.1, 0.7, 0.2, 0.5, 0.5, 0, Number.NaN, 0.1, 0.3]), IMAGE)).toEqual([
      'b',
      'a',
      'c',
    ]);
    expect(predictedClasses(outputs(1, [1, 2, 3]), { ...IMAGE, labels: null })).toBeNull();
    // No output with one score per class: not a classifier's output.
    expect(predictedClasses(outputs(1, [1, 2, 3]), { ...IMAGE, labels: ['x', 'y'] })).toBeNull();
  });
});
