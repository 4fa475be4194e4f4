import { extname } from 'node:path';

const BY_EXTENSION: Record<string, string> = {
  '.json': 'application/json',
  '.jsonl': 'application/x-ndjson',
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.bin': 'application/octet-stream',
  '.onnx': 'application/octet-stream',
};

/**
 * Content type for an artifact when the caller gave none: from a known extension, else text for
 * content given as a string, else application/octet-stream.
 */
export function contentTypeFor(name: string, isText: boolean): string {
  return (
    BY_EXTENSION[extname(name).toLowerCase()] ??
    (isText ? 'text/plain; charset=utf-8' : 'application/octet-stream')
  );
}
