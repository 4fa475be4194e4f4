import { ModelautoError } from '../core/errors.js';
import type { PreprocessSpec } from './spec.js';
import type { ColumnState, NumericScaling, PixelScaling, TargetState } from './preprocess-state.js';
import type { CategoricalColumn, Dataset, NumericColumn, Target, TensorFeatures } from './types.js';

function noValues(ds: Dataset, column: string, what: string): ModelautoError {
  return new ModelautoError(
    'INVALID_DATA',
    `column has no values in the training split (${ds.n} rows), so its ${what} is undefined; use impute constant or drop the column`,
    { location: { column } },
  );
}

export function fitNumericColumn(ds: Dataset, col: NumericColumn, config: PreprocessSpec): ColumnState {
  const present = col.values.filter((v) => !Number.isNaN(v));
  let fill: number;
  const strategy = config.impute.numeric;
  if (strategy === 'constant') {
    fill = typeof config.impute.fillValue === 'number' ? config.impute.fillValue : 0;
  } else if (present.length === 0) {
    throw noValues(ds, col.name, strategy);
  } else {
    fill = strategy === 'mean' ? mean(present) : median(present);
  }
  // like a scikit-learn Pipeline(SimpleImputer, scaler): scaling statistics see the imputed column
  const imputed =
    present.length === col.values.length ? col.values : col.values.map((v) => (Number.isNaN(v) ? fill : v));
  return { name: col.name, kind: 'numeric', fill, scaling: fitScaling(imputed, config.numeric) };
}

function fitScaling(values: Float64Array, method: PreprocessSpec['numeric']): NumericScaling {
  switch (method) {
    case 'standardize': {
      const m = mean(values);
      return { method, mean: m, std: populationStd(values, m) };
    }
    case 'minmax': {
      let min = Infinity;
      let max = -Infinity;
      for (const v of values) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      return { method, min, max };
    }
    case 'none':
      return { method };
  }
}

export function fitCategoricalColumn(
  ds: Dataset,
  col: CategoricalColumn,
  config: PreprocessSpec,
): ColumnState {
  const counts = new Map<string, number>();
  let missing = 0;
  for (const v of col.values) {
    if (v === null) missing++;
    else counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  let fill: string;
  if (config.impute.categorical === 'constant') {
    fill = config.impute.fillValue === undefined ? 'missing' : String(config.impute.fillValue);
  } else if (counts.size === 0) {
    throw noValues(ds, col.name, 'most frequent value');
  } else {
    // ties go to the smallest value, as in scikit-learn's SimpleImputer
    fill = [...counts].reduce((best, cur) =>
      cur[1] > best[1] || (cur[1] === best[1] && cur[0] < best[0]) ? cur : best,
    )[0];
  }
  if (missing > 0) counts.set(fill, (counts.get(fill) ?? 0) + missing);
  const categories = [...counts.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { name: col.name, kind: 'categorical', fill, categories };
}

export function fitPixels(f: TensorFeatures, method: PreprocessSpec['pixels']): PixelScaling {
  switch (method) {
    case 'scale':
      return { method, divisor: 255 };
    case 'none':
      return { method };
    case 'standardize': {
      const m = mean(f.data);
      return { method, mean: m, std: populationStd(f.data, m) };
    }
  }
}

export function targetState(t: Target): TargetState {
  return t.kind === 'classification'
    ? { kind: t.kind, name: t.name, classes: [...t.classes] }
    : { kind: t.kind, name: t.name };
}

function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] as number;
  return values.length ? s / values.length : 0;
}

/** Standard deviation with divisor n (numpy's default, scikit-learn's StandardScaler). */
function populationStd(values: ArrayLike<number>, m: number): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) {
    const d = (values[i] as number) - m;
    s += d * d;
  }
  return values.length ? Math.sqrt(s / values.length) : 0;
}

function median(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
