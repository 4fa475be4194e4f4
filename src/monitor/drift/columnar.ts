/**
 * Column-oriented feature data, the form every drift statistic reads: one typed array per numeric column
 * (NaN = missing) and one array of strings per categorical column (null = missing). Built from a loaded
 * data set, from raw prediction records, or from tensor samples (flattened positions become px_<i>, the
 * names the data profile uses, so a live window lines up with the training reference).
 */
import { ModelautoError } from '../../core/errors.js';
import { formatPath } from '../../core/zod-error.js';
import type { DataProfile } from '../../data/profile.js';
import { itemSize } from '../../data/split.js';
import type { Dataset } from '../../data/types.js';
import { categoryText, quote, readCell, type Cell } from '../../data/values.js';

export interface ColumnarData {
  rows: number;
  numeric: Map<string, Float64Array>;
  categorical: Map<string, (string | null)[]>;
  /** Column order for reports (default: numeric columns, then categorical, in map order). */
  order?: readonly string[];
}

/** Column names in report order. */
export function columnOrder(data: ColumnarData): string[] {
  if (data.order) return [...data.order];
  return [...data.numeric.keys(), ...data.categorical.keys()];
}

/** The name of flattened tensor position i, as src/data/profile.ts writes it. */
export function pixelName(i: number): string {
  return `px_${i}`;
}

/** Raw (unpreprocessed) features of a data set as columns; the label is not included. */
export function columnarFromDataset(ds: Dataset): ColumnarData {
  const f = ds.features;
  if (f.kind === 'tensor') return columnarFromTensor(f.data, ds.n, f.shape);
  const numeric = new Map<string, Float64Array>();
  const categorical = new Map<string, (string | null)[]>();
  for (const c of f.columns) {
    if (c.kind === 'numeric') numeric.set(c.name, c.values);
    else categorical.set(c.name, c.values);
  }
  return { rows: ds.n, numeric, categorical, order: f.columns.map((c) => c.name) };
}

/** Row-major tensor samples (`rows` samples of `shape`) as one numeric column per flattened position. */
export function columnarFromTensor(
  data: ArrayLike<number>,
  rows: number,
  shape: readonly number[],
): ColumnarData {
  const d = itemSize(shape);
  if (!Number.isInteger(rows) || rows < 0 || data.length !== rows * d) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `expected ${rows} samples of shape [${shape.join(', ')}] (${rows * d} values), got ${data.length} values`,
    );
  }
  const columns = Array.from({ length: d }, () => new Float64Array(rows));
  // read the row-major source once, in order
  for (let i = 0, p = 0; i < rows; i++) {
    for (let j = 0; j < d; j++, p++) (columns[j] as Float64Array)[i] = data[p] as number;
  }
  const numeric = new Map<string, Float64Array>();
  columns.forEach((col, j) => numeric.set(pixelName(j), col));
  return { rows, numeric, categorical: new Map() };
}

function invalidRecord(message: string, path: (string | number)[]): ModelautoError {
  return new ModelautoError('INVALID_DATA', message, {
    location: { path: formatPath(['records', ...path]) },
  });
}

function flattenNumbers(value: unknown, out: number[], path: (string | number)[]): void {
  if (typeof value === 'number') {
    out.push(value);
    return;
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const view = value as unknown as ArrayLike<number>;
    for (let i = 0; i < view.length; i++) out.push(Number(view[i]));
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => flattenNumbers(v, out, [...path, i]));
    return;
  }
  throw invalidRecord(`expected a number, got ${quote(value)}`, path);
}

/**
 * Raw records (prediction inputs) as columns shaped like the training profile: objects with the profile's
 * feature names for table data (missing or null fields are missing values; unknown fields are ignored),
 * arrays of numbers (flat or nested) for tensor data. A value of the wrong type is an error naming it.
 */
export function columnarFromRecords(records: readonly unknown[], profile: DataProfile): ColumnarData {
  const rows = records.length;
  if (profile.featureKind === 'tensor') {
    const d = itemSize(profile.shape ?? [profile.features.length]);
    const flat = new Float64Array(rows * d);
    records.forEach((rec, i) => {
      const values: number[] = [];
      flattenNumbers(rec, values, [i]);
      if (values.length !== d) {
        throw invalidRecord(
          `expected ${d} values (shape [${(profile.shape ?? []).join(', ')}]), got ${values.length}`,
          [i],
        );
      }
      flat.set(values, i * d);
    });
    return columnarFromTensor(flat, rows, profile.shape ?? [d]);
  }
  const missing = new Set<string>();
  const numeric = new Map<string, Float64Array>();
  const categorical = new Map<string, (string | null)[]>();
  for (const f of profile.features) {
    if (f.kind === 'numeric') numeric.set(f.name, new Float64Array(rows));
    else categorical.set(f.name, new Array<string | null>(rows).fill(null));
  }
  records.forEach((rec, i) => {
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) {
      throw invalidRecord('expected an object of feature values', [i]);
    }
    const r = rec as Record<string, unknown>;
    for (const f of profile.features) {
      const raw = r[f.name];
      if (raw !== undefined && raw !== null && typeof raw === 'object') {
        throw invalidRecord(`expected a ${f.kind === 'numeric' ? 'number' : 'string'}, got ${quote(raw)}`, [
          i,
          f.name,
        ]);
      }
      const cell = (raw ?? null) as Cell;
      const rd = readCell(cell, missing);
      if (f.kind === 'numeric') {
        const col = numeric.get(f.name) as Float64Array;
        if (rd.kind === 'missing') col[i] = NaN;
        else if (rd.kind === 'number') col[i] = rd.value;
        else throw invalidRecord(`expected a finite number, got ${quote(raw)}`, [i, f.name]);
      } else if (rd.kind !== 'missing') {
        (categorical.get(f.name) as (string | null)[])[i] = categoryText(
          cell as string | number | boolean,
          rd,
        );
      }
    }
  });
  return { rows, numeric, categorical, order: profile.features.map((f) => f.name) };
}

/** The first `rows` rows of each column (views, no copy). */
export function headColumnar(data: ColumnarData, rows: number): ColumnarData {
  if (rows >= data.rows) return data;
  const numeric = new Map<string, Float64Array>();
  const categorical = new Map<string, (string | null)[]>();
  for (const [k, v] of data.numeric) numeric.set(k, v.subarray(0, rows));
  for (const [k, v] of data.categorical) categorical.set(k, v.slice(0, rows));
  return { rows, numeric, categorical, ...(data.order ? { order: data.order } : {}) };
}
