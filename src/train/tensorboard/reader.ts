import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelautoError } from '../../core/errors.js';
import { decodeEvent, type TensorBoardEvent } from './proto.js';
import { splitRecords } from './record.js';

function readError(action: string, path: string, e: unknown): ModelautoError {
  const code = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO';
  const reason = e instanceof Error ? e.message : String(e);
  return new ModelautoError(code, `cannot ${action}: ${reason}`, { location: { file: path }, cause: e });
}

/**
 * Decodes the records of an event file held in memory. `file` names it in errors. Both CRCs of
 * every record are verified; a bad CRC, a cut-off record or a malformed Event throws INVALID_DATA
 * naming the file, record index and byte offset.
 */
export function decodeEventFile(bytes: Uint8Array, file: string): TensorBoardEvent[] {
  return splitRecords(bytes, file).map(({ index, offset, data }) => {
    try {
      return decodeEvent(data);
    } catch (e) {
      if (!(e instanceof ModelautoError)) throw e;
      throw new ModelautoError('INVALID_DATA', `record ${index} at byte offset ${offset}: ${e.message}`, {
        location: { file, path: `record[${index}]` },
        cause: e,
      });
    }
  });
}

/** Reads and verifies a whole event file. See decodeEventFile. */
export function readEventFile(path: string): TensorBoardEvent[] {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw readError('read the event file', path, e);
  }
  return decodeEventFile(bytes, path);
}

/** Event files directly inside `dir` (full paths), oldest first by the timestamp in their names. */
export function listEventFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw readError('list the log directory', dir, e);
  }
  return names
    .filter((n) => n.includes('tfevents'))
    .sort()
    .map((n) => join(dir, n));
}
