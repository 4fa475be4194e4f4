import { dataError } from './table.js';

export interface CsvRecord {
  /** 1-based line on which the record starts (a quoted field may span several lines). */
  line: number;
  fields: string[];
}

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

/**
 * RFC 4180 parser: quoted fields with doubled quotes, delimiters and line breaks inside quotes,
 * CRLF / LF / CR line ends, a leading UTF-8 BOM. A quote inside an unquoted field is kept literally
 * (as Python's csv module does). Completely empty lines are skipped.
 */
export function parseCsv(text: string, file: string, delimiter = ','): CsvRecord[] {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw dataError(
      `invalid delimiter ${JSON.stringify(delimiter)}: expected one character other than a quote or line break`,
      {
        file,
      },
    );
  }
  const delim = delimiter.charCodeAt(0);
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const len = src.length;
  const records: CsvRecord[] = [];
  let header: string[] | undefined;
  let i = 0;
  let line = 1;

  const columnOf = (field: number): string => header?.[field] ?? `#${field + 1}`;

  while (i < len) {
    const startLine = line;
    const fields: string[] = [];
    let endOfRecord = false;
    let quoted = false;
    while (!endOfRecord) {
      if (src.charCodeAt(i) === QUOTE) {
        quoted = true;
        const fieldLine = line;
        let value = '';
        let from = i + 1;
        for (;;) {
          const q = src.indexOf('"', from);
          if (q < 0) {
            throw dataError(`unterminated quoted field (opened on line ${fieldLine})`, {
              file,
              line: fieldLine,
              column: columnOf(fields.length),
            });
          }
          line += countLineBreaks(src, from, q);
          value += src.slice(from, q);
          if (src.charCodeAt(q + 1) === QUOTE) {
            value += '"';
            from = q + 2;
            continue;
          }
          i = q + 1;
          break;
        }
        fields.push(value);
        const c = i < len ? src.charCodeAt(i) : -1;
        if (c !== delim && c !== CR && c !== LF && c !== -1) {
          throw dataError(
            `unexpected character ${JSON.stringify(src[i])} after a closing quote; quotes inside a quoted field must be doubled ("")`,
            { file, line, column: columnOf(fields.length - 1) },
          );
        }
      } else {
        let j = i;
        while (j < len) {
          const c = src.charCodeAt(j);
          if (c === delim || c === CR || c === LF) break;
          j++;
        }
        fields.push(src.slice(i, j));
        i = j;
      }
      const c = i < len ? src.charCodeAt(i) : -1;
      if (c === delim) {
        i++;
      } else {
        endOfRecord = true;
        if (c === CR) i += src.charCodeAt(i + 1) === LF ? 2 : 1;
        else if (c === LF) i++;
        if (c !== -1) line++;
      }
    }
    // a blank line, as opposed to a record holding one empty quoted field ("")
    if (fields.length === 1 && fields[0] === '' && !quoted) continue;
    header ??= fields;
    records.push({ line: startLine, fields });
  }
  return records;
}

function countLineBreaks(src: string, from: number, to: number): number {
  let n = 0;
  for (let k = from; k < to; k++) {
    const c = src.charCodeAt(k);
    if (c === LF) n++;
    else if (c === CR && src.charCodeAt(k + 1) !== LF) n++;
  }
  return n;
}
