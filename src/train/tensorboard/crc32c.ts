/**
 * CRC-32C (Castagnoli), the checksum TFRecord framing uses, plus the LevelDB-style mask that
 * TFRecords apply so that a CRC computed over bytes that embed CRCs stays well distributed.
 */

/** Reflected form of the Castagnoli polynomial 0x1EDC6F41. */
const POLY_REFLECTED = 0x82f63b78;
const MASK_DELTA = 0xa282ead8;

const TABLE: Uint32Array = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/**
 * CRC-32C of `data`. Pass the result of a previous call as `previous` to checksum data that
 * arrives in pieces: `crc32c(b, crc32c(a))` equals `crc32c(a ++ b)`.
 */
export function crc32c(data: Uint8Array, previous = 0): number {
  let crc = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) {
    crc = TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord mask: rotate right by 15 bits, then add a constant, modulo 2^32. */
export function maskCrc(crc: number): number {
  const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;
  return (rotated + MASK_DELTA) >>> 0;
}

export function unmaskCrc(masked: number): number {
  const rotated = (masked - MASK_DELTA) >>> 0;
  return ((rotated >>> 17) | (rotated << 15)) >>> 0;
}

/** Masked CRC-32C of `data`, as stored in TFRecord headers and footers. */
export function maskedCrc32c(data: Uint8Array): number {
  return maskCrc(crc32c(data));
}
