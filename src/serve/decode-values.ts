/**
 * Reading JSON values into a served input, shared by both protocols: samples of a tensor input into a
 * Float32Array (every value a finite number), cells of a column input into the values the saved
 * preprocessing reads (numbers, texts, booleans; null = missing).
 */
import { ModelautoError } from '../core/errors.js';
import type { Cell } from '../data/values.js';
import { describe } from './datatypes.js';
import type { DecodedInput } from './features.js';
import type { ServedInput } from './signature.js';

export function bad(message: string): ModelautoError {
  return new ModelautoError('INVALID_ARGUMENT', message);
}

/** `{"b64": "..."}`: TF Serving's encoding of binary strings. */
export function isB64(v: unknown): v is { b64: string } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] === 'b64' && typeof (v as { b64: unknown }).b64 === 'string';
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isB64(v);
}

export function sampleSizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/** Collects the rows of one served input. */
export class InputReader {
  private readonly tensor: Float32Array | undefined;
  private readonly cells: Cell[] | undefined;
  private readonly size: number;

  constructor(
    readonly input: ServedInput,
    readonly rows: number,
  ) {
    if (input.role === 'tensor') {
      this.size = sampleSizeOf(input.sampleShape);
      this.tensor = new Float32Array(rows * this.size);
    } else {
      this.size = 1;
      this.cells = new Array<Cell>(rows);
    }
  }

  result(): DecodedInput {
    return this.tensor
      ? { role: 'tensor', data: this.tensor }
      : { role: 'column', values: this.cells as Cell[] };
  }

  /** One row's value: a sample (nested as the sample shape, or flat) or one cell. */
  row(value: unknown, row: number, path: string): void {
    if (this.tensor) this.sample(value, row * this.size, path);
    else (this.cells as Cell[])[row] = this.cell(value, path);
  }

  /** Every row at once: a list with one entry per row. */
  batch(value: unknown, path: string): void {
    if (!Array.isArray(value)) {
      throw bad(`${path}: expected a list with one entry per row, got ${describe(value)}`);
    }
    if (value.length !== this.rows) {
      throw bad(`${path}: expected ${this.rows} rows (as in the other inputs), got ${value.length}`);
    }
    for (let i = 0; i < value.length; i++) this.row(value[i], i, `${path}[${i}]`);
  }

  /** A flat run of values already checked against a datatype (OIP), `row` rows from row 0. */
  flat(values: readonly unknown[], path: (i: number) => string): void {
    if (this.tensor) {
      const out = this.tensor;
      for (let i = 0; i < values.length; i++) out[i] = this.number(values[i], path(i));
    } else {
      const cells = this.cells as Cell[];
      for (let i = 0; i < values.length; i++) cells[i] = this.cell(values[i], path(i));
    }
  }

  private sample(value: unknown, offset: number, path: string): void {
    const shape = (this.input as Extract<ServedInput, { role: 'tensor' }>).sampleShape;
    const out = this.tensor as Float32Array;
    if (shape.length === 0) {
      out[offset] = this.number(Array.isArray(value) && value.length === 1 ? value[0] : value, path);
      return;
    }
    if (!Array.isArray(value)) {
      throw bad(
        `${path}: expected a list of shape [${shape.join(', ')}] for input "${this.input.name}", got ${describe(value)}`,
      );
    }
    // Flat samples are accepted for any sample shape (784 pixels for a 28x28 image).
    if (value.length === this.size && (shape.length === 1 || !Array.isArray(value[0]))) {
      for (let i = 0; i < value.length; i++) {
        const v = value[i];
        out[offset + i] = typeof v === 'number' && Number.isFinite(v) ? v : this.number(v, `${path}[${i}]`);
      }
      return;
    }
    // Size-1 dimensions may be left out ([28, 28] for [28, 28, 1]): the values keep their order.
    const squeezed = shape.filter((d) => d !== 1);
    this.nested(
      value,
      depthOf(value) === squeezed.length && squeezed.length !== shape.length ? squeezed : shape,
      0,
      offset,
      path,
    );
  }

  private nested(
    value: unknown,
    shape: readonly number[],
    dim: number,
    offset: number,
    path: string,
  ): number {
    const n = shape[dim] as number;
    if (!Array.isArray(value) || value.length !== n) {
      throw bad(
        `${path}: expected a list of ${n} ${dim === shape.length - 1 ? 'numbers' : 'lists'} ` +
          `(input "${this.input.name}" takes samples of shape [${shape.join(', ')}]), got ${describe(value)}`,
      );
    }
    const out = this.tensor as Float32Array;
    if (dim === shape.length - 1) {
      for (let i = 0; i < n; i++) out[offset + i] = this.number(value[i], `${path}[${i}]`);
      return offset + n;
    }
    let at = offset;
    for (let i = 0; i < n; i++) at = this.nested(value[i], shape, dim + 1, at, `${path}[${i}]`);
    return at;
  }

  private number(v: unknown, path: string): number {
    if (typeof v !== 'number')
      throw bad(`${path}: expected a number for input "${this.input.name}", got ${describe(v)}`);
    if (!Number.isFinite(v)) {
      throw bad(`${path}: ${v} is not allowed: input "${this.input.name}" takes finite numbers`);
    }
    return v;
  }

  private cell(value: unknown, path: string): Cell {
    const input = this.input as Extract<ServedInput, { role: 'column' }>;
    let v = value;
    // A row of a [-1, 1] column, or a TF Serving feature list of one value.
    if (Array.isArray(v)) {
      if (v.length !== 1) {
        throw bad(`${path}: expected one value for column "${input.name}", got a list of ${v.length}`);
      }
      v = v[0];
    }
    if (isB64(v)) v = Buffer.from(v.b64, 'base64').toString('utf8');
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') {
      if (Number.isFinite(v)) return v;
      if (Number.isNaN(v) && input.nanIsMissing) return null;
      throw bad(
        `${path}: ${v} is not allowed for column "${input.name}"` +
          (Number.isNaN(v)
            ? input.kind === 'numeric'
              ? ' (the model was trained with missing.policy error: it cannot fill in missing values)'
              : ' (a categorical column takes a text, a number or a boolean)'
            : ': expected a finite number'),
      );
    }
    throw bad(
      `${path}: expected one value (a number, text, boolean or null) for column "${input.name}", got ${describe(v)}`,
    );
  }
}

/** How many list levels deep a value goes (following first elements). */
function depthOf(value: unknown): number {
  let depth = 0;
  let v = value;
  while (Array.isArray(v)) {
    depth++;
    v = v[0];
  }
  return depth;
}
