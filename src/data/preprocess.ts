import { ModelautoError } from '../core/errors.js';
import { formatPath, formatZodError } from '../core/zod-error.js';
import { fitCategoricalColumn, fitNumericColumn, fitPixels, targetState } from './preprocess-fit.js';
import {
  PREPROCESSOR_STATE_VERSION,
  PreprocessorStateSchema,
  type ColumnState,
  type PixelScaling,
  type PreprocessorState,
  type TablePreprocessorState,
  type TargetState,
  type TensorPreprocessorState,
} from './preprocess-state.js';
import {
  DEFAULT_MISSING_VALUES,
  PreprocessSpecSchema,
  type MissingPolicy,
  type PreprocessSpecInput,
} from './spec.js';
import { itemSize } from './split.js';
import type { Column, Dataset } from './types.js';
import { categoryText, listNames, quote, readCell, type Cell } from './values.js';

export interface FitPreprocessorOptions {
  /** The data spec's missing-value settings: they decide how prediction-time records with gaps are treated. */
  missing?: { values?: string[]; policy?: MissingPolicy };
}

export interface TransformResult {
  x: Float32Array;
  /** [n, ...inputShape] */
  shape: number[];
}

export interface EncodedTarget<T extends Float32Array | Int32Array> {
  y: T;
  /** [n, classes] for one-hot, [n] for class indices, [n, 1] for regression. */
  shape: number[];
}

export interface TransformOptions {
  /** Columns (or record fields) the preprocessor was not fitted on: reject them (default) or skip them. */
  extraColumns?: 'error' | 'ignore';
}

function invalid(message: string, location: { column?: string; path?: string } = {}): ModelautoError {
  return new ModelautoError('INVALID_DATA', message, { location });
}

/**
 * Fits feature preprocessing on the training split only (statistics from validation or test rows would leak
 * into the model). The result is saved with the model so that prediction applies the same transform.
 */
export function fitPreprocessor(
  train: Dataset,
  config: PreprocessSpecInput = {},
  options: FitPreprocessorOptions = {},
): Preprocessor {
  const parsed = PreprocessSpecSchema.safeParse(config);
  if (!parsed.success) throw new ModelautoError('INVALID_SPEC', formatZodError(parsed.error, 'preprocess'));
  const spec = parsed.data;
  if (train.n < 1) throw invalid('cannot fit preprocessing on an empty training split');
  const target = targetState(train.target);
  const f = train.features;
  if (f.kind === 'tensor') {
    return new Preprocessor({
      version: PREPROCESSOR_STATE_VERSION,
      kind: 'tensor',
      shape: [...f.shape],
      pixels: fitPixels(f, spec.pixels),
      target,
    });
  }
  const policy = options.missing?.policy ?? 'error';
  return new Preprocessor({
    version: PREPROCESSOR_STATE_VERSION,
    kind: 'table',
    columns: f.columns.map((c) =>
      c.kind === 'numeric' ? fitNumericColumn(train, c, spec) : fitCategoricalColumn(train, c, spec),
    ),
    unknownCategory: spec.unknownCategory,
    missing: policy === 'error' ? 'error' : 'impute',
    missingValues: [...(options.missing?.values ?? DEFAULT_MISSING_VALUES)],
    target,
  });
}

export class Preprocessor {
  private readonly state: PreprocessorState;
  /** Output offset of each table column. */
  private readonly offsets: number[];
  private readonly width: number;
  /** Category -> one-hot slot, per table column (empty for numeric ones). */
  private readonly slots: Map<string, number>[];

  constructor(state: PreprocessorState) {
    this.state = state;
    this.offsets = [];
    this.slots = [];
    let w = 0;
    if (state.kind === 'table') {
      for (const c of state.columns) {
        this.offsets.push(w);
        w += c.kind === 'numeric' ? 1 : c.categories.length;
        this.slots.push(new Map(c.kind === 'categorical' ? c.categories.map((v, i) => [v, i]) : []));
      }
    } else {
      w = itemSize(state.shape);
    }
    this.width = w;
  }

