/**
 * Reads a CSV or JSON Lines file for a batch drift report. Drift files have no label column (or the label
 * is one more column to compare), so this builds on src/data's pieces — its CSV parser, file reading with
 * gzip and strict UTF-8, and its cell typing (readCell) — rather than on the training loaders, which
 * require a label. The reference file decides each column's kind (numeric when every value reads as a
 * number, unless declared); the current file must have the same columns and is read with those kinds,
 * so a stray text value in a numeric column is an error naming the file, line and column.
 */
import { extname } from 'node:path';
import { ModelautoError, type ErrorLocation } from '../../core/errors.js';
import { parseCsv } from '../../data/csv-parse.js';
import { decodeUtf8, maybeGunzip, readDataFile } from '../../data/read.js';
import { DEFAULT_MISSING_VALUES } from '../../data/spec.js';
import { categoryText, listNames, quote, readCell, type Cell } from '../../data/values.js';
import type { ColumnarData } from '../drift/columnar.js';

export type TableFormat = 'csv' | 'jsonl';

export interface TableReadOptions {
  /** Default: from the extension (.csv, .jsonl/.ndjson/.json, each optionally .gz). */
  format?: TableFormat;
  /** CSV delimiter, default ','. */
  delimiter?: string;
  /** Columns forced numeric / categorical (others are inferred from the reference file). */
  numeric?: string[];
  categorical?: string[];
  /** Cell texts that mean "missing" (default: '', NA, N/A, null, ?). */
  missingValues?: string[];
  /** Columns left out (on both sides); a name in neither file is an error. */
  skip?: string[];
}

interface RawTable {
  file: string;
  header: string[];
  headerLine: number;
  rows: { line: number; cells: Cell[] }[];
}

export interface LoadedTable {
  file: string;
  format: TableFormat;
  /** Every column of the file, skipped ones included. */
  header: string[];
  data: ColumnarData;
  kinds: Map<string, 'numeric' | 'categorical'>;
  headerLine: number;
}

function dataError(message: string, location: ErrorLocation): ModelautoError {
  return new ModelautoError('INVALID_DATA', message, { location });
}

export function formatOf(file: string, format?: TableFormat): TableFormat {
  if (format) return format;
  const ext = extname(file.replace(/\.gz$/i, '')).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  throw new ModelautoError(
    'INVALID_ARGUMENT',
    `cannot tell the format of ${file} from its extension; expected .csv, .jsonl, .ndjson or .json (optionally .gz), or give the format (csv or jsonl)`,
    { location: { file } },
  );
}

function checkHeader(file: string, header: string[], line: number): void {
  const seen = new Map<string, number>();
  header.forEach((name, j) => {
    if (name === '')
      throw dataError(`header field ${j + 1} is empty: every column needs a name`, {
        file,
        line,
        column: j + 1,
      });
    const prev = seen.get(name);
    if (prev !== undefined) {
      throw dataError(`duplicate column name ${quote(name)} (fields ${prev + 1} and ${j + 1})`, {
        file,
        line,
        column: name,
      });
    }
    seen.set(name, j);
  });
}

function csvRows(text: string, file: string, delimiter: string): RawTable {
  const records = parseCsv(text, file, delimiter);
  const first = records[0];
  if (!first) throw dataError('empty file: expected a header row and at least one data row', { file });
  const header = first.fields.map((h) => h.trim());
  checkHeader(file, header, first.line);
  const rows = records.slice(1).map(({ line, fields }) => {
    if (fields.length !== header.length) {
      const column = fields.length < header.length ? (header[fields.length] as string) : header.length + 1;
      throw dataError(`expected ${header.length} fields (${listNames(header)}), found ${fields.length}`, {
        file,
        line,
        column,
      });
    }
    return { line, cells: fields as Cell[] };
  });
  return { file, header, headerLine: first.line, rows };
}

