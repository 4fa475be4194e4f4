import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import { loadCsv } from '../../src/data/csv.js';
import { parseCsv } from '../../src/data/csv-parse.js';
import { column, expectDataError, fixture, labelsOf, tempFile } from './helpers.js';

describe('parseCsv (RFC 4180)', () => {
  it('handles quoted delimiters, doubled quotes, embedded newlines, blank lines and literal inner quotes', () => {
    const text = 'a,b\n"x, y","say ""hi"""\n"multi\nline",2\n\n"",unquoted "q"\n';
    expect(parseCsv(text, 'mem.csv')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 3, fields: ['multi\nline', '2'] },
      { line: 6, fields: ['', 'unquoted "q"'] },
    ]);
  });

  it('accepts CRLF, lone CR, a BOM, no final newline and a custom delimiter', () => {
    expect(parseCsv('\uFEFFa\tb\r\n1\t"2\r\n3"\r4\t5', 'mem.tsv', '\t')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', '2\r\n3'] },
      { line: 4, fields: ['4', '5'] },
    ]);
  });

  it('keeps trailing empty fields', () => {
    expect(parseCsv('a,b,c\n1,,\n', 'mem.csv')[1]?.fields).toEqual(['1', '', '']);
  });

  it('rejects an unterminated quote, naming the line it opened on and the column', async () => {
    await expectDataError(() => parseCsv('a,b\n1,"open\n2,3\n', 'q.csv'), {
      file: 'q.csv',
      line: 2,
      column: 'b',
      message: /unterminated quoted field/,
    });
  });

  it('rejects text after a closing quote', async () => {
    await expectDataError(() => parseCsv('a,b\n"x"y,1\n', 'q.csv'), {
      file: 'q.csv',
      line: 2,
      column: 'a',
      message: /after a closing quote/,
    });
  });
});

