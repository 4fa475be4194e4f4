import { describe, expect, it } from 'vitest';
import { loadJsonl } from '../../src/data/jsonl.js';
import { column, expectDataError, fixture, labelsOf, tempFile } from './helpers.js';

describe('loadJsonl', () => {
  it('types fields like CSV: numbers (also numeric strings), booleans as categories, absent/null as missing', async () => {
    const ds = await loadJsonl(fixture('records.jsonl'), { label: 'label', missing: { policy: 'impute' } });
    expect(ds.n).toBe(3);
    expect(ds.name).toBe('records');
    expect(ds.source.kind).toBe('jsonl');
    expect(Array.from(column(ds, 'age').values as Float64Array)).toEqual([34, 28, 45]);
    expect(column(ds, 'color')).toMatchObject({ kind: 'categorical', values: ['red', 'blue', '7'] });
    expect(column(ds, 'member')).toMatchObject({ kind: 'categorical', values: ['true', 'false', 'true'] });
    const score = Array.from(column(ds, 'score').values as Float64Array);
    expect(score[0]).toBe(1.5);
    expect(score[1]).toBeNaN();
    expect(score[2]).toBeNaN();
    expect(labelsOf(ds)).toEqual(['a', 'b', 'a']);
  });

  it('reads numeric labels as classes in numeric order, or as regression values', async () => {
    const file = tempFile('n.jsonl', '{"x": 1, "y": 10}\n{"x": 2, "y": 2}\r\n{"x": 3, "y": 2}\n');
    const cls = await loadJsonl(file, { label: 'y' });
    expect(cls.target).toMatchObject({ kind: 'classification', classes: ['2', '10'] });
    const reg = await loadJsonl(file, { label: 'y', task: 'regression' });
    expect(Array.from(reg.target.y)).toEqual([10, 2, 2]);
  });

  it('drops rows with absent fields under policy drop', async () => {
    const ds = await loadJsonl(fixture('records.jsonl'), { label: 'label', missing: { policy: 'drop' } });
    expect(ds.n).toBe(1);
    expect(column(ds, 'color').values).toEqual(['red']);
  });
});

describe('loadJsonl bad data', () => {
  const cases: {
    name: string;
    text: string;
    options?: object;
    line?: number;
    column?: string;
    message: RegExp;
  }[] = [
    { name: 'empty file', text: '\n  \n', message: /empty file/ },
    {
      name: 'invalid JSON',
      text: '{"a": 1, "label": "x"}\n{"a": 2, "label": }\n',
      line: 2,
      message: /invalid JSON/,
    },
    {
      name: 'array line',
      text: '{"a": 1, "label": "x"}\n\n[1, 2]\n',
      line: 3,
      message: /expected a JSON object, found an array/,
    },
    { name: 'number line', text: '42\n', line: 1, message: /expected a JSON object, found a number/ },
    { name: 'null line', text: 'null\n', line: 1, message: /expected a JSON object, found null/ },
    {
      name: 'field not in the first line',
      text: '{"a": 1, "label": "x"}\n{"a": 2, "b": 3, "label": "y"}\n',
      line: 2,
      column: 'b',
      message: /field "b" does not appear in the first object \(line 1\), whose fields are: a, label/,
    },
    {
      name: 'nested object',
      text: '{"a": {"b": 1}, "label": "x"}\n',
      line: 1,
      column: 'a',
      message: /nested object/,
    },
    {
      name: 'nested array',
      text: '{"a": 1, "label": "x"}\n{"a": [1], "label": "x"}\n',
      line: 2,
      column: 'a',
      message: /nested array/,
    },
    {
      name: 'absent field under policy error',
      text: '{"a": 1, "b": 2, "label": "x"}\n{"a": 1, "label": "x"}\n',
      line: 2,
      column: 'b',
      message: /missing value/,
    },
    {
      name: 'boolean in a numeric column',
      text: '{"a": 1, "label": "x"}\n{"a": true, "label": "y"}\n',
      options: { numeric: ['a'] },
      line: 2,
      column: 'a',
      message: /non-numeric value "true" in numeric column/,
    },
    {
      name: 'text in a numeric column',
      text: '{"a": 1, "label": "x"}\n{"a": "one", "label": "y"}\n',
      options: { numeric: ['a'] },
      line: 2,
      column: 'a',
      message: /non-numeric value "one"/,
    },
    {
      name: 'number too large',
      text: '{"a": 1e400, "label": "x"}\n',
      line: 1,
      column: 'a',
      message: /non-finite value "Infinity"/,
    },
    {
      name: 'missing label column',
      text: '{"a": 1}\n',
      line: 1,
      column: 'label',
      message: /label column "label" not found; available columns: a/,
    },
    {
      name: 'missing label value',
      text: '{"a": 1, "label": "x"}\n{"a": 1}\n',
      line: 2,
      column: 'label',
      message: /missing label value/,
    },
    {
      name: 'unknown label',
      text: '{"a": 1, "label": "x"}\n{"a": 1, "label": "q"}\n',
      options: { classes: ['x', 'y'] },
      line: 2,
      column: 'label',
      message: /unknown label "q"/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const file = tempFile('bad.jsonl', c.text);
      await expectDataError(() => loadJsonl(file, { label: 'label', ...c.options }), {
        file,
        ...(c.line !== undefined ? { line: c.line } : {}),
        ...(c.column !== undefined ? { column: c.column } : {}),
        message: c.message,
      });
    });
  }
});
