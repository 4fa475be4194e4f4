/**
 * Bytes of a real event file written by TensorFlow for `tf.summary.scalar("accuracy", 0.99, step=77)`,
 * as quoted (from `xxd`) in TensorBoard's Rust data server tests (tensorboard/data/server/tf_record.rs).
 */
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

export const RECORD_1_DATA = Uint8Array.from([
  ...[0x09, 0x00, 0x00, 0x80, 0x38, 0x99, 0xd6, 0xd7, 0x41],
  ...[0x1a, 0x0d, ...ascii('brain.Event:2')],
]);
export const RECORD_1 = Uint8Array.from([
  ...[0x18, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0x7f, 0x4b, 0x22],
  ...RECORD_1_DATA,
  ...[0x12, 0x4b, 0x36, 0xab],
]);
/** wall_time of record 1: the double 00 00 80 38 99 d6 d7 41. */
export const RECORD_1_WALL_TIME = 1599759586;

export const RECORD_2_DATA = Uint8Array.from([
  ...[0x09, 0xc4, 0x05, 0xb7, 0x3d, 0x99, 0xd6, 0xd7, 0x41],
  ...[0x10, 0x4d],
  ...[0x2a, 0x25],
  ...[0x0a, 0x23, 0x0a, 0x08, ...ascii('accuracy')],
  ...[0x42, 0x0a, 0x08, 0x01, 0x12, 0x00, 0x22, 0x04, 0xa4, 0x70, 0x7d, 0x3f, 0x4a],
  ...[0x0b, 0x0a, 0x09, 0x0a, 0x07, ...ascii('scalars')],
]);
export const RECORD_2 = Uint8Array.from([
  ...[0x32, 0, 0, 0, 0, 0, 0, 0, 0x24, 0x19, 0x56, 0xec],
  ...RECORD_2_DATA,
  ...[0xa5, 0x5b, 0x64, 0x33],
]);

export const TF_FILE = Uint8Array.from([...RECORD_1, ...RECORD_2]);
