import { describe, expect, it } from 'vitest';
import { crc32c, maskCrc, maskedCrc32c, unmaskCrc } from '../../../src/train/tensorboard/crc32c.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('crc32c', () => {
  // RFC 3720 (iSCSI) appendix B.4 and the usual check value.
  it('matches the published CRC-32C vectors', () => {
    expect(crc32c(bytes('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('continues a checksum across pieces', () => {
    const data = bytes('The quick brown fox jumps over the lazy dog');
    expect(crc32c(data.subarray(10), crc32c(data.subarray(0, 10)))).toBe(crc32c(data));
    expect(crc32c(data)).toBe(0x22620404);
  });
});

describe('maskCrc', () => {
  it('rotates right by 15 and adds 0xa282ead8 modulo 2^32', () => {
    expect(maskCrc(0)).toBe(0xa282ead8);
    const c = 0xe3069283;
    const reference = Number(
      ((((BigInt(c) >> 15n) | (BigInt(c) << 17n)) & 0xffffffffn) + 0xa282ead8n) & 0xffffffffn,
    );
    expect(maskCrc(c)).toBe(reference);
  });

  it('is undone by unmaskCrc', () => {
    for (const c of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xe3069283, 0x12345678]) {
      expect(unmaskCrc(maskCrc(c))).toBe(c);
      expect(maskCrc(c)).not.toBe(c);
    }
  });

  // Checksums taken from real TensorFlow event files (TensorBoard's data server tests).
  it('gives the masked checksums TensorFlow writes', () => {
    expect(maskedCrc32c(Uint8Array.from([0x1a, 0x11, ...bytes('CRC test, one two')]))).toBe(0x5794d08a);
    expect(maskedCrc32c(Uint8Array.from([0x18, 0, 0, 0, 0, 0, 0, 0]))).toBe(0x224b7fa3);
  });
});