  /** Restores a saved preprocessor, validating the state. */
  static fromJSON(json: unknown): Preprocessor {
    const parsed = PreprocessorStateSchema.safeParse(json);
    if (!parsed.success) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `invalid preprocessor state: ${formatZodError(parsed.error, 'preprocessor')}`,
      );
    }
    return new Preprocessor(parsed.data);
  }

  /** Plain, versioned JSON state (a deep copy). */
  toJSON(): PreprocessorState {
    return structuredClone(this.state);
  }

  get kind(): 'table' | 'tensor' {
    return this.state.kind;
  }

  /** Shape of one transformed sample. */
  get inputShape(): number[] {
    return this.state.kind === 'table' ? [this.width] : [...this.state.shape];
  }

  /** Name of every transformed feature: numeric columns by name, one-hot slots as `column=category`, pixels `px_<i>`. */
  get outputNames(): string[] {
    if (this.state.kind === 'tensor') return Array.from({ length: this.width }, (_, i) => `px_${i}`);
    return this.state.columns.flatMap((c) =>
      c.kind === 'numeric' ? [c.name] : c.categories.map((v) => `${c.name}=${v}`),
    );
  }

  /** Raw feature columns the preprocessor expects (table data). */
  get inputColumns(): { name: string; kind: 'numeric' | 'categorical' }[] {
    return this.state.kind === 'table' ? this.state.columns.map((c) => ({ name: c.name, kind: c.kind })) : [];
  }

  get target(): TargetState {
    return structuredClone(this.state.target);
  }

  /** Transforms a data set's features (missing values are imputed with the fitted values). */
  transform(ds: Dataset, options: TransformOptions = {}): TransformResult {
    const st = this.state;
    const f = ds.features;
    if (st.kind === 'tensor') {
      if (f.kind !== 'tensor')
        throw invalid(`expected tensor features of shape [${st.shape.join(', ')}], got table columns`);
      if (f.shape.join(',') !== st.shape.join(',')) {
        throw invalid(`expected samples of shape [${st.shape.join(', ')}], got [${f.shape.join(', ')}]`);
      }
      return this.transformTensor(f.data, ds.n);
    }
    if (f.kind !== 'table')
      throw invalid(
        `expected table columns (${listNames(st.columns.map((c) => c.name))}), got tensor features`,
      );
    const byName = new Map<string, Column>(f.columns.map((c) => [c.name, c]));
    if (options.extraColumns !== 'ignore') {
      const known = new Set(st.columns.map((c) => c.name));
      const extra = f.columns.find((c) => !known.has(c.name));
      if (extra)
        throw invalid(`column was not seen in training; expected only: ${listNames([...known])}`, {
          column: extra.name,
        });
    }
    const x = new Float32Array(ds.n * this.width);
    st.columns.forEach((cs, k) => {
      const col = byName.get(cs.name);
      if (!col) throw invalid(`column missing from data set ${quote(ds.name)}`, { column: cs.name });
      if (col.kind !== cs.kind)
        throw invalid(
          `expected a ${cs.kind} column, got ${col.kind}; declare it as ${cs.kind} in the data spec`,
          { column: cs.name },
        );
      const off = this.offsets[k] as number;
      for (let i = 0; i < ds.n; i++) {
        const v = col.values[i] ?? null;
        this.writeValue(
          x,
          i * this.width + off,
          k,
          typeof v === 'number' && Number.isNaN(v) ? null : v,
          'row',
          i,
        );
      }
    });
    return { x, shape: [ds.n, this.width] };
  }

  /** Transforms raw records (e.g. JSON objects from a prediction request), validating every field. */
  transformRecords(rows: readonly unknown[], options: TransformOptions = {}): TransformResult {
    const st = this.state;
    if (st.kind !== 'table')
      throw invalid('records can only be transformed for table data; this model takes tensors');
    const missing = new Set(st.missingValues);
    const x = new Float32Array(rows.length * this.width);
    const known = new Set(st.columns.map((c) => c.name));
    rows.forEach((row, i) => {
      if (typeof row !== 'object' || row === null || Array.isArray(row)) {
        throw invalid(`expected an object with fields ${listNames([...known])}`, {
          path: formatPath(['records', i]),
        });
      }
      const rec = row as Record<string, unknown>;
      if (options.extraColumns !== 'ignore') {
        const extra = Object.keys(rec).find((key) => !known.has(key));
        if (extra !== undefined) {
          throw invalid(`unknown field; expected only: ${listNames([...known])}`, {
            path: formatPath(['records', i, extra]),
          });
        }
      }
      st.columns.forEach((cs, k) => {
        const raw = rec[cs.name];
        const where = { path: formatPath(['records', i, cs.name]) };
        if (raw !== undefined && raw !== null && typeof raw === 'object') {
          throw invalid(
            `expected ${cs.kind === 'numeric' ? 'a number' : 'a string'}, got ${Array.isArray(raw) ? 'an array' : 'an object'}`,
            where,
          );
        }
        const cell = (raw ?? null) as Cell;
        const rd = readCell(cell, missing);
        let value: number | string | null;
        if (rd.kind === 'missing') {
          if (st.missing === 'error')
            throw invalid('missing value (the model was trained with missing.policy error)', where);
          value = null;
        } else if (cs.kind === 'numeric') {
          if (rd.kind !== 'number') throw invalid(`expected a finite number, got ${quote(raw)}`, where);
          value = rd.value;
        } else {
          value = categoryText(cell as string | number | boolean, rd);
        }
        this.writeValue(x, i * this.width + (this.offsets[k] as number), k, value, 'record', i);
      });
    });
    return { x, shape: [rows.length, this.width] };
  }

  /** Transforms raw tensor samples laid out row-major, `n` samples of `inputShape`. */
  transformTensor(data: Float32Array | Uint8Array | ArrayLike<number>, n: number): TransformResult {
    const st = this.state;
    if (st.kind !== 'tensor')
      throw invalid('tensor input given, but this preprocessor expects table columns');
    const size = this.width;
    if (!Number.isInteger(n) || n < 0 || data.length !== n * size) {
      throw invalid(
        `expected ${n} samples of shape [${st.shape.join(', ')}] (${n * size} values), got ${data.length} values`,
      );
    }
    // Float32Array (server requests) and other inputs (datasets) each get a loop of their own: one loop
    // seeing both element kinds runs several times slower on each (a request's 784 pixels cost 4 µs).
    const x = new Float32Array(data.length);
    const bad =
      data instanceof Float32Array ? scalePixels32(data, st.pixels, x) : scalePixels(data, st.pixels, x);
    if (bad >= 0) {
      const v = data[bad] as number;
      throw invalid(
        `value ${bad % size} of sample ${Math.floor(bad / size)} is ${v}: expected a finite number`,
      );
    }
    return { x, shape: [n, ...st.shape] };
  }

  /** Encodes the target: one-hot rows (default) or class indices for classification, values for regression. */
  encodeTarget(ds: Dataset): EncodedTarget<Float32Array>;
  encodeTarget(ds: Dataset, options: { classification: 'indices' }): EncodedTarget<Int32Array | Float32Array>;
  encodeTarget(
    ds: Dataset,
    options: { classification?: 'onehot' | 'indices' } = {},
  ): EncodedTarget<Float32Array | Int32Array> {
    const ts = this.state.target;
    const t = ds.target;
    if (t.kind !== ts.kind) throw invalid(`expected a ${ts.kind} target, got ${t.kind}`, { column: t.name });
    if (t.kind === 'regression') return { y: Float32Array.from(t.y), shape: [ds.n, 1] };
    const classes = (ts as Extract<TargetState, { kind: 'classification' }>).classes;
    const lookup = new Map(classes.map((c, i) => [c, i]));
    const remap = t.classes.map((c) => lookup.get(c) ?? -1);
    const indices = new Int32Array(ds.n);
    for (let i = 0; i < ds.n; i++) {
      const k = remap[t.y[i] as number] ?? -1;
      if (k < 0)
        throw invalid(
          `row ${i} has class ${quote(t.classes[t.y[i] as number])}, unknown to the model (classes: ${listNames(classes)})`,
          { column: t.name },
        );
      indices[i] = k;
    }
    if (options.classification === 'indices') return { y: indices, shape: [ds.n] };
    const y = new Float32Array(ds.n * classes.length);
    indices.forEach((k, i) => (y[i * classes.length + k] = 1));
    return { y, shape: [ds.n, classes.length] };
  }

  private writeValue(
    x: Float32Array,
    at: number,
    column: number,
    value: number | string | null,
    what: string,
    i: number,
  ): void {
    const st = this.state as TablePreprocessorState;
    const cs = st.columns[column] as ColumnState;
    if (cs.kind === 'numeric') {
      const v = value === null ? cs.fill : (value as number);
      const s = cs.scaling;
      x[at] =
        s.method === 'standardize'
          ? s.std === 0
            ? 0
            : (v - s.mean) / s.std
          : s.method === 'minmax'
            ? s.max === s.min
              ? 0
              : (v - s.min) / (s.max - s.min)
            : v;
      return;
    }
    const text = value === null ? cs.fill : String(value);
    const k = (this.slots[column] as Map<string, number>).get(text);
    if (k !== undefined) x[at + k] = 1;
    else if (st.unknownCategory === 'error') {
      throw invalid(`${what} ${i}: unknown category ${quote(text)}; known: ${listNames(cs.categories)}`, {
        column: cs.name,
      });
    }
  }
}

