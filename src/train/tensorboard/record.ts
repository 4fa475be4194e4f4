import { ModelautoError } from '../../core/errors.js';
import { maskedCrc32c } from './crc32c.js';

/**
 * TFRecord framing (tensorflow/core/lib/io/record_writer.cc):
 *   uint64 LE length | uint32 LE masked CRC-32C of those 8 bytes | data | uint32 LE masked CRC-32C of data
 */

export const RECORD_HEADER_BYTES = 12;
export const RECORD_FOOTER_BYTES = 4;

export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_BYTES + data.length + RECORD_FOOTER_BYTES);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, RECORD_HEADER_BYTES);
  view.setUint32(RECORD_HEADER_BYTES + data.length, maskedCrc32c(data), true);
  return out;
}

export interface RecordSlice {
  index: number;
  /** Byte offset of the record's header in the file. */
  offset: number;
  data: Uint8Array;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

/**
 * Splits a whole file into records, verifying both CRCs of every record. Any mismatch or a
 * record cut short throws INVALID_DATA naming the file, record index and byte offset.
 */
export function splitRecords(bytes: Uint8Array, file: string): RecordSlice[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: RecordSlice[] = [];
  let offset = 0;
  for (let index = 0; offset < bytes.length; index++) {
    const fail = (what: string): never => {
      throw new ModelautoError('INVALID_DATA', `record ${index} at byte offset ${offset}: ${what}`, {
        location: { file, path: `record[${index}]` },
      });
    };
    const remaining = bytes.length - offset;
    if (remaining < RECORD_HEADER_BYTES) {
      fail(`truncated: ${remaining} bytes left but a record header needs ${RECORD_HEADER_BYTES}`);
    }
    const storedLengthCrc = view.getUint32(offset + 8, true);
    const lengthCrc = maskedCrc32c(bytes.subarray(offset, offset + 8));
    if (storedLengthCrc !== lengthCrc) {
      fail(
        `length CRC mismatch (stored ${hex(storedLengthCrc)}, computed ${hex(lengthCrc)}): the file is corrupt`,
      );
    }
    const length = view.getBigUint64(offset, true);
    const available = BigInt(remaining - RECORD_HEADER_BYTES - RECORD_FOOTER_BYTES);
    if (length > available) {
      fail(
        `truncated: the header declares ${length} data bytes plus a ${RECORD_FOOTER_BYTES}-byte CRC ` +
          `but only ${remaining - RECORD_HEADER_BYTES} bytes follow the header`,
      );
    }
    const dataStart = offset + RECORD_HEADER_BYTES;
    const dataEnd = dataStart + Number(length);
    const data = bytes.subarray(dataStart, dataEnd);
    const storedDataCrc = view.getUint32(dataEnd, true);
    const dataCrc = maskedCrc32c(data);
    if (storedDataCrc !== dataCrc) {
      fail(`data CRC mismatch (stored ${hex(storedDataCrc)}, computed ${hex(dataCrc)}): the file is corrupt`);
    }
    records.push({ index, offset, data });
    offset = dataEnd + RECORD_FOOTER_BYTES;
  }
  return records;
}
