import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { ModelautoError } from '../core/errors.js';

/** Reads a whole data file, turning file-system failures into errors that name the file. */
export async function readDataFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new ModelautoError('NOT_FOUND', 'data file not found', { location: { file }, cause: e });
    if (code === 'EISDIR')
      throw new ModelautoError('IO', 'expected a file, found a directory', { location: { file }, cause: e });
    throw new ModelautoError('IO', `cannot read data file: ${(e as Error).message}`, {
      location: { file },
      cause: e,
    });
  }
}

/** Gunzips a buffer that starts with the gzip magic bytes; anything else is returned unchanged. */
export function maybeGunzip(buf: Buffer, file: string): Buffer {
  if (buf.length < 2 || buf[0] !== 0x1f || buf[1] !== 0x8b) return buf;
  try {
    return gunzipSync(buf);
  } catch (e) {
    throw new ModelautoError('INVALID_DATA', `corrupt gzip data: ${(e as Error).message}`, {
      location: { file },
      cause: e,
    });
  }
}

/** Decodes UTF-8 text, rejecting invalid byte sequences instead of replacing them with U+FFFD. */
export function decodeUtf8(buf: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf);
  } catch (e) {
    throw new ModelautoError('INVALID_DATA', 'file is not valid UTF-8 text', {
      location: { file },
      cause: e,
    });
  }
}
