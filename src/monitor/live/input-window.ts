/**
 * The recent raw inputs of one served version (as clients sent them, before the saved preprocessing)
 * and the classes predicted for them, in a bounded ring: what live drift compares with the version's
 * training profile. Rows are copied in, so the window never holds on to request buffers.
 *
 * Columns are named as the training profile names them (src/data/profile.ts): a table model's
 * columns by their names; an image model's flattened positions `px_<i>`. Missing values (null, "",
 * NaN) are NaN in numeric columns and null in categorical ones.
 */
import { categoryText, readCell, type Cell } from '../../data/values.js';
import type { DecodedInputs, ServedSignature } from '../../serve/index.js';

/** The columnar form the drift statistics read (src/monitor/drift's ColumnarData). */
export interface WindowData {
  rows: number;
  numeric: Map<string, Float64Array>;
  categorical: Map<string, (string | null)[]>;
}

export interface WindowSlice {
  data: WindowData;
  /** Predicted class per row; null entries for rows without one (non-classifiers). */
  predictions: (string | null)[];
  /** Arrival time of the oldest and newest row in the slice (epoch ms). */
  start: number;
  end: number;
}

const MISSING = new Set(['']);

type ColumnStore =
  | { kind: 'tensor'; name: string; size: number; values: Float32Array }
  | { kind: 'numeric' | 'categorical'; name: string; cells: Cell[] };

/** Profile column names of a tensor input's flattened positions. */
function pixelName(input: string, single: boolean, i: number): string {
  return single ? `px_${i}` : `${input}[${i}]`;
}

export class InputWindow {
  private readonly columns: ColumnStore[];
  private readonly times: Float64Array;
  private readonly predicted: (string | null)[];
  private next = 0;
  private size = 0;
  private readonly singleTensor: boolean;

  constructor(
    signature: ServedSignature,
    readonly capacity: number,
  ) {
    this.times = new Float64Array(capacity);
    this.predicted = new Array<string | null>(capacity).fill(null);
    this.singleTensor = signature.inputs.length === 1 && signature.inputs[0]?.role === 'tensor';
    this.columns = signature.inputs.map((i): ColumnStore => {
      if (i.role === 'tensor') {
        const size = i.sampleShape.reduce((a, b) => a * b, 1);
        return { kind: 'tensor', name: i.name, size, values: new Float32Array(capacity * size) };
      }
      return { kind: i.kind, name: i.name, cells: new Array<Cell>(capacity).fill(null) };
    });
  }

  /** Rows held now. */
  get rows(): number {
    return this.size;
  }

  /** Adds the rows of one answered request. */
  push(inputs: DecodedInputs, rows: number, at: number, predicted: readonly string[] | null): void {
    // A request larger than the window: only its last `capacity` rows can be kept.
    const first = Math.max(0, rows - this.capacity);
    for (let r = first; r < rows; r++) {
      const slot = this.next;
      for (const c of this.columns) {
        const d = inputs.get(c.name);
        if (c.kind === 'tensor') {
          if (d?.role === 'tensor')
            c.values.set(d.data.subarray(r * c.size, (r + 1) * c.size), slot * c.size);
          else c.values.fill(Number.NaN, slot * c.size, (slot + 1) * c.size);
        } else {
          c.cells[slot] = d?.role === 'column' ? (d.values[r] ?? null) : null;
        }
      }
      this.times[slot] = at;
      this.predicted[slot] = predicted?.[r] ?? null;
      this.next = (slot + 1) % this.capacity;
      if (this.size < this.capacity) this.size++;
    }
  }

  /** Ring slots of the newest rows: at most `rows` of them, none older than `since`; oldest first. */
  private slots(rows: number | null, since: number | null): number[] {
    const out: number[] = [];
    const limit = Math.min(rows ?? this.size, this.size);
    for (let k = 1; k <= limit; k++) {
      const slot = (this.next - k + this.capacity) % this.capacity;
      if (since !== null && (this.times[slot] as number) < since) break;
      out.push(slot);
    }
    return out.reverse();
  }

  /** The newest `rows` rows (null: all) received at or after `since` (null: any time), as columns. */
  slice(rows: number | null, since: number | null): WindowSlice {
    const slots = this.slots(rows, since);
    const n = slots.length;
    const numeric = new Map<string, Float64Array>();
    const categorical = new Map<string, (string | null)[]>();
    for (const c of this.columns) {
      if (c.kind === 'tensor') {
        for (let j = 0; j < c.size; j++) {
          const col = new Float64Array(n);
          for (let k = 0; k < n; k++) col[k] = c.values[(slots[k] as number) * c.size + j] as number;
          numeric.set(pixelName(c.name, this.singleTensor, j), col);
        }
      } else if (c.kind === 'numeric') {
        const col = new Float64Array(n);
        for (let k = 0; k < n; k++) {
          const r = readCell(c.cells[slots[k] as number] ?? null, MISSING);
          col[k] = r.kind === 'number' ? r.value : Number.NaN;
        }
        numeric.set(c.name, col);
      } else {
        categorical.set(
          c.name,
          slots.map((s) => {
            const cell = c.cells[s] ?? null;
            const r = readCell(cell, MISSING);
            return r.kind === 'missing' || cell === null ? null : categoryText(cell, r);
          }),
        );
      }
    }
    return {
      data: { rows: n, numeric, categorical },
      predictions: slots.map((s) => this.predicted[s] ?? null),
      start: n ? (this.times[slots[0] as number] as number) : Number.NaN,
      end: n ? (this.times[slots[n - 1] as number] as number) : Number.NaN,
    };
  }
}
