/**
 * Response bodies, written as text (no intermediate objects: this is the hot path), numbers formatted
 * as TF Serving formats float32 values.
 */
import { ModelautoError } from '../core/errors.js';
import { flatJson, formatFloat32, formatFloat32Strict, nestedJson } from './json.js';
import type { OipRequestedOutput } from './decode-oip.js';
import type { TfFormat } from './decode-tf.js';
import type { ServedOutputs } from './served-version.js';
import { sampleSizeOf } from './decode-values.js';

type Tensor = { data: Float32Array; sampleShape: number[] };

/** `{"predictions": ...}` (row format) or `{"outputs": ...}` (columnar), TF Serving's json_tensor.cc layout. */
export function tfPredictResponse(out: ServedOutputs, format: TfFormat): string {
  const entries = [...out.tensors.entries()];
  if (format === 'columnar') {
    if (entries.length === 1)
      return `{"outputs":${batchJson((entries[0] as [string, Tensor])[1], out.rows, formatFloat32)}}`;
    const parts = entries.map(
      ([name, t]) => `${JSON.stringify(name)}:${batchJson(t, out.rows, formatFloat32)}`,
    );
    return `{"outputs":{${parts.join(',')}}}`;
  }
  let s = '{"predictions":[';
  for (let r = 0; r < out.rows; r++) {
    if (r) s += ',';
    if (entries.length === 1) {
      s += rowJson((entries[0] as [string, Tensor])[1], r, formatFloat32);
    } else {
      s +=
        '{' +
        entries.map(([name, t]) => `${JSON.stringify(name)}:${rowJson(t, r, formatFloat32)}`).join(',') +
        '}';
    }
  }
  return s + ']}';
}

/** `:classify`: every class with its score, per example: `{"results": [[["label", score], ...], ...]}`. */
export function tfClassifyResponse(out: ServedOutputs, labels: readonly string[]): string {
  const t = classScores(out, labels.length);
  const quoted = labels.map((l) => JSON.stringify(l));
  let s = '{"results":[';
  for (let r = 0; r < out.rows; r++) {
    s += (r ? ',' : '') + '[';
    for (let k = 0; k < labels.length; k++) {
      s += `${k ? ',' : ''}[${quoted[k]},${formatFloat32(t.data[r * labels.length + k] as number)}]`;
    }
    s += ']';
  }
  return s + ']}';
}

/** `:regress`: one value per example: `{"results": [3.5, 4.0]}`. */
export function tfRegressResponse(out: ServedOutputs): string {
  const [entry] = out.tensors.values();
  if (!entry || out.tensors.size !== 1 || sampleSizeOf(entry.sampleShape) !== 1) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      'this model does not give one value per example: use :predict',
    );
  }
  return `{"results":${flatJson(entry.data.subarray(0, out.rows), formatFloat32)}}`;
}

export interface OipResponseContext {
  model: string;
  version: number;
  id: string | undefined;
  requested: OipRequestedOutput[] | undefined;
  labels: readonly string[] | null;
}

/** `{"model_name", "model_version", "id", "outputs": [{"name", "shape", "datatype", "data"}]}`. */
export function oipInferResponse(out: ServedOutputs, ctx: OipResponseContext): string {
  const wanted = ctx.requested ?? [...out.tensors.keys()].map((name) => ({ name }) as OipRequestedOutput);
  const parts = wanted.map((w) => {
    const t = out.tensors.get(w.name) as Tensor;
    if (w.classification !== undefined)
      return classificationJson(w.name, t, out.rows, w.classification, ctx.labels ?? []);
    const shape = [out.rows, ...t.sampleShape];
    return `{"name":${JSON.stringify(w.name)},"shape":[${shape.join(',')}],"datatype":"FP32","data":${flatJson(
      t.data.subarray(0, out.rows * sampleSizeOf(t.sampleShape)),
      formatFloat32Strict,
    )}}`;
  });
  const id = ctx.id !== undefined ? `,"id":${JSON.stringify(ctx.id)}` : '';
  return `{"model_name":${JSON.stringify(ctx.model)},"model_version":"${ctx.version}"${id},"outputs":[${parts.join(',')}]}`;
}

/**
 * Triton's classification extension: the top `k` classes of each row, best first, as BYTES
 * "<score>:<index>:<label>" (score printed with six decimals, as Triton's std::to_string does).
 */
function classificationJson(
  name: string,
  t: Tensor,
  rows: number,
  k: number,
  labels: readonly string[],
): string {
  const classes = sampleSizeOf(t.sampleShape);
  const top = Math.min(k, classes);
  const data: string[] = [];
  for (let r = 0; r < rows; r++) {
    const order = Array.from({ length: classes }, (_, i) => i).sort(
      (a, b) => (t.data[r * classes + b] as number) - (t.data[r * classes + a] as number) || a - b,
    );
    for (const i of order.slice(0, top)) {
      data.push(
        `${(t.data[r * classes + i] as number).toFixed(6)}:${i}${labels[i] !== undefined ? `:${labels[i]}` : ''}`,
      );
    }
  }
  return `{"name":${JSON.stringify(name)},"shape":[${rows},${top}],"datatype":"BYTES","data":${JSON.stringify(data)}}`;
}

function classScores(out: ServedOutputs, classes: number): Tensor {
  const [t] = out.tensors.values();
  if (!t || out.tensors.size !== 1 || t.sampleShape.length !== 1 || t.sampleShape[0] !== classes) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `this model does not give one score per class (${classes} classes): use :predict`,
    );
  }
  return t;
}

function rowJson(t: Tensor, row: number, format: (v: number) => string): string {
  return nestedJson(t.data, row * sampleSizeOf(t.sampleShape), t.sampleShape, format);
}

function batchJson(t: Tensor, rows: number, format: (v: number) => string): string {
  return nestedJson(t.data, 0, [rows, ...t.sampleShape], format);
}