function jsonlRows(text: string, file: string): RawTable {
  let header: string[] | undefined;
  let index = new Map<string, number>();
  let headerLine = 0;
  const rows: RawTable['rows'] = [];
  (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split(/\r?\n/).forEach((src, k) => {
    const line = k + 1;
    if (src.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(src);
    } catch (e) {
      throw dataError(`invalid JSON: ${(e as Error).message}`, { file, line });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw dataError('expected a JSON object', { file, line });
    }
    const record = value as Record<string, unknown>;
    if (!header) {
      header = Object.keys(record);
      if (header.length === 0) throw dataError('the first object has no fields', { file, line });
      index = new Map(header.map((h, j) => [h, j]));
      headerLine = line;
    }
    const cells = new Array<Cell>(header.length).fill(null);
    for (const [key, v] of Object.entries(record)) {
      const j = index.get(key);
      if (j === undefined) {
        throw dataError(
          `field ${quote(key)} does not appear in the first object (line ${headerLine}), whose fields are: ${listNames(header)}`,
          { file, line, column: key },
        );
      }
      if (typeof v === 'object' && v !== null) {
        throw dataError('nested values are not supported; expected a number, string, boolean or null', {
          file,
          line,
          column: key,
        });
      }
      cells[j] = v as Cell;
    }
    rows.push({ line, cells });
  });
  if (!header) throw dataError('empty file: expected at least one JSON object', { file });
  return { file, header, headerLine, rows };
}

async function readRaw(
  file: string,
  options: TableReadOptions,
): Promise<{ raw: RawTable; format: TableFormat }> {
  const format = formatOf(file, options.format);
  const text = decodeUtf8(maybeGunzip(await readDataFile(file), file), file);
  const raw = format === 'csv' ? csvRows(text, file, options.delimiter ?? ',') : jsonlRows(text, file);
  if (raw.rows.length === 0) throw dataError('no data rows', { file });
  return { raw, format };
}

/** Infers kinds: declared ones, else numeric when every non-missing cell reads as a number. */
function inferKinds(
  raw: RawTable,
  options: TableReadOptions,
  missing: ReadonlySet<string>,
): Map<string, 'numeric' | 'categorical'> {
  for (const key of ['numeric', 'categorical'] as const) {
    for (const name of options[key] ?? []) {
      if (!raw.header.includes(name)) {
        throw dataError(
          `column ${quote(name)} listed as ${key} not found; available columns: ${listNames(raw.header)}`,
          {
            file: raw.file,
            line: raw.headerLine,
            column: name,
          },
        );
      }
    }
  }
  const kinds = new Map<string, 'numeric' | 'categorical'>();
  const skip = new Set(options.skip ?? []);
  raw.header.forEach((name, j) => {
    if (skip.has(name)) return;
    if (options.numeric?.includes(name)) kinds.set(name, 'numeric');
    else if (options.categorical?.includes(name)) kinds.set(name, 'categorical');
    else {
      const numeric = raw.rows.every(({ cells }) => {
        const k = readCell(cells[j] ?? null, missing).kind;
        return k === 'number' || k === 'nonfinite' || k === 'missing';
      });
      kinds.set(name, numeric ? 'numeric' : 'categorical');
    }
  });
  return kinds;
}

function toColumnar(
  raw: RawTable,
  kinds: ReadonlyMap<string, 'numeric' | 'categorical'>,
  missing: ReadonlySet<string>,
  kindSource: string,
): ColumnarData {
  const n = raw.rows.length;
  const numeric = new Map<string, Float64Array>();
  const categorical = new Map<string, (string | null)[]>();
  raw.header.forEach((name, j) => {
    if (!kinds.has(name)) return; // skipped
    if (kinds.get(name) === 'numeric') {
      const col = new Float64Array(n);
      raw.rows.forEach(({ line, cells }, i) => {
        const cell = cells[j] ?? null;
        const rd = readCell(cell, missing);
        if (rd.kind === 'missing') col[i] = NaN;
        else if (rd.kind === 'number') col[i] = rd.value;
        else if (rd.kind === 'nonfinite') {
          throw dataError(
            `non-finite value ${quote(rd.text)} in a numeric column; use an empty cell for a missing value`,
            {
              file: raw.file,
              line,
              column: name,
            },
          );
        } else {
          throw dataError(
            `non-numeric value ${quote(rd.text)} in a column that is numeric ${kindSource}; expected a number`,
            {
              file: raw.file,
              line,
              column: name,
            },
          );
        }
      });
      numeric.set(name, col);
    } else {
      categorical.set(
        name,
        raw.rows.map(({ cells }) => {
          const cell = cells[j] ?? null;
          const rd = readCell(cell, missing);
          return rd.kind === 'missing' ? null : categoryText(cell as string | number | boolean, rd);
        }),
      );
    }
  });
  return { rows: n, numeric, categorical, order: raw.header.filter((c) => kinds.has(c)) };
}

/** Reads the reference file, inferring each column's kind. */
export async function loadReferenceTable(file: string, options: TableReadOptions = {}): Promise<LoadedTable> {
  const missing = new Set(options.missingValues ?? DEFAULT_MISSING_VALUES);
  const { raw, format } = await readRaw(file, options);
  const kinds = inferKinds(raw, options, missing);
  return {
    file,
    format,
    header: raw.header,
    data: toColumnar(raw, kinds, missing, 'in this file'),
    kinds,
    headerLine: raw.headerLine,
  };
}

/**
 * Reads the current file with the reference's columns and kinds. Every reference column must be present
 * and no other (columns in `skip` are ignored on both sides).
 */
export async function loadCurrentTable(
  file: string,
  reference: LoadedTable,
  options: TableReadOptions = {},
): Promise<LoadedTable> {
  const missing = new Set(options.missingValues ?? DEFAULT_MISSING_VALUES);
  const { raw, format } = await readRaw(file, options);
  const skip = new Set(options.skip ?? []);
  const refColumns = [...reference.kinds.keys()];
  const absent = refColumns.filter((c) => !raw.header.includes(c));
  if (absent.length > 0) {
    const more = absent.length > 1 ? ` (and ${absent.length - 1} more: ${listNames(absent.slice(1))})` : '';
    throw dataError(
      `column ${quote(absent[0])} of the reference (${reference.file}) is missing${more}; this file's columns are: ${listNames(raw.header)}`,
      { file, line: raw.headerLine, column: absent[0] as string },
    );
  }
  const extra = raw.header.filter((c) => !reference.kinds.has(c) && !skip.has(c));
  if (extra.length > 0) {
    throw dataError(
      `column ${quote(extra[0])} is not in the reference (${reference.file}), whose columns are: ${listNames(refColumns)} (skip it to leave it out)`,
      { file, line: raw.headerLine, column: extra[0] as string },
    );
  }
  const data = toColumnar(raw, reference.kinds, missing, `in the reference (${reference.file})`);
  // report in the reference's column order
  return {
    file,
    format,
    header: raw.header,
    data: { ...data, order: refColumns },
    kinds: reference.kinds,
    headerLine: raw.headerLine,
  };
}
