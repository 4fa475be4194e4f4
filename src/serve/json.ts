/**
 * JSON in and out of the server.
 *
 * In: `JSON.parse` first (fast); when it refuses the body, a small parser that also reads the `NaN`,
 * `Infinity` and `-Infinity` tokens TF Serving's REST API allows ("JSON conformance" in api_rest.md)
 * and, for anything still malformed, says where (line, column, offset) and what it expected.
 *
 * Out: float32 values printed like TF Serving prints them (printf "%g", then "%.9g" when six digits do
 * not round-trip, and ".0" on whole numbers), so `{"predictions": [3.5, 4.0, 5.5]}` comes out as the
 * documents show it, not as 3.5, 4, 5.5 or 0.10000000149011612.
 */
import { ModelautoError } from '../core/errors.js';

const MAX_DEPTH = 256;

/** Parses a request body; a ModelautoError (400) that locates the problem when it is not JSON. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      'malformed JSON: the request body is empty; expected a JSON object',
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    return new LenientJsonParser(text).document();
  }
}

class LenientJsonParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  document(): unknown {
    this.ws();
    const value = this.value(0);
    this.ws();
    if (this.pos < this.text.length) this.fail('expected the end of the document after the top-level value');
    return value;
  }

  private value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      case 'N':
        return this.literal('NaN', NaN);
      case 'I':
        return this.literal('Infinity', Infinity);
      case undefined:
        return this.fail('unexpected end of the document: expected a value');
      default:
        if (c === '-' && this.text[this.pos + 1] === 'I') {
          this.pos++;
          return -(this.literal('Infinity', Infinity) as number);
        }
        return this.number();
    }
  }

  private object(depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++;
    this.ws();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.text[this.pos] !== '"') this.fail('expected a string key in double quotes');
      const key = this.string();
      this.ws();
      if (this.text[this.pos] !== ':') this.fail(`expected ':' after the key ${JSON.stringify(key)}`);
      this.pos++;
      this.ws();
      const v = this.value(depth + 1);
      // A "__proto__" key is data, as JSON.parse treats it, never the object's prototype.
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      this.ws();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '}') {
        this.pos++;
        return out;
      }
      this.fail("expected ',' or '}' after an object member");
    }
  }

  private array(depth: number): unknown[] {
    const out: unknown[] = [];
    this.pos++;
    this.ws();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ']') {
        this.pos++;
        return out;
      }
      this.fail("expected ',' or ']' after an array element");
    }
  }

  private string(): string {
    const start = this.pos;
    let i = start + 1;
    for (;;) {
      const c = this.text.charCodeAt(i);
      if (Number.isNaN(c)) this.fail('unterminated string');
      if (c === 0x5c) i += 2;
      else if (c === 0x22) break;
      else i++;
    }
    const raw = this.text.slice(start, i + 1);
    try {
      const s = JSON.parse(raw) as string;
      this.pos = i + 1;
      return s;
    } catch {
      return this.fail('invalid string (a control character or a bad escape sequence)');
    }
  }

  private literal<T>(word: string, value: T): T {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length;
      return value;
    }
    return this.fail(
      `unexpected token; expected a value (a number, string, true, false, null, NaN or Infinity)`,
    );
  }

  private number(): number {
    const re = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (!m || m[0] === '' || m[0] === '-') {
      return this.fail(
        'unexpected token; expected a value (a number, string, true, false, null, NaN or Infinity)',
      );
    }
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private ws(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else return;
    }
  }

  private fail(what: string): never {
    const before = this.text.slice(0, this.pos);
    const line = before.split('\n').length;
    const column = this.pos - before.lastIndexOf('\n');
    const got =
      this.pos < this.text.length
        ? ` (found ${JSON.stringify(this.text.slice(this.pos, this.pos + 12))})`
        : '';
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `malformed JSON at line ${line}, column ${column} (offset ${this.pos}): ${what}${got}`,
    );
  }
}

/** 2^kmax with 5^kmax < 10^(p + 1), by precision p. */
const TIE_SCALE = Array.from({ length: 22 }, (_, p) => 2 ** Math.floor((p + 1) / Math.log10(5)));

/**
 * `p` significant digits of `a` (> 0, finite) and its decimal exponent, rounded half to even as printf
 * rounds (`exact`); JavaScript's toExponential rounds exact ties away from zero instead.
 */
function significant(a: number, p: number, exact: boolean): { digits: string; exp: number } {
  const s = a.toExponential(p - 1);
  const e = s.indexOf('e');
  let digits = p > 1 ? s[0] + s.slice(2, e) : s.slice(0, e);
  let exp = Number(s.slice(e + 1));
  // An exact tie needs the value to fit in p + 1 significant digits; a value m * 2^-k (m odd) has as
  // many as m * 5^k, so only values with a * TIE_SCALE[p] an integer can tie.
  if (exact && Number.isInteger(a * (TIE_SCALE[p] ?? Infinity)) && Number(a.toExponential(p)) === a) {
    const full = a.toExponential(Math.min(100, p + 60));
    const ee = full.indexOf('e');
    const all = full[0] + full.slice(2, ee);
    if (all[p] === '5' && /^0*$/.test(all.slice(p + 1)) && Number(all[p - 1]) % 2 === 0) {
      digits = all.slice(0, p);
      exp = Number(full.slice(ee + 1));
    }
  }
  return { digits, exp };
}

