import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import {
  flatJson,
  formatFloat32,
  formatFloat32Strict,
  nestedJson,
  parseJsonBody,
} from '../../src/serve/json.js';

function errorOf(fn: () => unknown): ModelautoError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ModelautoError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('parseJsonBody', () => {
  it('reads plain JSON, and the NaN / Infinity / -Infinity tokens TF Serving allows', () => {
    expect(parseJsonBody('{"a": [1, 2.5e3, "x", true, null]}')).toEqual({ a: [1, 2500, 'x', true, null] });
    const v = parseJsonBody(
      '{"instances": [[NaN, Infinity, -Infinity, -1.5e-3, 0]], "s": "NaN \\" \\u00e9"}',
    ) as {
      instances: number[][];
      s: string;
    };
    expect(v.instances[0]?.[0]).toBeNaN();
    expect(v.instances[0]?.slice(1)).toEqual([Infinity, -Infinity, -0.0015, 0]);
    expect(v.s).toBe('NaN " é');
  });

  it('keeps "__proto__" as data, never as the prototype', () => {
    const v = parseJsonBody('{"__proto__": {"polluted": 1}, "x": NaN}') as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['__proto__', 'x']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  });

  it('says where a malformed document breaks and what it expected', () => {
    expect(errorOf(() => parseJsonBody('')).message).toContain('the request body is empty');
    expect(errorOf(() => parseJsonBody('   \n ')).message).toContain('the request body is empty');
    const e = errorOf(() => parseJsonBody('{"a": [1, 2}\n'));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe(
      `malformed JSON at line 1, column 12 (offset 11): expected ',' or ']' after an array element (found "}\\n")`,
    );
    expect(errorOf(() => parseJsonBody('{\n  "a": 1,\n  b: 2}')).message).toContain('line 3, column 3');
    expect(errorOf(() => parseJsonBody('{"a": nan}')).message).toContain('expected a value');
    expect(errorOf(() => parseJsonBody('{"a": "tab\there"}')).message).toContain('invalid string');
    expect(errorOf(() => parseJsonBody('{"a": 1} {"b": 2}')).message).toContain(
      'expected the end of the document',
    );
    expect(errorOf(() => parseJsonBody('{"a": "open')).message).toContain('unterminated string');
    expect(errorOf(() => parseJsonBody('[1, 2,')).message).toContain('unexpected end of the document');
    expect(errorOf(() => parseJsonBody(`${'['.repeat(300)}NaN${']'.repeat(300)}`)).message).toContain(
      'nesting deeper than 256 levels',
    );
  });
});

describe('formatFloat32', () => {
  const fixture = JSON.parse(
    readFileSync(new URL('./data/float32-format.json', import.meta.url), 'utf8'),
  ) as {
    cases: { bits: number; text: string }[];
  };

  it(`prints float32 values as TF Serving does (printf %g / %.9g reference, ${fixture.cases.length} values)`, () => {
    const view = new DataView(new ArrayBuffer(4));
    const wrong: string[] = [];
    for (const c of fixture.cases) {
      view.setUint32(0, c.bits, true);
      const v = view.getFloat32(0, true);
      const got = formatFloat32(v);
      if (got !== c.text) wrong.push(`${v}: ${got} != ${c.text}`);
      expect(Math.fround(Number(got))).toBe(v);
    }
    expect(wrong).toEqual([]);
  });

  it('spells non-finite values as TF Serving does, or null in strict JSON', () => {
    expect([NaN, Infinity, -Infinity].map(formatFloat32)).toEqual(['NaN', 'Infinity', '-Infinity']);
    expect([NaN, Infinity, 1].map(formatFloat32Strict)).toEqual(['null', 'null', '1.0']);
  });

  it('nests values by shape', () => {
    const data = Float32Array.from([0.5, 1, 2, 3, 4, 5.25]);
    expect(nestedJson(data, 0, [2, 3], formatFloat32)).toBe('[[0.5,1.0,2.0],[3.0,4.0,5.25]]');
    expect(nestedJson(data, 3, [3], formatFloat32)).toBe('[3.0,4.0,5.25]');
    expect(nestedJson(data, 5, [], formatFloat32)).toBe('5.25');
    expect(nestedJson(data, 0, [3, 2, 1], formatFloat32)).toBe(
      '[[[0.5],[1.0]],[[2.0],[3.0]],[[4.0],[5.25]]]',
    );
    expect(flatJson(data.subarray(0, 2), formatFloat32)).toBe('[0.5,1.0]');
    expect(JSON.parse(nestedJson(data, 0, [2, 3], formatFloat32))).toEqual([
      [0.5, 1, 2],
      [3, 4, 5.25],
    ]);
  });
});
