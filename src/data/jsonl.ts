import { basename } from 'node:path';
import { decodeUtf8, maybeGunzip, readDataFile } from './read.js';
import { buildTable, dataError, type RawTable, type TableLoadOptions } from './table.js';
import type { Dataset } from './types.js';
import { listNames, quote, type Cell } from './values.js';

export interface JsonlLoadOptions extends TableLoadOptions {
  /** Data set name; default: the file name without extension. */
  name?: string;
}

/**
 * Loads JSON Lines: one flat JSON object per line, blank lines skipped. The first object's keys are the
 * columns; a later object may omit a key (a missing value) but not add one.
 */
export async function loadJsonl(path: string, options: JsonlLoadOptions): Promise<Dataset> {
  const text = decodeUtf8(maybeGunzip(await readDataFile(path), path), path);
  return jsonlToDataset(text, path, options);
}

export function jsonlToDataset(text: string, file: string, options: JsonlLoadOptions): Dataset {
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split(/\r?\n/);
  let header: string[] | undefined;
  let index = new Map<string, number>();
  let headerLine = 0;
  const rows: RawTable['rows'] = [];

  lines.forEach((src, k) => {
    const line = k + 1;
    if (src.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(src);
    } catch (e) {
      throw dataError(`invalid JSON: ${(e as Error).message}`, { file, line });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
      throw dataError(`expected a JSON object, found ${what}`, { file, line });
    }
    const record = value as Record<string, unknown>;
    if (!header) {
      header = Object.keys(record);
      if (header.length === 0) throw dataError('the first object has no fields', { file, line });
      index = new Map(header.map((h, j) => [h, j]));
      headerLine = line;
    }
    const cells: Cell[] = new Array<Cell>(header.length).fill(null);
    for (const [key, v] of Object.entries(record)) {
      const j = index.get(key);
      if (j === undefined) {
        throw dataError(
          `field ${quote(key)} does not appear in the first object (line ${headerLine}), whose fields are: ${listNames(header)}`,
          { file, line, column: key },
        );
      }
      if (typeof v === 'object' && v !== null) {
        throw dataError(
          `nested ${Array.isArray(v) ? 'array' : 'object'} values are not supported; expected a number, string, boolean or null`,
          {
            file,
            line,
            column: key,
          },
        );
      }
      cells[j] = v as Cell;
    }
    rows.push({ line, cells });
  });

  if (!header) throw dataError('empty file: expected at least one JSON object', { file });
  return buildTable({ file, header, headerLine, rows }, options, {
    name: options.name ?? basename(file).replace(/(\.jsonl|\.ndjson|\.json)?(\.gz)?$/i, ''),
    source: { kind: 'jsonl', location: file },
  });
}
