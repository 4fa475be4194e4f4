export { crc32c, maskCrc, unmaskCrc, maskedCrc32c } from './crc32c.js';
export {
  FILE_VERSION,
  TensorDType,
  encodeEvent,
  decodeEvent,
  encodeHistogram,
  decodeHistogram,
  type HistogramData,
  type TensorData,
  type SummaryValue,
  type TensorBoardEvent,
  type SummaryValueToWrite,
  type EventToWrite,
} from './proto.js';
export { frameRecord, splitRecords, type RecordSlice } from './record.js';
export { buildHistogram, defaultBucketLimits, type HistogramOptions } from './histogram.js';
export {
  EventFileWriter,
  EventFileWriterOptionsSchema,
  SummaryWriter,
  TensorBoardWriters,
  eventFileName,
  tensorBoardWriters,
  writeLogs,
  type EventFileWriterOptions,
} from './writer.js';
export { decodeEventFile, readEventFile, listEventFiles } from './reader.js';
