import { basename } from 'node:path';
import { parseCsv } from './csv-parse.js';
import { decodeUtf8, maybeGunzip, readDataFile } from './read.js';
import { buildTable, dataError, type RawTable, type TableLoadOptions } from './table.js';
import type { Dataset } from './types.js';
import { listNames, quote } from './values.js';

export interface CsvLoadOptions extends TableLoadOptions {
  /** One character; default ','. */
  delimiter?: string;
  /** Data set name; default: the file name without extension. */
  name?: string;
}

/** Loads a CSV file with a header row (gzip-compressed files are read transparently). */
export async function loadCsv(path: string, options: CsvLoadOptions): Promise<Dataset> {
  const text = decodeUtf8(maybeGunzip(await readDataFile(path), path), path);
  return csvToDataset(text, path, options);
}

/** Parses CSV text that came from `file` (used in error messages). */
export function csvToDataset(text: string, file: string, options: CsvLoadOptions): Dataset {
  const records = parseCsv(text, file, options.delimiter ?? ',');
  const first = records[0];
  if (!first) throw dataError('empty file: expected a header row and at least one data row', { file });
  const header = first.fields.map((h) => h.trim());
  const seen = new Map<string, number>();
  header.forEach((name, j) => {
    if (name === '') {
      throw dataError(`header field ${j + 1} is empty: every column needs a name`, {
        file,
        line: first.line,
        column: j + 1,
      });
    }
    const prev = seen.get(name);
    if (prev !== undefined) {
      throw dataError(`duplicate column name ${quote(name)} (fields ${prev + 1} and ${j + 1})`, {
        file,
        line: first.line,
        column: name,
      });
    }
    seen.set(name, j);
  });
  if (records.length === 1)
    throw dataError('header only: the file has no data rows', { file, line: first.line });

  const rows: RawTable['rows'] = new Array(records.length - 1);
  for (let r = 1; r < records.length; r++) {
    const { line, fields } = records[r] as (typeof records)[number];
    if (fields.length !== header.length) {
      // name the first absent column, or the position of the first surplus field
      const column = fields.length < header.length ? (header[fields.length] as string) : header.length + 1;
      throw dataError(`expected ${header.length} fields (${listNames(header)}), found ${fields.length}`, {
        file,
        line,
        column,
      });
    }
    rows[r - 1] = { line, cells: fields };
  }
  return buildTable({ file, header, headerLine: first.line, rows }, options, {
    name: options.name ?? basename(file).replace(/(\.csv)?(\.gz)?$/i, ''),
    source: { kind: 'csv', location: file },
  });
}
