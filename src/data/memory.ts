import type { Tensor } from '@tensorflow/tfjs';
import { ModelautoError } from '../core/errors.js';
import { indexLabels, sortClasses } from './classes.js';
import { itemSize } from './split.js';
import type { Dataset, Features, Target } from './types.js';

type Task = 'classification' | 'regression';

export interface FromArraysInput {
  /** Rows of numbers, or a dense row-major block whose shape starts with the number of samples. */
  x: number[][] | { data: Float32Array; shape: number[] };
  y: (string | number)[];
  /** Column names for row input; default x0, x1, ... */
  featureNames?: string[];
  task?: Task;
  classes?: string[];
  name?: string;
}

function invalid(message: string, path: string): ModelautoError {
  return new ModelautoError('INVALID_DATA', message, { location: { path } });
}

/** Builds a data set from plain arrays (rows become numeric table columns; a dense block becomes tensor features). */
export function fromArrays(input: FromArraysInput): Dataset {
  const n = input.y.length;
  if (n === 0) throw invalid('y is empty: expected at least one sample', 'y');
  let features: Features;
  if (Array.isArray(input.x)) {
    const rows = input.x;
    if (rows.length !== n) throw invalid(`x has ${rows.length} rows but y has ${n} values`, 'x');
    const d = rows[0]?.length ?? 0;
    if (d === 0) throw invalid('x rows are empty: expected at least one feature', 'x[0]');
    const names = input.featureNames ?? Array.from({ length: d }, (_, j) => `x${j}`);
    if (names.length !== d)
      throw invalid(`featureNames has ${names.length} names but x rows have ${d} values`, 'featureNames');
    const dup = names.find((nm, j) => names.indexOf(nm) !== j);
    if (dup !== undefined) throw invalid(`duplicate feature name ${JSON.stringify(dup)}`, 'featureNames');
    const columns = names.map((name) => ({ name, kind: 'numeric' as const, values: new Float64Array(n) }));
    rows.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== d) {
        throw invalid(
          `ragged rows: x[${i}] has ${Array.isArray(row) ? row.length : 'no'} values, expected ${d}`,
          `x[${i}]`,
        );
      }
      row.forEach((v, j) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          throw invalid(
            `x[${i}][${j}] (${names[j]}) is ${String(v)}: expected a finite number`,
            `x[${i}][${j}]`,
          );
        }
        (columns[j] as (typeof columns)[number]).values[i] = v;
      });
    });
    features = { kind: 'table', columns };
  } else {
    if (input.featureNames)
      throw invalid('featureNames apply to row input only, not to a dense block', 'featureNames');
    const { data, shape } = input.x;
    features = denseFeatures(data, shape, n, 'x');
  }
  const task = input.task ?? 'classification';
  let target: Target;
  if (task === 'regression') {
    if (input.classes) throw invalid('classes cannot be given for regression', 'classes');
    const y = new Float64Array(n);
    input.y.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw invalid(`y[${i}] is ${JSON.stringify(v)}: expected a finite number`, `y[${i}]`);
      y[i] = v;
    });
    target = { kind: 'regression', name: 'y', y };
  } else {
    const labels = input.y.map((v, i) => {
      if ((typeof v !== 'number' || !Number.isFinite(v)) && typeof v !== 'string') {
        throw invalid(`y[${i}] is ${String(v)}: expected a label (string or finite number)`, `y[${i}]`);
      }
      return String(v);
    });
    const classes = input.classes ? checkClasses(input.classes) : sortClasses(labels);
    const { y, unknown } = indexLabels(labels, classes);
    if (unknown) {
      throw invalid(
        `y[${unknown.index}] is ${JSON.stringify(unknown.label)}, not one of the classes: ${classes.join(', ')}`,
        `y[${unknown.index}]`,
      );
    }
    target = { kind: 'classification', name: 'y', classes, y };
  }
  return {
    name: input.name ?? 'memory',
    n,
    features,
    target,
    source: { kind: 'memory', location: input.name ?? 'memory' },
  };
}

function denseFeatures(data: Float32Array | Uint8Array, shape: number[], n: number, path: string): Features {
  if (shape.length < 2)
    throw invalid(
      `shape [${shape.join(', ')}] must be [samples, ...features] with at least 2 dimensions`,
      `${path}.shape`,
    );
  if (!shape.every((s) => Number.isInteger(s) && s > 0))
    throw invalid(`shape [${shape.join(', ')}] must hold positive integers`, `${path}.shape`);
  if (shape[0] !== n) throw invalid(`x has ${shape[0]} samples but y has ${n} values`, `${path}.shape`);
  const item = shape.slice(1);
  if (data.length !== n * itemSize(item)) {
    throw invalid(
      `shape [${shape.join(', ')}] needs ${n * itemSize(item)} values but the data holds ${data.length}`,
      `${path}.data`,
    );
  }
  if (data instanceof Float32Array) {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        const size = itemSize(item);
        throw invalid(
          `value ${i % size} of sample ${Math.floor(i / size)} is ${data[i]}: expected a finite number`,
          `${path}.data[${i}]`,
        );
      }
    }
  }
  return { kind: 'tensor', shape: item, data };
}

