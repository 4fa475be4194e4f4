import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCsv } from '../../src/data/csv.js';
import { fingerprintDataset } from '../../src/data/fingerprint.js';
import { fromArrays } from '../../src/data/memory.js';
import type { Dataset } from '../../src/data/types.js';
import { fixture, tempFile } from './helpers.js';

const options = { label: 'target', missing: { policy: 'impute' as const } };

function tensor(data: Float32Array | Uint8Array): Dataset {
  return {
    name: 'img',
    n: 2,
    features: { kind: 'tensor', shape: [2], data },
    target: { kind: 'classification', name: 'label', classes: ['0', '1'], y: Int32Array.from([1, 0]) },
    source: { kind: 'memory', location: 'img' },
  };
}

describe('fingerprintDataset', () => {
  it('is a SHA-256 hex digest, stable across runs (golden value)', async () => {
    const ds = await loadCsv(fixture('mixed.csv'), options);
    const fp = fingerprintDataset(ds);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprintDataset(ds)).toBe(fp);
    const tiny = fromArrays({
      x: [
        [1, 2],
        [3, 4],
      ],
      y: ['a', 'b'],
    });
    expect(fingerprintDataset(tiny)).toBe('b91b707cdd9cd19e0a640b4fb10c0f9308e130406426c5331d4ca6ff786c3b74');
    // the same digest from the documented serialization, built by hand
    const header = {
      format: 'modelauto-dataset/1',
      n: 2,
      features: {
        kind: 'table',
        columns: [
          ['x0', 'numeric'],
          ['x1', 'numeric'],
        ],
      },
      target: { kind: 'classification', name: 'y', classes: ['a', 'b'] },
    };
    const f64 = (values: number[]): Buffer => {
      const b = Buffer.alloc(8 * values.length);
      values.forEach((v, i) => b.writeDoubleLE(v, 8 * i));
      return b;
    };
    const i32 = Buffer.alloc(8);
    i32.writeInt32LE(1, 4);
    const bytes = Buffer.concat([Buffer.from(JSON.stringify(header) + '\n'), f64([1, 3]), f64([2, 4]), i32]);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(fingerprintDataset(tiny));
  });

  it('ignores the file name, location and data set name', async () => {
    const a = await loadCsv(fixture('mixed.csv'), options);
    const copy = tempFile('elsewhere.csv', '');
    copyFileSync(fixture('mixed.csv'), copy);
    const b = await loadCsv(copy, { ...options, name: 'renamed' });
    expect(b.source.location).not.toBe(a.source.location);
    expect(fingerprintDataset(b)).toBe(fingerprintDataset(a));
    const crlf = tempFile('crlf.csv', readFileSync(fixture('mixed.csv'), 'utf8').replace(/\n/g, '\r\n'));
    expect(fingerprintDataset(await loadCsv(crlf, options))).toBe(fingerprintDataset(a));
  });

  it('changes with any value, name, kind, label or class order', () => {
    const base = fromArrays({
      x: [
        [1, 2],
        [3, 4],
      ],
      y: ['a', 'b'],
    });
    const fp = fingerprintDataset(base);
    const variants = [
      fromArrays({
        x: [
          [1, 2],
          [3, 5],
        ],
        y: ['a', 'b'],
      }),
      fromArrays({
        x: [
          [1, 2],
          [3, 4],
        ],
        y: ['a', 'b'],
        featureNames: ['x0', 'z'],
      }),
      fromArrays({
        x: [
          [1, 2],
          [3, 4],
        ],
        y: ['b', 'a'],
      }),
      fromArrays({
        x: [
          [1, 2],
          [3, 4],
        ],
        y: ['a', 'b'],
        classes: ['b', 'a'],
      }),
      fromArrays({
        x: [
          [1, 2],
          [3, 4],
        ],
        y: [0, 1],
        task: 'regression',
      }),
      fromArrays({ x: { data: Float32Array.from([1, 2, 3, 4]), shape: [2, 2] }, y: ['a', 'b'] }),
    ];
    const all = new Set([fp, ...variants.map(fingerprintDataset)]);
    expect(all.size).toBe(variants.length + 1);
  });

  it('depends on values, not storage: uint8 and float32 tensors with the same values agree', () => {
    expect(fingerprintDataset(tensor(Uint8Array.from([0, 255, 7, 9])))).toBe(
      fingerprintDataset(tensor(Float32Array.from([0, 255, 7, 9]))),
    );
    expect(fingerprintDataset(tensor(Float32Array.from([0, 255, 7, 9])))).not.toBe(
      fingerprintDataset(tensor(Float32Array.from([0, 255, 7, 9.5]))),
    );
  });

  it('distinguishes a missing category from the text "null" and includes a predefined test set', () => {
    const withCat = (v: string | null): Dataset => ({
      name: 'c',
      n: 1,
      features: { kind: 'table', columns: [{ name: 'c', kind: 'categorical', values: [v] }] },
      target: { kind: 'classification', name: 'y', classes: ['a'], y: new Int32Array(1) },
      source: { kind: 'memory', location: 'c' },
    });
    expect(fingerprintDataset(withCat(null))).not.toBe(fingerprintDataset(withCat('null')));
    const train = tensor(Uint8Array.from([1, 2, 3, 4]));
    expect(fingerprintDataset({ ...train, predefinedTest: tensor(Uint8Array.from([5, 6, 7, 8])) })).not.toBe(
      fingerprintDataset(train),
    );
  });
});
