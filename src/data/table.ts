import { ModelautoError, type ErrorLocation } from '../core/errors.js';
import { indexLabels, sortClasses } from './classes.js';
import { DEFAULT_MISSING_VALUES, type MissingPolicy } from './spec.js';
import type { Column, DataSource, Dataset, Target } from './types.js';
import { categoryText, listNames, quote, readCell, type Cell, type CellReading } from './values.js';

/** Options of the tabular loaders (CSV, JSON Lines); the same fields as the spec's, defaults filled in here. */
export interface TableLoadOptions {
  label: string;
  numeric?: string[];
  categorical?: string[];
  ignore?: string[];
  classes?: string[];
  task?: 'classification' | 'regression';
  missing?: { values?: string[]; policy?: MissingPolicy };
}

/** A parsed file before typing: header names and rows of cells aligned with them. */
export interface RawTable {
  file: string;
  header: string[];
  headerLine: number;
  rows: { line: number; cells: Cell[] }[];
}

export function dataError(message: string, location: ErrorLocation): ModelautoError {
  return new ModelautoError('INVALID_DATA', message, { location });
}

/** Types columns, applies the missing-value policy and encodes the label: shared by CSV and JSON Lines. */
export function buildTable(
  raw: RawTable,
  opts: TableLoadOptions,
  meta: { name: string; source: DataSource },
): Dataset {
  const { file, header } = raw;
  const missing = new Set(opts.missing?.values ?? DEFAULT_MISSING_VALUES);
  const policy = opts.missing?.policy ?? 'error';
  const task = opts.task ?? 'classification';
  const at = (line: number, column?: string): ErrorLocation =>
    column === undefined ? { file, line } : { file, line, column };

  const labelIdx = header.indexOf(opts.label);
  if (labelIdx < 0) {
    throw dataError(`label column ${quote(opts.label)} not found; available columns: ${listNames(header)}`, {
      ...at(raw.headerLine),
      column: opts.label,
    });
  }
  for (const key of ['numeric', 'categorical', 'ignore'] as const) {
    for (const name of opts[key] ?? []) {
      if (!header.includes(name)) {
        throw dataError(
          `column ${quote(name)} listed in ${key} not found; available columns: ${listNames(header)}`,
          {
            ...at(raw.headerLine),
            column: name,
          },
        );
      }
      if (name === opts.label) {
        throw dataError(`the label column cannot also be listed in ${key}`, {
          ...at(raw.headerLine),
          column: name,
        });
      }
    }
  }
  if (task === 'regression' && opts.classes) {
    throw dataError('classes cannot be given for a regression label', { file, column: opts.label });
  }

  const ignored = new Set(opts.ignore ?? []);
  const featureIdx = header
    .map((_, j) => j)
    .filter((j) => j !== labelIdx && !ignored.has(header[j] as string));
  if (featureIdx.length === 0) {
    throw dataError(`no feature columns left besides the label ${quote(opts.label)}`, at(raw.headerLine));
  }
  const numericCols = inferNumeric(raw, featureIdx, opts, missing);

  const keep: boolean[] = new Array<boolean>(raw.rows.length).fill(true);
  const numValues = new Map<number, Float64Array>();
  const catValues = new Map<number, (string | null)[]>();
  for (const j of featureIdx) {
    if (numericCols.has(j)) numValues.set(j, new Float64Array(raw.rows.length));
    else catValues.set(j, new Array<string | null>(raw.rows.length));
  }
  const labels: string[] = new Array<string>(raw.rows.length);
  const yReg = new Float64Array(task === 'regression' ? raw.rows.length : 0);
  const classLookup = opts.classes ? new Set(opts.classes) : undefined;

  raw.rows.forEach(({ line, cells }, r) => {
    for (const j of featureIdx) {
      const name = header[j] as string;
      const cell = cells[j] ?? null;
      const rd = readCell(cell, missing);
      const nums = numValues.get(j);
      if (rd.kind === 'missing') {
        if (policy === 'error') {
          throw dataError(
            `missing value ${quote(cell ?? '')} (missing.policy is 'error'; use 'drop' or 'impute' to accept missing values)`,
            at(line, name),
          );
        }
        if (policy === 'drop') keep[r] = false;
        if (nums) nums[r] = NaN;
        else (catValues.get(j) as (string | null)[])[r] = null;
        continue;
      }
      if (nums) nums[r] = numericValue(rd, () => at(line, name), 'numeric column');
      else (catValues.get(j) as (string | null)[])[r] = categoryText(cell as string | number | boolean, rd);
    }

    const cell = cells[labelIdx] ?? null;
    const rd = readCell(cell, missing);
    if (rd.kind === 'missing')
      throw dataError(`missing label value ${quote(cell ?? '')}`, at(line, opts.label));
    if (task === 'regression') {
      yReg[r] = numericValue(rd, () => at(line, opts.label), 'regression label');
    } else {
      const text = categoryText(cell as string | number | boolean, rd);
      if (classLookup && !classLookup.has(text)) {
        throw dataError(
          `unknown label ${quote(text)}; expected one of the declared classes: ${listNames(opts.classes ?? [])}`,
          at(line, opts.label),
        );
      }
      labels[r] = text;
    }
  });

  const rows = keep.flatMap((k, r) => (k ? [r] : []));
  if (rows.length === 0) {
    throw dataError(
      raw.rows.length === 0
        ? 'no data rows'
        : `every one of the ${raw.rows.length} rows has a missing value, so none is left (missing.policy is 'drop')`,
      { file },
    );
  }
  const all = rows.length === raw.rows.length;
  const columns: Column[] = featureIdx.map((j) => {
    const name = header[j] as string;
    const nums = numValues.get(j);
    if (nums)
      return {
        name,
        kind: 'numeric',
        values: all ? nums : Float64Array.from(rows, (r) => nums[r] as number),
      };
    const cats = catValues.get(j) as (string | null)[];
    return { name, kind: 'categorical', values: all ? cats : rows.map((r) => cats[r] ?? null) };
  });

  let target: Target;
  if (task === 'regression') {
    target = {
      kind: 'regression',
      name: opts.label,
      y: all ? yReg : Float64Array.from(rows, (r) => yReg[r] as number),
    };
  } else {
    const kept = all ? labels : rows.map((r) => labels[r] as string);
    const classes = opts.classes ? [...opts.classes] : sortClasses(kept);
    target = { kind: 'classification', name: opts.label, classes, y: indexLabels(kept, classes).y };
  }
  return {
    name: meta.name,
    n: rows.length,
    features: { kind: 'table', columns },
    target,
    source: meta.source,
  };
}

