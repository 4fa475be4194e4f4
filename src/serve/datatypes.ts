/**
 * Tensor element types as the two protocols name them: Open Inference Protocol v2 datatypes (BOOL,
 * UINT8..64, INT8..64, FP16, FP32, FP64, BYTES) and their TensorFlow names (DT_FLOAT, ...) for the
 * TF Serving metadata. A request's datatype decides which JSON values are valid; the served input
 * then decides which datatypes it takes.
 */
export const OIP_DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;
export type OipDatatype = (typeof OIP_DATATYPES)[number];

export function isOipDatatype(v: unknown): v is OipDatatype {
  return typeof v === 'string' && (OIP_DATATYPES as readonly string[]).includes(v);
}

const INTEGER_RANGES: Partial<Record<OipDatatype, [number, number]>> = {
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  // 64-bit integers arrive as JSON numbers: only the exactly representable ones are accepted.
  UINT64: [0, Number.MAX_SAFE_INTEGER],
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

const FP16_MAX = 65504;
const FP32_MAX = 3.4028234663852886e38;

export function isNumericDatatype(t: OipDatatype): boolean {
  return t !== 'BOOL' && t !== 'BYTES';
}

/**
 * Why `value` is not a valid element of datatype `t`, or null when it is. Non-finite floats (NaN,
 * ±Infinity, only reachable through the NaN-aware parser) pass here; whether the model accepts them is
 * the served input's decision.
 */
export function elementProblem(t: OipDatatype, value: unknown): string | null {
  if (t === 'BOOL')
    return typeof value === 'boolean' ? null : `expected true or false for BOOL, got ${describe(value)}`;
  if (t === 'BYTES')
    return typeof value === 'string' ? null : `expected a string for BYTES, got ${describe(value)}`;
  if (typeof value !== 'number') return `expected a number for ${t}, got ${describe(value)}`;
  const range = INTEGER_RANGES[t];
  if (range) {
    if (!Number.isInteger(value)) return `expected an integer for ${t}, got ${describe(value)}`;
    if (value < range[0] || value > range[1]) {
      return `${value} is outside the range of ${t} [${range[0]}, ${range[1]}]`;
    }
    return null;
  }
  if (!Number.isFinite(value)) return null;
  const max = t === 'FP16' ? FP16_MAX : t === 'FP32' ? FP32_MAX : Number.MAX_VALUE;
  if (Math.abs(value) > max) return `${value} is outside the range of ${t}`;
  return null;
}

/**
 * Whether every one of `values` (finite numbers; `integers`: all of them integers) passes
 * elementProblem(t, v): the check the fast lane (fast-body.ts) makes once per list.
 */
export function numbersFit(t: OipDatatype, values: Float64Array, integers: boolean): boolean {
  if (!isNumericDatatype(t)) return false;
  const range = INTEGER_RANGES[t];
  if (range && !integers) return false;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (range) return min >= range[0] && max <= range[1];
  const limit = t === 'FP16' ? FP16_MAX : t === 'FP32' ? FP32_MAX : Number.MAX_VALUE;
  return Math.abs(min) <= limit && Math.abs(max) <= limit;
}

/** A JSON value in an error message: short, and non-finite numbers spelled as the parser read them. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') {
    const s = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return `the string ${JSON.stringify(s)}`;
  }
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return 'an object';
}

/** TensorFlow's name for a served datatype (TF Serving metadata). */
export function tfDtype(t: OipDatatype): string {
  switch (t) {
    case 'BOOL':
      return 'DT_BOOL';
    case 'BYTES':
      return 'DT_STRING';
    case 'FP16':
      return 'DT_HALF';
    case 'FP32':
      return 'DT_FLOAT';
    case 'FP64':
      return 'DT_DOUBLE';
    default:
      return `DT_${t}`;
  }
}