/**
 * Writes the scaled pixels into `x`; returns the index of the first value that is not finite, or -1.
 * (Scaling is v / divisor or (v - mean) / std in double precision, then rounded to float32.)
 */
function scalePixels(data: Uint8Array | ArrayLike<number>, p: PixelScaling, x: Float32Array): number {
  const [sub, div] = scaleTerms(p);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!Number.isFinite(v)) return i;
    x[i] = div === 0 ? 0 : (v - sub) / div;
  }
  return -1;
}

/** scalePixels for Float32Array input (the same arithmetic; a loop of its own, see transformTensor). */
function scalePixels32(data: Float32Array, p: PixelScaling, x: Float32Array): number {
  const [sub, div] = scaleTerms(p);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!Number.isFinite(v)) return i;
    x[i] = div === 0 ? 0 : (v - sub) / div;
  }
  return -1;
}

/** Pixel scaling as (v - sub) / div; div 0 stands for a constant feature (standardized to 0). */
function scaleTerms(p: PixelScaling): [number, number] {
  switch (p.method) {
    case 'scale':
      return [0, p.divisor];
    case 'standardize':
      return [p.mean, p.std];
    case 'none':
      return [0, 1];
  }
}

export type { PreprocessorState, TablePreprocessorState, TensorPreprocessorState };
