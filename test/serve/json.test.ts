import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import {
  flatJson,
  formatFloat32,
  formatG,
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

  it('the shortcut past six digits gives what trying six digits gives (300,000 random float32 values)', () => {
    // The rule formatFloat32 implements, written out without the shortcut.
    const tie6 = 2 ** Math.floor(7 / Math.log10(5));
    const full = (v: number): string => {
      let s = formatG(v, 6, false);
      let exact = Math.fround(Number(s)) === v;
      if (exact && Number.isInteger(Math.abs(v) * tie6)) {
        s = formatG(v, 6);
        exact = Math.fround(Number(s)) === v;
      }
      if (!exact) s = formatG(v, 9);
      return s.includes('.') || s.includes('e') ? s : `${s}.0`;
    };
    const bits = new Uint32Array(1);
    const f32 = new Float32Array(bits.buffer);
    let seed = 12345;
    const wrong: string[] = [];
    for (let i = 0; i < 300_000; i++) {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      // Every exponent (bit patterns), probabilities in (0, 1], and whole numbers near 2^24..2^31.
      bits[0] = seed;
      const values = [f32[0] as number, Math.fround((seed % 1_000_003) / 1_000_003), Math.fround(seed)];
      for (const v of values) {
        if (!Number.isFinite(v)) continue;
        if (formatFloat32(v) !== full(v)) wrong.push(`${v}: ${formatFloat32(v)} != ${full(v)}`);
      }
    }
    expect(wrong.slice(0, 10)).toEqual([]);
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