function checkClasses(classes: string[]): string[] {
  if (classes.length < 1) throw invalid('classes is empty', 'classes');
  const dup = classes.find((c, i) => classes.indexOf(c) !== i);
  if (dup !== undefined) throw invalid(`duplicate class ${JSON.stringify(dup)}`, 'classes');
  return [...classes];
}

export interface FromTensorsOptions {
  /** Class names in index order; default '0', '1', ... */
  classes?: string[];
  task?: Task;
  name?: string;
}

/**
 * Builds a data set from tensors: x is [samples, ...features]; y holds class indices ([n] or [n, 1]),
 * one-hot rows ([n, k]) or, for regression, values ([n] or [n, 1]). Tensor values are read synchronously.
 */
export function fromTensors(x: Tensor, y: Tensor, options: FromTensorsOptions = {}): Dataset {
  for (const [t, path] of [
    [x, 'x'],
    [y, 'y'],
  ] as const) {
    if (t.dtype === 'string' || t.dtype === 'complex64')
      throw invalid(`${path} has dtype ${t.dtype}: expected a numeric tensor`, path);
  }
  const n = x.shape[0] ?? 0;
  if (x.rank < 2) throw invalid(`x has shape [${x.shape.join(', ')}]: expected [samples, ...features]`, 'x');
  if (n === 0) throw invalid('x holds no samples', 'x');
  const xData = x.dataSync();
  const features = denseFeatures(
    xData instanceof Uint8Array ? xData : Float32Array.from(xData as ArrayLike<number>),
    [...x.shape],
    y.shape[0] ?? 0,
    'x',
  );
  const yValues = y.dataSync() as ArrayLike<number>;
  const task = options.task ?? 'classification';
  const oneHot = y.rank === 2 && (y.shape[1] ?? 1) > 1;
  if (y.rank > 2 || (y.rank === 2 && task === 'regression' && y.shape[1] !== 1) || y.rank === 0) {
    throw invalid(
      `y has shape [${y.shape.join(', ')}]: expected [samples], [samples, 1] or one-hot [samples, classes]`,
      'y',
    );
  }
  let target: Target;
  if (task === 'regression') {
    if (options.classes) throw invalid('classes cannot be given for regression', 'classes');
    const values = Float64Array.from(yValues);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw invalid(`y[${bad}] is ${values[bad]}: expected a finite number`, `y[${bad}]`);
    target = { kind: 'regression', name: 'y', y: values };
  } else {
    const k = oneHot ? (y.shape[1] as number) : undefined;
    const indices = oneHot ? argmaxOneHot(yValues, n, k as number) : classIndices(yValues);
    const max = indices.reduce((a, b) => Math.max(a, b), 0);
    const classes = options.classes
      ? checkClasses(options.classes)
      : Array.from({ length: k ?? max + 1 }, (_, i) => String(i));
    if (k !== undefined && classes.length !== k)
      throw invalid(`y is one-hot over ${k} classes but ${classes.length} class names were given`, 'classes');
    if (max >= classes.length) {
      const at = indices.findIndex((v) => v >= classes.length);
      throw invalid(
        `y[${at}] is class index ${max}, but only ${classes.length} classes were given`,
        `y[${at}]`,
      );
    }
    target = { kind: 'classification', name: 'y', classes, y: indices };
  }
  const name = options.name ?? 'memory';
  return { name, n, features, target, source: { kind: 'memory', location: name } };
}

function classIndices(values: ArrayLike<number>): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isInteger(v) || v < 0)
      throw invalid(`y[${i}] is ${v}: expected a class index (a non-negative integer)`, `y[${i}]`);
    out[i] = v;
  }
  return out;
}

function argmaxOneHot(values: ArrayLike<number>, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let hot = -1;
    for (let j = 0; j < k; j++) {
      const v = values[i * k + j] as number;
      if (v === 1 && hot < 0) hot = j;
      else if (v !== 0) {
        hot = -2;
        break;
      }
    }
    if (hot < 0)
      throw invalid(`y row ${i} is not one-hot: expected exactly one 1 and zeros elsewhere`, `y[${i}]`);
    out[i] = hot;
  }
  return out;
}
