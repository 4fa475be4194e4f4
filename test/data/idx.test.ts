import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import { loadIdx, parseIdx } from '../../src/data/idx.js';
import { expectDataError, tempFile } from './helpers.js';

const SIZES: Record<number, number> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 };

/** Encodes an IDX file: magic 0, 0, dtype, ndims; big-endian dims and values. */
function idx(dtype: number, shape: number[], values: number[]): Buffer {
  const size = SIZES[dtype] as number;
  const buf = Buffer.alloc(4 + 4 * shape.length + values.length * size);
  buf[2] = dtype;
  buf[3] = shape.length;
  shape.forEach((d, i) => buf.writeUInt32BE(d, 4 + 4 * i));
  let at = 4 + 4 * shape.length;
  for (const v of values) {
    if (dtype === 0x08) buf.writeUInt8(v, at);
    else if (dtype === 0x09) buf.writeInt8(v, at);
    else if (dtype === 0x0b) buf.writeInt16BE(v, at);
    else if (dtype === 0x0c) buf.writeInt32BE(v, at);
    else if (dtype === 0x0d) buf.writeFloatBE(v, at);
    else buf.writeDoubleBE(v, at);
    at += size;
  }
  return buf;
}

describe('parseIdx', () => {
  it('decodes every data type, big-endian', () => {
    const cases: [number, number[], new (n: number) => ArrayLike<number>][] = [
      [0x08, [0, 7, 255], Uint8Array],
      [0x09, [-128, 0, 127], Int8Array],
      [0x0b, [-30000, 1, 258], Int16Array],
      [0x0c, [-2_000_000_000, 3, 65_536], Int32Array],
      [0x0d, [1.5, -0.25, 2 ** 40], Float32Array],
      [0x0e, [Math.PI, -1e-300, 2 ** 60], Float64Array],
    ];
    for (const [dtype, values, ctor] of cases) {
      const out = parseIdx(idx(dtype, [3], values), 'x.idx');
      expect(out.dtype).toBe(dtype);
      expect(out.shape).toEqual([3]);
      expect(out.data).toBeInstanceOf(ctor);
      expect(Array.from(out.data)).toEqual(values);
    }
  });

  it('reads multi-dimensional shapes', () => {
    const out = parseIdx(
      idx(
        0x08,
        [2, 3, 2],
        Array.from({ length: 12 }, (_, i) => i),
      ),
      'x.idx',
    );
    expect(out.shape).toEqual([2, 3, 2]);
    expect(out.data.length).toBe(12);
  });

  it('rejects a bad magic number', async () => {
    const bad = idx(0x08, [1], [1]);
    bad[0] = 0x50;
    await expectDataError(() => parseIdx(bad, 'bad.idx'), {
      file: 'bad.idx',
      message: /bad magic number.*found 0x50 0x00 0x08 0x01/,
    });
  });

  it('rejects an unknown data type', async () => {
    const bad = idx(0x08, [1], [1]);
    bad[2] = 0x0a;
    await expectDataError(() => parseIdx(bad, 'bad.idx'), {
      file: 'bad.idx',
      message: /unknown IDX data type 0x0a/,
    });
  });

  it('rejects truncated data with expected and actual byte counts', async () => {
    const full = idx(0x0b, [2, 3], [1, 2, 3, 4, 5, 6]);
    await expectDataError(() => parseIdx(full.subarray(0, full.length - 3), 't.idx'), {
      file: 't.idx',
      message: /truncated data: shape \[2, 3\] of int16 needs 12 bytes after the header, found 9/,
    });
    await expectDataError(() => parseIdx(full.subarray(0, 10), 't.idx'), {
      file: 't.idx',
      message: /truncated header: expected 12 bytes for 2 dimensions, found 10/,
    });
  });
});

describe('loadIdx', () => {
  const images = idx(0x08, [3, 2, 2], [0, 1, 2, 3, 10, 11, 12, 13, 250, 251, 252, 253]);
  const labels = idx(0x08, [3], [7, 2, 7]);

  it('round-trips a tiny image/label pair (plain and gzipped)', async () => {
    for (const gz of [false, true]) {
      const ext = gz ? '.gz' : '';
      const imgPath = tempFile(`tiny-images-idx3-ubyte${ext}`, gz ? gzipSync(images) : images);
      const lblPath = tempFile(`tiny-labels-idx1-ubyte${ext}`, gz ? gzipSync(labels) : labels);
      const ds = await loadIdx(imgPath, lblPath);
      expect(ds.name).toBe('tiny');
      expect(ds.n).toBe(3);
      expect(ds.features.kind).toBe('tensor');
      if (ds.features.kind !== 'tensor') return;
      expect(ds.features.shape).toEqual([2, 2, 1]);
      expect(ds.features.data).toBeInstanceOf(Uint8Array);
      expect(Array.from(ds.features.data)).toEqual([0, 1, 2, 3, 10, 11, 12, 13, 250, 251, 252, 253]);
      expect(ds.target).toMatchObject({ kind: 'classification', classes: ['2', '7'] });
      expect(Array.from(ds.target.y)).toEqual([1, 0, 1]);
    }
  });

  it('converts non-byte images to float32 and keeps 4-D item shapes', async () => {
    const img = tempFile('f-images', idx(0x0d, [2, 1, 1, 2], [0.5, -1, 2, 3]));
    const lbl = tempFile('f-labels', idx(0x0c, [2], [10, 9]));
    const ds = await loadIdx(img, lbl, { name: 'floaty' });
    expect(ds.name).toBe('floaty');
    if (ds.features.kind !== 'tensor') throw new Error('tensor expected');
    expect(ds.features.shape).toEqual([1, 1, 2]);
    expect(ds.features.data).toBeInstanceOf(Float32Array);
    expect(ds.target).toMatchObject({ classes: ['9', '10'] });
  });

  it('rejects an image/label count mismatch', async () => {
    const img = tempFile('a-images', images);
    const lbl = tempFile('a-labels', idx(0x08, [2], [1, 2]));
    await expectDataError(() => loadIdx(img, lbl), {
      file: lbl,
      message: /count mismatch: .* has 3 images, .* has 2 labels/,
    });
  });

  it('rejects a truncated images file naming it', async () => {
    const img = tempFile('t-images', images.subarray(0, images.length - 1));
    const lbl = tempFile('t-labels', labels);
    await expectDataError(() => loadIdx(img, lbl), {
      file: img,
      message: /truncated data.*needs 12 bytes.*found 11/,
    });
  });

  it('rejects float labels and a corrupt gzip file', async () => {
    const img = tempFile('g-images', images);
    const fl = tempFile('fl-labels', idx(0x0d, [3], [1, 2, 3]));
    await expectDataError(() => loadIdx(img, fl), {
      file: fl,
      message: /labels must have an integer IDX type/,
    });
    const gz = tempFile('c-labels.gz', Buffer.concat([gzipSync(labels).subarray(0, 12)]));
    await expectDataError(() => loadIdx(img, gz), { file: gz, message: /corrupt gzip data/ });
  });

  it('reports a missing file as NOT_FOUND', async () => {
    const err = await loadIdx('/nonexistent/images', '/nonexistent/labels').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelautoError);
    expect((err as ModelautoError).code).toBe('NOT_FOUND');
  });
});
