/**
 * The fast lane of request bodies. Most inference requests have one shape: TF Serving's
 * `{"instances": [[...numbers...], ...]}` or OIP's `{"inputs": [{"name", "shape", "datatype", "data":
 * [...numbers...]}]}`. For those, materialising every number as a JSON value (JSON.parse) and then
 * copying it into a Float32Array costs more than the rest of the request's JavaScript together; here
 * the text is read once, straight into typed arrays.
 *
 * A matcher accepts only strict JSON of exactly that shape that the general path would also accept up
 * to the point where the model's signature matters (parsePredictBody / parseInferBody). Anything else
 * (other keys, escapes in strings, NaN tokens, nested data, a bad signature name...) returns
 * undefined, and the request takes the general path, with its error messages. So the fast lane
 * changes how fast a request is answered, never what the answer is.
 */
import { isOipDatatype, type OipDatatype } from './datatypes.js';

/** A flat list of numbers as read, with what the datatype checks need to know about them. */
export interface NumberRun {
  /** Every value as JSON.parse reads it (double precision). */
  values: Float64Array;
  /** Every value is an integer (Number.isInteger). */
  integers: boolean;
}

/** `{"instances": [[...], ...]}` (and optionally a default `signature_name`). */
export class FastInstances {
  constructor(
    /** The request body, for the general path when the signature does not fit. */
    readonly bytes: Buffer,
    /** Rows of `width` values each, row-major, as a Float32Array stores them. */
    readonly data: Float32Array,
    readonly rows: number,
    readonly width: number,
  ) {}

  /** The body as the general path reads it. */
  text(): string {
    return this.bytes.toString('utf8');
  }
}

export interface FastInferInput {
  name: string;
  shape: number[];
  datatype: OipDatatype;
  data: NumberRun;
  index: number;
}

/** `{"id"?, "inputs": [{"name", "shape", "datatype", "data"}, ...]}` with flat numeric data. */
export class FastInfer {
  constructor(
    readonly bytes: Buffer,
    readonly id: string | undefined,
    readonly inputs: FastInferInput[],
  ) {}

  /** The body as the general path reads it. */
  text(): string {
    return this.bytes.toString('utf8');
  }
}

/** The signature names TF Serving's :predict accepts without a named signature (decode-tf.ts). */
const PREDICT_SIGNATURES = new Set(['', 'serving_default']);

class Decline {}
const DECLINE = new Decline();

/** Up to 15 digits a digit-by-digit sum is exact (< 2^53). */
const MAX_EXACT_DIGITS = 15;
/** 10^0 .. 10^22, every one exactly a double. */
const POW10 = Float64Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/** Where `readRun` puts the numbers of the run it read (one request at a time: the event loop). */
let scratch: Float64Array = new Float64Array(4096);
let runCount = 0;
let runIntegers = true;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * Reads `[n, n, ...]` (a flat, non-empty list of JSON numbers) starting at `at` into `scratch` and
 * the run* variables; returns the position after the `]`, or -1 for anything else. One function with
 * local state and the character tests written out (V8 does not inline helpers into a loop this
 * large): this loop is the whole cost of a large request.
 */
