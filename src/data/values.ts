/**
 * How one raw cell (CSV text or a JSON value) reads: the typing rules shared by the CSV and JSON Lines
 * loaders and by prediction-time records.
 */
export type Cell = string | number | boolean | null;

export type CellReading =
  | { kind: 'missing' }
  | { kind: 'number'; value: number }
  /** NaN / Infinity spelled out, or a number too large for a double: numeric-looking but unusable. */
  | { kind: 'nonfinite'; text: string }
  | { kind: 'boolean'; text: 'true' | 'false' }
  | { kind: 'text'; text: string };

// Plain decimal notation only: Number() would also accept hex, binary and '' (as 0).
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i;

export function readCell(cell: Cell | undefined, missing: ReadonlySet<string>): CellReading {
  if (cell === null || cell === undefined) return { kind: 'missing' };
  if (typeof cell === 'boolean') return { kind: 'boolean', text: cell ? 'true' : 'false' };
  if (typeof cell === 'number') {
    return Number.isFinite(cell)
      ? { kind: 'number', value: cell }
      : { kind: 'nonfinite', text: String(cell) };
  }
  const text = cell.trim();
  if (missing.has(text)) return { kind: 'missing' };
  if (DECIMAL.test(text)) {
    const value = Number(text);
    return Number.isFinite(value) ? { kind: 'number', value } : { kind: 'nonfinite', text };
  }
  if (NON_FINITE.test(text)) return { kind: 'nonfinite', text };
  return { kind: 'text', text };
}

/** The category text of a non-missing reading (numbers keep their source spelling when they came as text). */
export function categoryText(cell: Cell, reading: CellReading): string {
  if (typeof cell === 'string') return cell.trim();
  if (reading.kind === 'boolean') return reading.text;
  return String(cell);
}

/** Shows a value in an error message, shortened so one bad cell cannot flood the terminal. */
export function quote(value: unknown): string {
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  const short = s.length > 60 ? `${s.slice(0, 57)}...` : s;
  return JSON.stringify(short);
}

/** Lists names in an error message, shortened for very wide tables. */
export function listNames(names: readonly string[], max = 30): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, ... (${names.length} in all)` : shown;
}