function numericValue(rd: CellReading, where: () => ErrorLocation, what: string): number {
  switch (rd.kind) {
    case 'number':
      return rd.value;
    case 'nonfinite':
      throw dataError(
        `non-finite value ${quote(rd.text)} in ${what}; list it under missing.values to treat it as missing`,
        where(),
      );
    case 'boolean':
    case 'text':
      throw dataError(`non-numeric value ${quote(rd.text)} in ${what}; expected a number`, where());
    case 'missing':
      return NaN;
  }
}

/**
 * Decides which feature columns are numeric: declared ones, plus undeclared ones whose every non-missing
 * value over the whole file looks like a number (NaN/Infinity spellings count, and are rejected later,
 * so that one 'NaN' cell does not silently turn a numeric column into a categorical one).
 */
function inferNumeric(
  raw: RawTable,
  featureIdx: number[],
  opts: TableLoadOptions,
  missing: ReadonlySet<string>,
): Set<number> {
  const declaredNumeric = new Set(opts.numeric ?? []);
  const declaredCategorical = new Set(opts.categorical ?? []);
  const numeric = new Set<number>();
  const undecided: number[] = [];
  for (const j of featureIdx) {
    const name = raw.header[j] as string;
    if (declaredNumeric.has(name)) numeric.add(j);
    else if (!declaredCategorical.has(name)) undecided.push(j);
  }
  let open = undecided;
  for (const { cells } of raw.rows) {
    if (open.length === 0) break;
    open = open.filter((j) => {
      const kind = readCell(cells[j] ?? null, missing).kind;
      return kind === 'number' || kind === 'nonfinite' || kind === 'missing';
    });
  }
  for (const j of open) numeric.add(j);
  return numeric;
}
