import { ModelautoError } from '../../core/errors.js';

/**
 * The protobuf wire format, just the parts TensorBoard event files need. Hand-written so that
 * modelauto needs no protobuf runtime or generated code for five small messages.
 */

export const WireType = { VARINT: 0, FIXED64: 1, LENGTH_DELIMITED: 2, FIXED32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

const utf8 = new TextEncoder();

export class ProtoWriter {
  private buf = new Uint8Array(64);
  private view = new DataView(this.buf.buffer);
  private len = 0;

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private tag(field: number, wireType: WireType): void {
    this.rawVarint(field * 8 + wireType);
  }

  /** Unsigned varint of a non-negative safe integer. */
  private rawVarint(value: number): void {
    this.ensure(10);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  /** int64 field: negative values use 64-bit two's complement (10 bytes), as protobuf requires. */
  int64(field: number, value: number): this {
    if (!Number.isSafeInteger(value)) {
      throw new ModelautoError('INVALID_ARGUMENT', `int64 field ${field} needs a safe integer, got ${value}`);
    }
    this.tag(field, WireType.VARINT);
    if (value >= 0) {
      this.rawVarint(value);
      return this;
    }
    let v = BigInt.asUintN(64, BigInt(value));
    this.ensure(10);
    while (v >= 0x80n) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
    return this;
  }

  double(field: number, value: number): this {
    this.tag(field, WireType.FIXED64);
    this.ensure(8);
    this.view.setFloat64(this.len, value, true);
    this.len += 8;
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WireType.FIXED32);
    this.ensure(4);
    this.view.setFloat32(this.len, value, true);
    this.len += 4;
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.LENGTH_DELIMITED);
    this.rawVarint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.len);
    this.len += value.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  packedDoubles(field: number, values: readonly number[]): this {
    this.tag(field, WireType.LENGTH_DELIMITED);
    this.rawVarint(values.length * 8);
    this.ensure(values.length * 8);
    for (const v of values) {
      this.view.setFloat64(this.len, v, true);
      this.len += 8;
    }
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/**
 * Sequential reader over one message. Errors carry the byte offset inside the message and the
 * message name, so the caller can add the file and record position.
 */
export class ProtoReader {
  private pos = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly message: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  fail(what: string, at = this.pos): never {
    throw new ModelautoError('INVALID_DATA', `${this.message}: ${what} at byte ${at} of the message`);
  }

  /** Reads a field key; returns the field number and wire type. */
  key(): { field: number; wireType: number; at: number } {
    const at = this.pos;
    const key = this.varint();
    const field = Math.floor(key / 8);
    if (field === 0) this.fail('field number 0 is invalid', at);
    return { field, wireType: key % 8, at };
  }

  /** Unsigned varint that must fit in a safe integer (keys, lengths, enum values). */
  varint(): number {
    const v = this.varintBig();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`varint ${v} is larger than 2^53`);
    return Number(v);
  }

  varintBig(): bigint {
    const start = this.pos;
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.bytes.length) this.fail('varint runs past the end', start);
      const b = this.bytes[this.pos++]!;
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return BigInt.asUintN(64, result);
    }
    return this.fail('varint longer than 10 bytes', start);
  }

  /** int64 as a JS number; out-of-range values are refused rather than rounded. */
  int64(): number {
    const at = this.pos;
    const v = BigInt.asIntN(64, this.varintBig());
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      this.fail(`int64 ${v} is outside the safe integer range`, at);
    }
    return Number(v);
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.bytes.length) {
      this.fail(`${what} needs ${n} bytes but only ${this.bytes.length - this.pos} remain`);
    }
  }

  double(): number {
    this.need(8, 'double');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  float(): number {
    this.need(4, 'float');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  bytesField(): Uint8Array {
    const len = this.varint();
    this.need(len, 'length-delimited field');
    const out = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    const at = this.pos;
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.bytesField());
    } catch (e) {
      if (e instanceof ModelautoError) throw e;
      return this.fail('string is not valid UTF-8', at);
    }
  }

  /** Repeated double: accepts both packed and one-per-key encodings, as protobuf parsers must. */
  repeatedDouble(wireType: number, out: number[]): void {
    if (wireType === WireType.FIXED64) {
      out.push(this.double());
      return;
    }
    this.packed(wireType, 8, out, (view, at) => view.getFloat64(at, true));
  }

  repeatedFloat(wireType: number, out: number[]): void {
    if (wireType === WireType.FIXED32) {
      out.push(this.float());
      return;
    }
    this.packed(wireType, 4, out, (view, at) => view.getFloat32(at, true));
  }

  private packed(
    wireType: number,
    width: number,
    out: number[],
    get: (view: DataView, at: number) => number,
  ): void {
    if (wireType !== WireType.LENGTH_DELIMITED)
      this.fail(`unexpected wire type ${wireType} for a repeated field`);
    const at = this.pos;
    const chunk = this.bytesField();
    if (chunk.length % width !== 0)
      this.fail(`packed field of ${chunk.length} bytes is not a multiple of ${width}`, at);
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let i = 0; i < chunk.length; i += width) out.push(get(view, i));
  }

  /** Checks that a known field arrived with the wire type its declaration implies. */
  expect(wireType: number, expected: WireType, field: string, at: number): void {
    if (wireType !== expected)
      this.fail(`field ${field} has wire type ${wireType}, expected ${expected}`, at);
  }

  /** Skips a field this decoder does not know, as protobuf requires for forward compatibility. */
  skip(wireType: number, at: number): void {
    switch (wireType) {
      case WireType.VARINT:
        this.varintBig();
        return;
      case WireType.FIXED64:
        this.need(8, 'fixed64');
        this.pos += 8;
        return;
      case WireType.LENGTH_DELIMITED:
        this.bytesField();
        return;
      case WireType.FIXED32:
        this.need(4, 'fixed32');
        this.pos += 4;
        return;
      default:
        this.fail(`unsupported wire type ${wireType} (groups are not used by TensorBoard)`, at);
    }
  }
}
