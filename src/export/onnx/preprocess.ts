import type { Dataset } from '../../data/types.js';
import type { PreprocessorState } from '../../data/preprocess-state.js';
import { ModelautoError } from '../../core/errors.js';
import { attr, ML_DOMAIN, type OnnxGraph, type ValueInfo } from './graph.js';
import { DataType } from './proto.js';
import type { FeedValue } from './runtime.js';

/**
 * The fitted preprocessing (src/data/preprocess.ts) as ONNX nodes in front of the model, so that the
 * exported graph takes raw data.
 * - tensor data: one input `input` of raw samples (e.g. pixels 0-255), scaled as at training time;
 * - table data: one input per column, `[batch, 1]`: float for numeric columns (NaN = missing), string for
 *   categorical ones. Missing values are imputed with the fitted fill, numeric columns scaled, categories
 *   one-hot encoded in the training order (ai.onnx.ml LabelEncoder + OneHotEncoder), then concatenated.
 * Differences from the JS transform: strings are matched as given (not trimmed), and with
 * `missing: error` a NaN is passed on (the graph cannot refuse a record) — validate records before.
 */
export function preprocessingStage(state: PreprocessorState): {
  inputs: ValueInfo[];
  stage: (graph: OnnxGraph) => string;
} {
  if (state.kind === 'tensor') {
    const input: ValueInfo = { name: 'input', elemType: DataType.FLOAT, shape: ['batch', ...state.shape] };
    return {
      inputs: [input],
      stage: (g) => {
        const x = g.addInput(input);
        const p = state.pixels;
        if (p.method === 'none') return x;
        if (p.method === 'scale')
          return g.op('Div', [x, g.floats('pixels_divisor', [], [p.divisor])], 'pixels_scaled');
        const centered = g.op('Sub', [x, g.floats('pixels_mean', [], [p.mean])], 'pixels_centered');
        return p.std === 0
          ? g.op('Mul', [centered, g.floats('pixels_zero', [], [0])], 'pixels_scaled')
          : g.op('Div', [centered, g.floats('pixels_std', [], [p.std])], 'pixels_scaled');
      },
    };
  }
  const inputs: ValueInfo[] = state.columns.map((c) => ({
    name: c.name,
    elemType: c.kind === 'numeric' ? DataType.FLOAT : DataType.STRING,
    shape: ['batch', 1],
  }));
  return {
    inputs,
    stage: (g) => {
      const parts = state.columns.map((c, k) => {
        const x = g.addInput(inputs[k] as ValueInfo);
        const id = `col${k}`;
        if (c.kind === 'numeric') {
          const filled =
            state.missing === 'impute'
              ? g.op(
                  'Where',
                  [g.op('IsNaN', [x], `${id}_isnan`), g.floats(`${id}_fill`, [], [c.fill]), x],
                  `${id}_filled`,
                )
              : x;
          const s = c.scaling;
          if (s.method === 'none') return filled;
          const [offset, factor] =
            s.method === 'standardize'
              ? [s.mean, s.std === 0 ? 0 : 1 / s.std]
              : [s.min, s.max === s.min ? 0 : 1 / (s.max - s.min)];
          const centered = g.op('Sub', [filled, g.floats(`${id}_offset`, [], [offset])], `${id}_centered`);
          return g.op('Mul', [centered, g.floats(`${id}_factor`, [], [factor])], `${id}_scaled`);
        }
        // Known categories map to themselves, missing markers to the fill, anything else to a value no
        // category has: OneHotEncoder then gives all zeros (unknownCategory ignore) or fails (error).
        const unknown = '\u0000unknown';
        const keys = [...c.categories, ...state.missingValues.filter((m) => !c.categories.includes(m))];
        const values = keys.map((key, i) => (i < c.categories.length ? key : c.fill));
        const mapped = g.op(
          'LabelEncoder',
          [x],
          `${id}_mapped`,
          [
            attr.strings('keys_strings', keys),
            attr.strings('values_strings', values),
            attr.string('default_string', unknown),
          ],
          ML_DOMAIN,
        );
        const onehot = g.op(
          'OneHotEncoder',
          [mapped],
          `${id}_onehot3d`,
          [
            attr.strings('cats_strings', c.categories),
            attr.int('zeros', state.unknownCategory === 'ignore' ? 1 : 0),
          ],
          ML_DOMAIN,
        );
        // onnx's shape inference has no rule for OneHotEncoder: declare its float [batch, 1, K] output.
        g.valueInfos.push({
          name: onehot,
          elemType: DataType.FLOAT,
          shape: ['batch', 1, c.categories.length],
        });
        return g.op('Flatten', [onehot], `${id}_onehot`, [attr.int('axis', 1)]);
      });
      if (parts.length === 1) return parts[0] as string;
      return g.op('Concat', parts, 'features', [attr.int('axis', 1)]);
    },
  };
}

/**
 * Raw feeds for a graph with preprocessing nodes: tensor samples as they are, table columns as
 * `[n, 1]` float (NaN when missing) or string (the first missing marker when missing).
 */
export function rawFeeds(
  state: PreprocessorState,
  ds: Dataset,
  start = 0,
  end = ds.n,
): Record<string, FeedValue> {
  const n = end - start;
  const f = ds.features;
  if (state.kind === 'tensor') {
    if (f.kind !== 'tensor')
      throw new ModelautoError('INVALID_DATA', 'expected tensor features for this model');
    const size = state.shape.reduce((a, b) => a * b, 1);
    return {
      input: {
        type: 'float32',
        data: Float32Array.from(f.data.subarray(start * size, end * size)),
        dims: [n, ...state.shape],
      },
    };
  }
  if (f.kind !== 'table') throw new ModelautoError('INVALID_DATA', 'expected table columns for this model');
  const feeds: Record<string, FeedValue> = {};
  for (const c of state.columns) {
    const col = f.columns.find((x) => x.name === c.name);
    if (!col)
      throw new ModelautoError('INVALID_DATA', 'column missing from the data', {
        location: { column: c.name },
      });
    if (col.kind === 'numeric') {
      feeds[c.name] = {
        type: 'float32',
        data: Float32Array.from(col.values.subarray(start, end)),
        dims: [n, 1],
      };
    } else {
      const marker = state.kind === 'table' ? (state.missingValues[0] ?? '') : '';
      feeds[c.name] = {
        type: 'string',
        data: col.values.slice(start, end).map((v) => v ?? marker),
        dims: [n, 1],
      };
    }
  }
  return feeds;
}
