import { createHash, type Hash } from 'node:crypto';
import { endianness } from 'node:os';
import type { Dataset } from './types.js';

const CHUNK = 1 << 16;
const BIG_ENDIAN = endianness() === 'BE';

/**
 * SHA-256 over a canonical serialization of the data: feature names and kinds, tensor shape, every value
 * (numbers as little-endian float64, tensor values as float32 whatever their storage type, NaN and -0
 * canonicalized), and the target. The data set's name and source path are left out, so the same rows
 * loaded from another place give the same fingerprint. A predefined test set is included.
 */
export function fingerprintDataset(ds: Dataset): string {
  const h = createHash('sha256');
  writeDataset(h, ds);
  return h.digest('hex');
}

function writeDataset(h: Hash, ds: Dataset): void {
  const f = ds.features;
  const t = ds.target;
  const header = {
    format: 'modelauto-dataset/1',
    n: ds.n,
    features:
      f.kind === 'tensor'
        ? { kind: f.kind, shape: f.shape }
        : { kind: f.kind, columns: f.columns.map((c) => [c.name, c.kind]) },
    target:
      t.kind === 'classification'
        ? { kind: t.kind, name: t.name, classes: t.classes }
        : { kind: t.kind, name: t.name },
  };
  h.update(JSON.stringify(header) + '\n');
  if (f.kind === 'tensor') {
    writeFloat32(h, f.data);
  } else {
    for (const c of f.columns) {
      if (c.kind === 'numeric') writeFloat64(h, c.values);
      else writeStrings(h, c.values);
    }
  }
  if (t.kind === 'classification') writeInt32(h, t.y);
  else writeFloat64(h, t.y);
  if (ds.predefinedTest) {
    h.update('predefinedTest\n');
    writeDataset(h, ds.predefinedTest);
  }
}

function writeFloat64(h: Hash, values: ArrayLike<number>): void {
  const buf = new Float64Array(Math.min(CHUNK, values.length));
  for (let start = 0; start < values.length; start += CHUNK) {
    const m = Math.min(CHUNK, values.length - start);
    for (let i = 0; i < m; i++) {
      const v = values[start + i] as number;
      buf[i] = Number.isNaN(v) ? NaN : v === 0 ? 0 : v;
    }
    update(h, buf.subarray(0, m), 8);
  }
}

function writeFloat32(h: Hash, values: ArrayLike<number>): void {
  const buf = new Float32Array(Math.min(CHUNK, values.length));
  for (let start = 0; start < values.length; start += CHUNK) {
    const m = Math.min(CHUNK, values.length - start);
    for (let i = 0; i < m; i++) {
      const v = values[start + i] as number;
      buf[i] = Number.isNaN(v) ? NaN : v === 0 ? 0 : v;
    }
    update(h, buf.subarray(0, m), 4);
  }
}

function writeInt32(h: Hash, values: Int32Array): void {
  update(h, values, 4);
}

/** One JSON value per line: unambiguous for any string, and null stays distinct from "null". */
function writeStrings(h: Hash, values: readonly (string | null)[]): void {
  for (let start = 0; start < values.length; start += CHUNK) {
    const part = values.slice(start, start + CHUNK).map((v) => JSON.stringify(v));
    h.update(part.join('\n') + '\n');
  }
}

function update(h: Hash, arr: Float64Array | Float32Array | Int32Array, width: 4 | 8): void {
  const bytes = Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength);
  if (!BIG_ENDIAN) {
    h.update(bytes);
    return;
  }
  const copy = Buffer.from(bytes);
  if (width === 8) copy.swap64();
  else copy.swap32();
  h.update(copy);
}
