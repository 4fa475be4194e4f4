/**
 * Chooses the backend from a URI, MLflow style: the scheme names the backend, the rest locates it.
 * One URI names both the tracking store and the model registry (their tables share a database), so
 * the same rules open either; callers depend on TrackingStore / ModelRegistry only, and a new
 * backend is one more entry in BACKENDS.
 *
 * - a plain path, `sqlite:<path>`, `file:<path>` (also `sqlite:///abs/path`, `file:///abs/path`):
 *   SQLite, with the database and the artifacts inside that folder;
 * - `postgres://` or `postgresql://user[:password]@host:port/database?artifacts=<folder>&schema=<name>`:
 *   PostgreSQL, the blobs in the `artifacts` folder (default `./.modelauto-artifacts`; see postgres-uri.ts).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelautoError } from '../core/errors.js';
import { PostgresModelRegistry } from './postgres-registry.js';
import { PostgresTrackingStore } from './postgres-store.js';
import { parsePostgresUri } from './postgres-uri.js';
import type { ModelRegistry, RegistryOptions } from './registry.js';
import { SqliteModelRegistry } from './sqlite-registry.js';
import { SqliteTrackingStore } from './sqlite-store.js';
import type { TrackingStore } from './tracking-store.js';

export const STORE_ENV_VAR = 'MODELAUTO_STORE';
export const DEFAULT_STORE_FOLDER = '.modelauto';

interface Backend {
  tracking: () => Promise<TrackingStore>;
  registry: (options: RegistryOptions) => Promise<ModelRegistry>;
}

function sqliteBackend(folder: string): Backend {
  return {
    tracking: () => SqliteTrackingStore.open(folder),
    registry: (options) => SqliteModelRegistry.open(folder, options),
  };
}

function postgresBackend(uri: string): Backend {
  const config = parsePostgresUri(uri, STORE_ENV_VAR);
  return {
    tracking: () => PostgresTrackingStore.open(config),
    registry: (options) => PostgresModelRegistry.open(config, options),
  };
}

const BACKENDS: Record<string, (uri: string, rest: string) => Backend> = {
  sqlite: (uri, rest) => sqliteBackend(folderFromRest(uri, rest, 'sqlite')),
  file: (uri, rest) => sqliteBackend(folderFromRest(uri, rest, 'file')),
  postgres: (uri) => postgresBackend(uri),
  postgresql: (uri) => postgresBackend(uri),
};

const SUPPORTED =
  'a folder path, sqlite:<folder>, file:<folder> or postgres://user@host:port/database?artifacts=<shared folder>';

/** `$MODELAUTO_STORE` when set, else `./.modelauto` resolved against the current directory. */
export function defaultStoreLocation(): string {
  const fromEnv = process.env[STORE_ENV_VAR]?.trim();
  return fromEnv ? fromEnv : resolve(DEFAULT_STORE_FOLDER);
}

/** Opens the tracking store at `uri` (default: defaultStoreLocation()). */
export async function openTrackingStore(uri: string = defaultStoreLocation()): Promise<TrackingStore> {
  return backendFor(uri).tracking();
}

/** Opens the model registry at `uri` (default: defaultStoreLocation()): the same database as the tracking store there. */
export async function openRegistry(
  uri: string = defaultStoreLocation(),
  options: RegistryOptions = {},
): Promise<ModelRegistry> {
  return backendFor(uri).registry(options);
}

export interface Stores {
  tracking: TrackingStore;
  registry: ModelRegistry;
  /** Closes both. */
  close(): Promise<void>;
}

/** Opens the tracking store and the registry at `uri` (two connections, or pools, to one database). */
export async function openStores(
  uri: string = defaultStoreLocation(),
  options: RegistryOptions = {},
): Promise<Stores> {
  const backend = backendFor(uri);
  const tracking = await backend.tracking();
  let registry: ModelRegistry;
  try {
    registry = await backend.registry(options);
  } catch (e) {
    await tracking.close();
    throw e;
  }
  return {
    tracking,
    registry,
    close: async () => {
      await registry.close();
      await tracking.close();
    },
  };
}

function backendFor(uri: string): Backend {
  const trimmed = uri.trim();
  if (!trimmed) {
    throw new ModelautoError('USAGE', `empty tracking store location; expected ${SUPPORTED}`, {
      location: { path: STORE_ENV_VAR },
    });
  }
  // Two letters at least, so that a Windows drive ("C:\runs") reads as a path, not a scheme.
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]+):(.*)$/s.exec(trimmed);
  if (!match) return sqliteBackend(trimmed);
  const scheme = (match[1] ?? '').toLowerCase();
  const backend = BACKENDS[scheme];
  if (!backend) {
    // Only the scheme is echoed: the rest of a database URI may hold a password.
    throw new ModelautoError(
      'USAGE',
      `unsupported tracking store scheme "${scheme}:"; supported: ${SUPPORTED}`,
      { location: { path: STORE_ENV_VAR } },
    );
  }
  return backend(trimmed, match[2] ?? '');
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