function readRun(b: Buffer, at: number): number {
  let p = at;
  let c = b[p] as number;
  if (c !== 0x5b) return -1;
  let n = 0;
  let integers = true;
  for (;;) {
    c = b[++p] as number;
    // The common case first: a non-negative integer right before the ',' or ']' (pixels, counts).
    // Anything else (a sign, a fraction, whitespace, a leading zero) is read again below.
    if (c >= 0x31 && c <= 0x39) {
      let q = p;
      let m = c - 0x30;
      let d = b[++q] as number;
      while (d >= 0x30 && d <= 0x39) {
        m = m * 10 + (d - 0x30);
        d = b[++q] as number;
      }
      if ((d === 0x2c || d === 0x5d) && q - p <= MAX_EXACT_DIGITS) {
        if (n === scratch.length) scratch = grow(scratch, n);
        scratch[n++] = m;
        p = q;
        if (d === 0x2c) continue;
        runCount = n;
        runIntegers = integers;
        return p + 1;
      }
    } else if (c === 0x30) {
      const d = b[p + 1] as number;
      if (d === 0x2c || d === 0x5d) {
        if (n === scratch.length) scratch = grow(scratch, n);
        scratch[n++] = 0;
        p++;
        if (d === 0x2c) continue;
        runCount = n;
        runIntegers = integers;
        return p + 1;
      }
    }
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++p] as number;
    let negative = false;
    if (c === 0x2d) {
      negative = true;
      c = b[++p] as number;
    }
    // The value is mantissa * 10^-scale, the mantissa made of every digit before the exponent.
    let mantissa = 0;
    let digits = 0;
    let scale = 0;
    if (c === 0x30) {
      c = b[++p] as number;
      digits = 1;
    } else if (c >= 0x31 && c <= 0x39) {
      do {
        mantissa = mantissa * 10 + (c - 0x30);
        digits++;
        c = b[++p] as number;
      } while (c >= 0x30 && c <= 0x39);
    } else {
      return -1;
    }
    if (c === 0x2e) {
      c = b[++p] as number;
      if (!(c >= 0x30 && c <= 0x39)) return -1;
      do {
        mantissa = mantissa * 10 + (c - 0x30);
        digits++;
        scale++;
        c = b[++p] as number;
      } while (c >= 0x30 && c <= 0x39);
    }
    if (c === 0x65 || c === 0x45) {
      c = b[++p] as number;
      let sign = 1;
      if (c === 0x2b || c === 0x2d) {
        if (c === 0x2d) sign = -1;
        c = b[++p] as number;
      }
      if (!(c >= 0x30 && c <= 0x39)) return -1;
      let exponent = 0;
      do {
        if (exponent < 100_000) exponent = exponent * 10 + (c - 0x30);
        c = b[++p] as number;
      } while (c >= 0x30 && c <= 0x39);
      scale -= sign * exponent;
    }
    // With at most 15 digits the mantissa is exact, and so is 10^k for k <= 22: one division or
    // multiplication then rounds once, correctly, to the double JSON.parse reads (the classic fast
    // path of strtod). Anything else is read by the engine's own conversion (ASCII: latin1 is exact).
    let v: number;
    if (digits <= MAX_EXACT_DIGITS && scale <= 22 && scale >= -22) {
      v =
        scale === 0
          ? mantissa
          : scale > 0
            ? mantissa / (POW10[scale] as number)
            : mantissa * (POW10[-scale] as number);
      if (negative) v = -v;
    } else {
      // Long mantissas (a double printed in full has 17 digits): the engine's JSON reader does the
      // whole list faster than one conversion call per number.
      return readRunParsed(b, at);
    }
    if (!Number.isFinite(v)) return -1;
    if (n === scratch.length) scratch = grow(scratch, n);
    scratch[n++] = v;
    if (integers && scale !== 0 && !Number.isInteger(v)) integers = false;
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++p] as number;
    if (c === 0x2c) continue;
    if (c !== 0x5d) return -1;
    runCount = n;
    runIntegers = integers;
    return p + 1;
  }
}

function grow(a: Float64Array, n: number): Float64Array {
  const grown = new Float64Array(n * 2);
  grown.set(a);
  return grown;
}

/** `readRun` for lists of long numbers: JSON.parse of the list's text, every element a finite number. */
function readRunParsed(b: Buffer, at: number): number {
  const end = b.indexOf(0x5d, at);
  if (end < 0) return -1;
  let list: unknown;
  try {
    list = JSON.parse(b.toString('latin1', at, end + 1));
  } catch {
    return -1;
  }
  if (!Array.isArray(list) || list.length === 0) return -1;
  if (scratch.length < list.length) scratch = new Float64Array(list.length * 2);
  let integers = true;
  for (let i = 0; i < list.length; i++) {
    const v: unknown = list[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) return -1;
    scratch[i] = v;
    if (integers && !Number.isInteger(v)) integers = false;
  }
  runCount = list.length;
  runIntegers = integers;
  return end + 1;
}

/** A cursor over the structure around the runs; throws DECLINE at anything unexpected. */
class Scanner {
  pos = 0;
  constructor(readonly bytes: Buffer) {}

  ws(): void {
    const b = this.bytes;
    let p = this.pos;
    while (isWs(b[p] as number)) p++;
    this.pos = p;
  }

  expect(code: number): void {
    this.ws();
    if (this.bytes[this.pos] !== code) throw DECLINE;
    this.pos++;
  }

  /** Skips whitespace; true (and consumed) when the next character is `code`. */
  accept(code: number): boolean {
    this.ws();
    if (this.bytes[this.pos] !== code) return false;
    this.pos++;
    return true;
  }

  end(): void {
    this.ws();
    if (this.pos !== this.bytes.length) throw DECLINE;
  }

