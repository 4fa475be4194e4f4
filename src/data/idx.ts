import { basename } from 'node:path';
import { sortClasses } from './classes.js';
import { maybeGunzip, readDataFile } from './read.js';
import { dataError } from './table.js';
import type { Dataset } from './types.js';

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  /** IDX type byte, e.g. 0x08 for unsigned bytes. */
  dtype: number;
  /** Dimension sizes, the first being the number of items. */
  shape: number[];
  data: IdxData;
}

const DTYPES: Record<number, { name: string; size: number }> = {
  0x08: { name: 'uint8', size: 1 },
  0x09: { name: 'int8', size: 1 },
  0x0b: { name: 'int16', size: 2 },
  0x0c: { name: 'int32', size: 4 },
  0x0d: { name: 'float32', size: 4 },
  0x0e: { name: 'float64', size: 8 },
};

/**
 * Parses an IDX file (magic 0, 0, type, number of dimensions; big-endian 32-bit sizes; big-endian data).
 * Unsigned bytes are returned as a view on `buffer`, other types as native-endian copies.
 */
export function parseIdx(buffer: Uint8Array, file: string): IdxArray {
  if (buffer.length < 4 || buffer[0] !== 0 || buffer[1] !== 0) {
    const got = Array.from(buffer.subarray(0, 4), (b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
    throw dataError(
      `bad magic number: expected an IDX header starting with 0x00 0x00, found ${got || 'nothing'}`,
      { file },
    );
  }
  const dtype = buffer[2] as number;
  const type = DTYPES[dtype];
  if (!type) {
    throw dataError(
      `unknown IDX data type 0x${dtype.toString(16).padStart(2, '0')}; expected one of 0x08 (uint8), 0x09 (int8), 0x0b (int16), 0x0c (int32), 0x0d (float32), 0x0e (float64)`,
      { file },
    );
  }
  const ndims = buffer[3] as number;
  if (ndims === 0) throw dataError('IDX header declares 0 dimensions', { file });
  const headerBytes = 4 + 4 * ndims;
  if (buffer.length < headerBytes) {
    throw dataError(
      `truncated header: expected ${headerBytes} bytes for ${ndims} dimensions, found ${buffer.length}`,
      { file },
    );
  }
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const shape = Array.from({ length: ndims }, (_, d) => view.getUint32(4 + 4 * d, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = count * type.size;
  const actual = buffer.length - headerBytes;
  if (actual !== expected) {
    throw dataError(
      `${actual < expected ? 'truncated data' : 'unexpected trailing data'}: shape [${shape.join(', ')}] of ${type.name} needs ${expected} bytes after the header, found ${actual}`,
      { file },
    );
  }
  return { dtype, shape, data: decode(dtype, view, headerBytes, count, buffer) };
}

function decode(dtype: number, view: DataView, offset: number, count: number, buffer: Uint8Array): IdxData {
  switch (dtype) {
    case 0x08:
      return buffer.subarray(offset, offset + count);
    case 0x09:
      return new Int8Array(buffer.buffer, buffer.byteOffset + offset, count).slice();
    case 0x0b:
      return Int16Array.from({ length: count }, (_, i) => view.getInt16(offset + 2 * i, false));
    case 0x0c:
      return Int32Array.from({ length: count }, (_, i) => view.getInt32(offset + 4 * i, false));
    case 0x0d:
      return Float32Array.from({ length: count }, (_, i) => view.getFloat32(offset + 4 * i, false));
    default:
      return Float64Array.from({ length: count }, (_, i) => view.getFloat64(offset + 8 * i, false));
  }
}

export async function readIdxFile(file: string): Promise<IdxArray> {
  return parseIdx(maybeGunzip(await readDataFile(file), file), file);
}

export interface IdxLoadOptions {
  name?: string;
}

/**
 * Loads an images + labels IDX pair (MNIST layout). Items of [h, w] get a channel axis ([h, w, 1]);
 * non-uint8 images are converted to float32. Labels must be integers; the classes are the label values
 * present, in numeric order.
 */
export async function loadIdx(
  imagesPath: string,
  labelsPath: string,
  options: IdxLoadOptions = {},
): Promise<Dataset> {
  const [images, labels] = await Promise.all([readIdxFile(imagesPath), readIdxFile(labelsPath)]);
  return idxToDataset(images, labels, { images: imagesPath, labels: labelsPath }, options);
}

export function idxToDataset(
  images: IdxArray,
  labels: IdxArray,
  files: { images: string; labels: string },
  options: IdxLoadOptions = {},
): Dataset {
  if (images.shape.length < 2) {
    throw dataError(
      `expected images with at least 2 dimensions (items, ...), found shape [${images.shape.join(', ')}]`,
      {
        file: files.images,
      },
    );
  }
  if (labels.shape.length !== 1) {
    throw dataError(`expected a 1-dimensional labels file, found shape [${labels.shape.join(', ')}]`, {
      file: files.labels,
    });
  }
  const isFloat = labels.dtype === 0x0d || labels.dtype === 0x0e;
  if (isFloat)
    throw dataError('labels must have an integer IDX type (uint8, int8, int16 or int32)', {
      file: files.labels,
    });
  const n = images.shape[0] as number;
  if (labels.shape[0] !== n) {
    throw dataError(
      `image/label count mismatch: ${files.images} has ${n} images, ${files.labels} has ${labels.shape[0]} labels`,
      {
        file: files.labels,
      },
    );
  }
  if (n === 0) throw dataError('the images file holds no items', { file: files.images });

  const itemShape = images.shape.slice(1);
  const shape = itemShape.length === 2 ? [...itemShape, 1] : itemShape;
  const data = images.data instanceof Uint8Array ? images.data : Float32Array.from(images.data);

  const values = new Set<number>(labels.data);
  const classes = sortClasses([...values].map(String));
  const lookup = new Map(classes.map((c, i) => [Number(c), i]));
  const y = Int32Array.from(labels.data, (v) => lookup.get(v) as number);

  return {
    name: options.name ?? basename(files.images).replace(/(-images)?(-idx\d-ubyte)?(\.gz)?$/i, ''),
    n,
    features: { kind: 'tensor', shape, data },
    target: { kind: 'classification', name: 'label', classes, y },
    source: { kind: 'idx', location: `${files.images},${files.labels}` },
  };
}
