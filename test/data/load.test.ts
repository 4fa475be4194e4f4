import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/load.js';
import { parseDataSpec } from '../../src/data/spec.js';
import { FIXTURES, fixture, tempFile } from './helpers.js';

describe('loadDataset', () => {
  it('resolves relative CSV and JSON Lines paths against baseDir', async () => {
    const csv = await loadDataset(
      parseDataSpec({ csv: 'mixed.csv', label: 'target', missing: { policy: 'impute' } }),
      { baseDir: FIXTURES },
    );
    expect(csv.n).toBe(5);
    expect(csv.source.location).toBe(fixture('mixed.csv'));
    const jsonl = await loadDataset(
      parseDataSpec({ jsonl: 'records.jsonl', label: 'label', missing: { policy: 'drop' } }),
      {
        baseDir: FIXTURES,
      },
    );
    expect(jsonl.n).toBe(1);
  });

  it('passes table options through and applies limit', async () => {
    const ds = await loadDataset(
      parseDataSpec({
        csv: fixture('semicolon.csv'),
        delimiter: ';',
        label: 'label',
        ignore: ['b'],
        limit: 1,
      }),
      { baseDir: '/' },
    );
    expect(ds.n).toBe(1);
    expect(ds.features.kind === 'table' && ds.features.columns.map((c) => c.name)).toEqual(['a']);
    expect(ds.target.y.length).toBe(1);
  });

  it('loads IDX pairs and built-ins', async () => {
    const header = (dtype: number, dims: number[]): Buffer => {
      const b = Buffer.alloc(4 + 4 * dims.length);
      b[2] = dtype;
      b[3] = dims.length;
      dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
      return b;
    };
    const images = tempFile(
      'images.idx',
      Buffer.concat([header(8, [2, 2, 2]), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8])]),
    );
    const labels = `${dirname(images)}/labels.idx`;
    writeFileSync(labels, Buffer.concat([header(8, [2]), Buffer.from([3, 4])]));
    const idx = await loadDataset(
      parseDataSpec({ idx: { images: 'images.idx', labels: 'labels.idx' }, name: 'pair' }),
      {
        baseDir: dirname(images),
      },
    );
    expect(idx).toMatchObject({ name: 'pair', n: 2, features: { kind: 'tensor', shape: [2, 2, 1] } });

    const iris = await loadDataset(parseDataSpec({ source: 'iris', limit: 10 }), { baseDir: '/' });
    expect(iris.n).toBe(10);
    const mnist = await loadDataset(parseDataSpec({ source: 'mnist', limit: 50, testLimit: 5 }), {
      baseDir: '/',
    });
    expect([mnist.n, mnist.predefinedTest?.n]).toEqual([50, 5]);
  });
});