describe('loadCsv', () => {
  it('loads the quoting fixture with correct values and types', async () => {
    const ds = await loadCsv(fixture('quoting.csv'), { label: 'label', missing: { policy: 'impute' } });
    expect(ds.n).toBe(4);
    expect(ds.name).toBe('quoting');
    expect(ds.source).toEqual({ kind: 'csv', location: fixture('quoting.csv') });
    const name = column(ds, 'name');
    expect(name.kind).toBe('categorical');
    expect(name.values).toEqual(['Smith, John', 'plain', null, 'tab\tinside']);
    expect(column(ds, 'note').values).toEqual([
      'said "hi"',
      'line one\nline two',
      'unquoted "inner" quote',
      null,
    ]);
    const score = column(ds, 'score');
    expect(score.kind).toBe('numeric');
    expect(Array.from(score.values as Float64Array)).toEqual([3.5, 4, -0.2, 10]);
    expect(column(ds, 'id').kind).toBe('numeric');
    expect(labelsOf(ds)).toEqual(['yes', 'no', 'yes', 'no']);
  });

  it('uses a custom delimiter', async () => {
    const ds = await loadCsv(fixture('semicolon.csv'), { label: 'label', delimiter: ';' });
    expect(column(ds, 'a')).toMatchObject({ kind: 'categorical', values: ['1,5', '2'] });
    expect(column(ds, 'b').values).toEqual(['x', 'y;z']);
  });

  it('reads CRLF files with a BOM and gzip-compressed files', async () => {
    const text = '\uFEFFx,label\r\n1,a\r\n2,b\r\n';
    for (const [name, content] of [
      ['crlf.csv', text],
      ['crlf.csv.gz', gzipSync(Buffer.from(text))],
    ] as const) {
      const ds = await loadCsv(tempFile(name, content), { label: 'label' });
      expect(ds.name).toBe('crlf');
      expect(Array.from(column(ds, 'x').values as Float64Array)).toEqual([1, 2]);
      expect(labelsOf(ds)).toEqual(['a', 'b']);
    }
  });

  it('infers types over the whole file and honours declared kinds', async () => {
    const ds = await loadCsv(fixture('mixed.csv'), {
      label: 'target',
      categorical: ['zip'],
      missing: { policy: 'impute' },
    });
    expect(column(ds, 'age').kind).toBe('numeric');
    expect(column(ds, 'color').kind).toBe('categorical');
    // declared categorical: the leading zero survives
    expect(column(ds, 'zip').values).toEqual(['02134', '10001', '02134', '94105', '10001']);
    const height = Array.from(column(ds, 'height').values as Float64Array);
    expect(height[0]).toBe(1.8);
    expect(height[1]).toBeNaN();
    expect(height[3]).toBeNaN();
    expect(ds.target).toMatchObject({ kind: 'classification', classes: ['0', '1'] });
  });

  it('infers numeric when only the last row has text, as categorical', async () => {
    const file = tempFile('late.csv', 'v,label\n1,a\n2,b\n3,a\nthree,b\n');
    const ds = await loadCsv(file, { label: 'label' });
    expect(column(ds, 'v')).toMatchObject({ kind: 'categorical', values: ['1', '2', '3', 'three'] });
  });

  it('drops rows with a missing feature under policy drop', async () => {
    const ds = await loadCsv(fixture('mixed.csv'), { label: 'target', missing: { policy: 'drop' } });
    expect(ds.n).toBe(3);
    expect(Array.from(column(ds, 'age').values as Float64Array)).toEqual([34, 45, 19]);
    expect(labelsOf(ds)).toEqual(['1', '1', '1']);
  });

  it('ignores listed columns', async () => {
    const ds = await loadCsv(fixture('mixed.csv'), { label: 'target', ignore: ['height', 'zip'] });
    expect(ds.features.kind === 'table' && ds.features.columns.map((c) => c.name)).toEqual(['age', 'color']);
  });

  it('orders numeric labels numerically, text labels lexicographically, declared classes as given', async () => {
    const numeric = await loadCsv(fixture('labels-numeric.csv'), { label: 'label' });
    expect(numeric.target).toMatchObject({ classes: ['1', '2', '9', '10'] });
    expect(labelsOf(numeric)).toEqual(['10', '9', '2', '10', '1']);
    const text = await loadCsv(fixture('quoting.csv'), { label: 'label', missing: { policy: 'impute' } });
    expect(text.target).toMatchObject({ classes: ['no', 'yes'] });
    const declared = await loadCsv(fixture('quoting.csv'), {
      label: 'label',
      classes: ['yes', 'no', 'maybe'],
      missing: { policy: 'impute' },
    });
    expect(declared.target).toMatchObject({ classes: ['yes', 'no', 'maybe'] });
    expect(labelsOf(declared)).toEqual(['yes', 'no', 'yes', 'no']);
  });

  it('loads a regression label as numbers', async () => {
    const ds = await loadCsv(fixture('regression.csv'), { label: 'price', task: 'regression' });
    expect(ds.target.kind).toBe('regression');
    expect(Array.from(ds.target.y)).toEqual([210000, 150000.5, 330000]);
  });

  it('treats NaN as missing when it is listed as a missing value', async () => {
    const file = tempFile('nan.csv', 'v,label\n1,a\nNaN,b\n');
    const ds = await loadCsv(file, { label: 'label', missing: { values: ['NaN'], policy: 'impute' } });
    expect(Array.from(column(ds, 'v').values as Float64Array)[1]).toBeNaN();
  });

  it('reports a missing file as NOT_FOUND naming it', async () => {
    const file = fixture('no-such-file.csv');
    const err = await loadCsv(file, { label: 'y' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelautoError);
    expect((err as ModelautoError).code).toBe('NOT_FOUND');
    expect((err as ModelautoError).message).toContain(file);
  });
});

describe('loadCsv bad data', () => {
  const cases: {
    name: string;
    csv: string;
    options?: object;
    line?: number;
    column?: string | number;
    message: RegExp;
  }[] = [
    { name: 'empty file', csv: '', message: /empty file/ },
    { name: 'blank lines only', csv: '\n\n', message: /empty file/ },
    { name: 'header only', csv: 'a,label\n', line: 1, message: /header only/ },
    {
      name: 'duplicate header',
      csv: 'a,b,a,label\n1,2,3,x\n',
      line: 1,
      column: 'a',
      message: /duplicate column name "a" \(fields 1 and 3\)/,
    },
    {
      name: 'empty header name',
      csv: 'a,,label\n1,2,x\n',
      line: 1,
      column: 2,
      message: /header field 2 is empty/,
    },
    {
      name: 'ragged row (too few)',
      csv: 'a,b,label\n1,2,x\n3,y\n',
      line: 3,
      column: 'label',
      message: /expected 3 fields \(a, b, label\), found 2/,
    },
    {
      name: 'ragged row (too many)',
      csv: 'a,b,label\n1,2,x,9\n',
      line: 2,
      column: 4,
      message: /expected 3 fields \(a, b, label\), found 4/,
    },
    {
      name: 'non-numeric in a declared numeric column',
      csv: 'a,label\n1,x\nabc,y\n',
      options: { numeric: ['a'] },
      line: 3,
      column: 'a',
      message: /non-numeric value "abc" in numeric column/,
    },
    {
      name: 'NaN literal',
      csv: 'a,label\n1,x\nNaN,y\n',
      line: 3,
      column: 'a',
      message: /non-finite value "NaN".*missing\.values/,
    },
    {
      name: 'Infinity literal',
      csv: 'a,label\nInfinity,x\n',
      line: 2,
      column: 'a',
      message: /non-finite value "Infinity"/,
    },
    {
      name: '-Infinity literal',
      csv: 'a,label\n2,x\n-Infinity,y\n',
      options: { numeric: ['a'] },
      line: 3,
      column: 'a',
      message: /non-finite value "-Infinity"/,
    },
    {
      name: 'number overflowing a double',
      csv: 'a,label\n1e999,x\n',
      line: 2,
      column: 'a',
      message: /non-finite value "1e999"/,
    },
    {
      name: 'missing label column',
      csv: 'a,b\n1,2\n',
      line: 1,
      column: 'label',
      message: /label column "label" not found; available columns: a, b/,
    },
    {
      name: 'missing label value',
      csv: 'a,label\n1,x\n2,\n',
      line: 3,
      column: 'label',
      message: /missing label value/,
    },
    {
      name: 'unknown label',
      csv: 'a,label\n1,x\n2,z\n',
      options: { classes: ['x', 'y'] },
      line: 3,
      column: 'label',
      message: /unknown label "z"; expected one of the declared classes: x, y/,
    },
    {
      name: 'missing value under policy error',
      csv: 'a,b,label\n1,2,x\n3,NA,y\n',
      line: 3,
      column: 'b',
      message: /missing value "NA" \(missing\.policy is 'error'/,
    },
    {
      name: 'unterminated quote',
      csv: 'a,label\n1,x\n"2,y\n',
      line: 3,
      column: 'a',
      message: /unterminated quoted field/,
    },
    {
      name: 'non-numeric regression label',
      csv: 'a,price\n1,10\n2,cheap\n',
      options: { label: 'price', task: 'regression' },
      line: 3,
      column: 'price',
      message: /non-numeric value "cheap" in regression label/,
    },
    {
      name: 'declared column absent',
      csv: 'a,label\n1,x\n',
      options: { categorical: ['colour'] },
      line: 1,
      column: 'colour',
      message: /column "colour" listed in categorical not found; available columns: a, label/,
    },
    {
      name: 'policy drop leaving nothing',
      csv: 'a,label\nNA,x\n?,y\n',
      options: { missing: { policy: 'drop' } },
      message: /none is left/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const file = tempFile('bad.csv', c.csv);
      await expectDataError(() => loadCsv(file, { label: 'label', ...c.options }), {
        file,
        ...(c.line !== undefined ? { line: c.line } : {}),
        ...(c.column !== undefined ? { column: c.column } : {}),
        message: c.message,
      });
    });
  }
});
