/**
 * Chooses a tracking backend from a URI, MLflow style: the scheme names the backend, the rest
 * locates it. Callers depend on TrackingStore only, so a new backend is one more entry in BACKENDS.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelautoError } from '../core/errors.js';
import { SqliteTrackingStore } from './sqlite-store.js';
import type { TrackingStore } from './tracking-store.js';

export const STORE_ENV_VAR = 'MODELAUTO_STORE';
export const DEFAULT_STORE_FOLDER = '.modelauto';

const BACKENDS: Record<string, (uri: string, rest: string) => Promise<TrackingStore>> = {
  sqlite: (uri, rest) => SqliteTrackingStore.open(folderFromRest(uri, rest, 'sqlite')),
  file: (uri, rest) => SqliteTrackingStore.open(folderFromRest(uri, rest, 'file')),
};

const SUPPORTED = 'a folder path, sqlite:<folder> or file:<folder>';

/** `$MODELAUTO_STORE` when set, else `./.modelauto` resolved against the current directory. */
export function defaultStoreLocation(): string {
  const fromEnv = process.env[STORE_ENV_VAR]?.trim();
  return fromEnv ? fromEnv : resolve(DEFAULT_STORE_FOLDER);
}

/**
 * Opens the tracking store at `uri` (default: defaultStoreLocation()). A plain path, `sqlite:<path>`
 * and `file:<path>` (also `sqlite:///abs/path` and `file:///abs/path`) all mean the SQLite backend
 * with its database and artifacts inside that folder.
 */
export async function openTrackingStore(uri: string = defaultStoreLocation()): Promise<TrackingStore> {
  const trimmed = uri.trim();
  if (!trimmed) {
    throw new ModelautoError('USAGE', `empty tracking store location; expected ${SUPPORTED}`, {
      location: { path: STORE_ENV_VAR },
    });
  }
  // Two letters at least, so that a Windows drive ("C:\runs") reads as a path, not a scheme.
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]+):(.*)$/s.exec(trimmed);
  if (!match) return SqliteTrackingStore.open(trimmed);
  const scheme = (match[1] ?? '').toLowerCase();
  const open = BACKENDS[scheme];
  if (!open) {
    // Only the scheme is echoed: the rest of a database URI may hold a password.
    throw new ModelautoError(
      'USAGE',
      `unsupported tracking store scheme "${scheme}:"; supported: ${SUPPORTED}`,
      { location: { path: STORE_ENV_VAR } },
    );
  }
  return open(trimmed, match[2] ?? '');
}

function folderFromRest(uri: string, rest: string, scheme: string): string {
  let folder = rest;
  if (rest.startsWith('//')) {
    if (!rest.startsWith('///')) {
      throw new ModelautoError(
        'USAGE',
        `${scheme}: URIs with a host are not supported; use ${scheme}:/absolute/folder, ${scheme}:///absolute/folder or ${scheme}:relative/folder`,
        { location: { path: STORE_ENV_VAR } },
      );
    }
    // file:/// URLs may percent-encode characters; sqlite:/// follows SQLAlchemy and takes the path as written.
    folder = scheme === 'file' ? fileURLToPath(uri) : rest.slice(2);
  }
  if (!folder) {
    throw new ModelautoError('USAGE', `${scheme}: needs a folder, e.g. ${scheme}:./.modelauto`, {
      location: { path: STORE_ENV_VAR },
    });
  }
  return folder;
}