  /** A string without escapes or control characters (anything else: the general path). */
  string(): string {
    this.expect(0x22);
    const b = this.bytes;
    const start = this.pos;
    let p = start;
    for (;;) {
      const c = b[p];
      if (c === 0x22) break;
      if (c === undefined || c === 0x5c || c < 0x20) throw DECLINE;
      p++;
    }
    this.pos = p + 1;
    return b.toString('utf8', start, p);
  }

  /** A run of numbers, kept in `scratch` until the next run is read. */
  run(): void {
    this.ws();
    const end = readRun(this.bytes, this.pos);
    if (end < 0) throw DECLINE;
    this.pos = end;
  }

  /** Object members: calls `member` with each key, the cursor on its value. */
  members(member: (key: string) => void): void {
    this.expect(0x7b);
    if (this.accept(0x7d)) return;
    do {
      const key = this.string();
      this.expect(0x3a);
      member(key);
    } while (this.accept(0x2c));
    this.expect(0x7d);
  }
}

function attempt<T>(run: () => T): T | undefined {
  try {
    return run();
  } catch (e) {
    if (e === DECLINE) return undefined;
    throw e;
  }
}

/** `{"instances": [[...], ...], "signature_name"?: ...}`, every row as long as the first. */
export function matchInstances(bytes: Buffer): FastInstances | undefined {
  return attempt(() => {
    const s = new Scanner(bytes);
    let data: Float32Array | undefined;
    let rows = 0;
    let width = 0;
    let signature = false;
    s.members((key) => {
      if (key === 'instances' && !data) {
        s.expect(0x5b);
        // Rows go straight into the Float32Array, grown as rows come.
        let out = new Float32Array(0);
        do {
          s.run();
          if (rows === 0) {
            width = runCount;
            out = new Float32Array(width);
          } else if (runCount !== width) {
            throw DECLINE;
          } else if ((rows + 1) * width > out.length) {
            const grown = new Float32Array(out.length * 2);
            grown.set(out);
            out = grown;
          }
          out.set(scratch.subarray(0, width), rows * width);
          rows++;
        } while (s.accept(0x2c));
        s.expect(0x5d);
        data = out.length === rows * width ? out : out.slice(0, rows * width);
      } else if (key === 'signature_name' && !signature) {
        signature = true;
        if (!PREDICT_SIGNATURES.has(s.string())) throw DECLINE;
      } else {
        throw DECLINE;
      }
    });
    s.end();
    if (!data) throw DECLINE;
    return new FastInstances(bytes, data, rows, width);
  });
}

/** `{"id"?: "...", "inputs": [{"name", "shape", "datatype", "data": [...]}, ...]}`. */
export function matchInfer(bytes: Buffer): FastInfer | undefined {
  return attempt(() => {
    const s = new Scanner(bytes);
    let id: string | undefined;
    let inputs: FastInferInput[] | undefined;
    s.members((key) => {
      if (key === 'id' && id === undefined) {
        id = s.string();
      } else if (key === 'inputs' && !inputs) {
        const list: FastInferInput[] = [];
        s.expect(0x5b);
        do list.push(inferInput(s, list.length));
        while (s.accept(0x2c));
        s.expect(0x5d);
        inputs = list;
      } else {
        throw DECLINE;
      }
    });
    s.end();
    if (!inputs) throw DECLINE;
    const names = new Set(inputs.map((i) => i.name));
    if (names.size !== inputs.length) throw DECLINE;
    return new FastInfer(bytes, id, inputs);
  });
}

function inferInput(s: Scanner, index: number): FastInferInput {
  let name: string | undefined;
  let shape: number[] | undefined;
  let datatype: OipDatatype | undefined;
  let data: NumberRun | undefined;
  s.members((key) => {
    if (key === 'name' && name === undefined) {
      name = s.string();
      if (name === '') throw DECLINE;
    } else if (key === 'shape' && !shape) {
      s.run();
      shape = Array.from(scratch.subarray(0, runCount));
      if (!runIntegers || shape.some((d) => d < 0)) throw DECLINE;
    } else if (key === 'datatype' && datatype === undefined) {
      const t = s.string();
      if (!isOipDatatype(t)) throw DECLINE;
      datatype = t;
    } else if (key === 'data' && !data) {
      s.run();
      data = { values: scratch.slice(0, runCount), integers: runIntegers };
    } else {
      throw DECLINE;
    }
  });
  if (name === undefined || !shape || datatype === undefined || !data) throw DECLINE;
  return { name, shape, datatype, data, index };
}