/** printf("%.<p>g") for a finite number. */
export function formatG(v: number, p: number, exact = true): string {
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const { digits, exp: x } = significant(Math.abs(v), p, exact);
  const sign = v < 0 ? '-' : '';
  if (x < -4 || x >= p) {
    const mantissa = trimFraction(`${digits[0]}.${digits.slice(1)}`);
    const ax = Math.abs(x);
    return `${sign}${mantissa}e${x < 0 ? '-' : '+'}${ax < 10 ? '0' : ''}${ax}`;
  }
  if (x < 0) return sign + trimFraction(`0.${'0'.repeat(-x - 1)}${digits}`);
  return sign + trimFraction(`${digits.slice(0, x + 1)}.${digits.slice(x + 1)}`);
}

function trimFraction(s: string): string {
  if (!s.includes('.')) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 0x30) end--;
  if (s.charCodeAt(end - 1) === 0x2e) end--;
  return s.slice(0, end);
}

/**
 * A float32 value as TF Serving writes it: "%g", or "%.9g" when that does not read back as the same
 * float32, with ".0" added to whole numbers; NaN and ±Infinity as the tokens TF Serving uses.
 */
export function formatFloat32(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  // Most model outputs need nine digits: when six certainly do not read back, skip trying them.
  const s = v !== 0 && sixDigitsMiss(Math.abs(v)) ? formatG(v, 9) : sixOrNine(v);
  return s.includes('.') || s.includes('e') ? s : `${s}.0`;
}

/** "%g" when it reads back as the same float32, else "%.9g". */
function sixOrNine(v: number): string {
  // Six digits rounded the JavaScript way first: a tie only matters when six digits are kept, and
  // only a value that fits in few binary digits can be a tie (the test `significant` starts with).
  let s = formatG(v, 6, false);
  let exact = Math.fround(Number(s)) === v;
  if (exact && Number.isInteger(Math.abs(v) * (TIE_SCALE[6] as number))) {
    s = formatG(v, 6);
    exact = Math.fround(Number(s)) === v;
  }
  return exact ? s : formatG(v, 9);
}

const POW10 = Float64Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/**
 * True when `a` (> 0, a float32) rounded to six significant digits the JavaScript way certainly does
 * not read back as `a`; false when it may (then sixOrNine tries). The rounding is done in double
 * precision: 10^k is exact for k <= 22, so m and d below are each within one rounding of the exact
 * values, and a value too close to a rounding tie, or near a power of ten, is left to the full path.
 * Every double within 1e-15 of d then reads back as the same float32 only when the printed digits do.
 */
function sixDigitsMiss(a: number): boolean {
  const e = Math.floor(Math.log10(a));
  if (e < -17 || e > 22) return false;
  const m = e <= 5 ? a * (POW10[5 - e] as number) : a / (POW10[e - 5] as number);
  if (m < 99_999.5 || m >= 999_999.5) return false;
  if (Math.abs(m - Math.floor(m) - 0.5) < 1e-6) return false;
  const r = Math.round(m);
  const d = e <= 5 ? r / (POW10[5 - e] as number) : r * (POW10[e - 5] as number);
  const lo = Math.fround(d * (1 - 1e-15));
  return lo === Math.fround(d * (1 + 1e-15)) && lo !== a;
}

/** The same for strict JSON documents (Open Inference Protocol): non-finite values become null. */
export function formatFloat32Strict(v: number): string {
  return Number.isFinite(v) ? formatFloat32(v) : 'null';
}

/**
 * Writes `count` values of `data` from `offset` as nested JSON lists of `shape` (no list for a scalar
 * shape []). Returns the text.
 */
export function nestedJson(
  data: Float32Array,
  offset: number,
  shape: readonly number[],
  format: (v: number) => string,
): string {
  if (shape.length === 0) return format(data[offset] as number);
  return nestedLevel(data, offset, shape, 0, format);
}

function nestedLevel(
  data: Float32Array,
  offset: number,
  shape: readonly number[],
  dim: number,
  format: (v: number) => string,
): string {
  const n = shape[dim] as number;
  let s = '[';
  if (dim === shape.length - 1) {
    for (let i = 0; i < n; i++) s += (i ? ',' : '') + format(data[offset + i] as number);
    return s + ']';
  }
  let stride = 1;
  for (let d = dim + 1; d < shape.length; d++) stride *= shape[d] as number;
  for (let i = 0; i < n; i++)
    s += (i ? ',' : '') + nestedLevel(data, offset + i * stride, shape, dim + 1, format);
  return s + ']';
}

/** A flat JSON list of the values. */
export function flatJson(data: Float32Array, format: (v: number) => string): string {
  let s = '[';
  for (let i = 0; i < data.length; i++) s += (i ? ',' : '') + format(data[i] as number);
  return s + ']';
}
