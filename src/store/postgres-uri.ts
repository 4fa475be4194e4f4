/**
 * Reads a PostgreSQL store URI:
 *
 *   postgres://user[:password]@host[:port]/database[?artifacts=<folder>][&runs=<folder>][&schema=<name>][&<pg options>]
 *
 * - `artifacts`: the folder of the content-addressed blobs, shared by every process using the store
 *   (default `./.modelauto-artifacts`, resolved against the current directory when the store is opened);
 * - `runs`: the folder of the runs' local working folders (default `<artifacts>/runs`);
 * - `schema`: the PostgreSQL schema holding the tables, created if needed (default: the server's
 *   search_path, normally `public`); tests use a fresh one each run;
 * - `options`: server settings for every connection (`-c name=value ...`, as in libpq; default $PGOPTIONS),
 *   combined with the schema's search_path;
 * - anything else (sslmode, host for a Unix socket, application_name, ...) goes to node-postgres as is.
 *
 * The password never appears in `location` or in any message.
 */
import { resolve } from 'node:path';
import { ModelautoError } from '../core/errors.js';

export const DEFAULT_PG_ARTIFACTS_FOLDER = '.modelauto-artifacts';
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const OWN_PARAMS = ['artifacts', 'runs', 'schema', 'options'] as const;

export interface PostgresStoreConfig {
  /** What node-postgres connects with: the URI without modelauto's own query parameters. */
  connectionString: string;
  /** Undefined: use the server's search_path. */
  schema: string | undefined;
  /** Server settings from the URI's `options`; undefined: $PGOPTIONS. */
  serverOptions: string | undefined;
  artifactsDir: string;
  runsDir: string;
  /** The URI without its password, for messages. */
  location: string;
}

export function parsePostgresUri(uri: string, where = 'store'): PostgresStoreConfig {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ModelautoError(
      'USAGE',
      'malformed PostgreSQL store URI; expected postgres://user@host:port/database?artifacts=/shared/folder',
      { location: { path: where } },
    );
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  if (scheme !== 'postgres' && scheme !== 'postgresql') {
    throw new ModelautoError('USAGE', `expected a postgres:// or postgresql:// URI, got "${scheme}:"`, {
      location: { path: where },
    });
  }
  const params = url.searchParams;
  for (const name of OWN_PARAMS) {
    if (params.getAll(name).length > 1) {
      throw new ModelautoError('USAGE', `the store URI gives "${name}" more than once; give it once`, {
        location: { path: `${where}.${name}` },
      });
    }
  }
  const schema = optionalParam(params, 'schema', where);
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new ModelautoError(
      'USAGE',
      `invalid schema name ${JSON.stringify(schema)}: expected 1-63 lowercase letters, digits or "_", not starting with a digit`,
      { location: { path: `${where}.schema` } },
    );
  }
  const artifactsDir = resolve(optionalParam(params, 'artifacts', where) ?? DEFAULT_PG_ARTIFACTS_FOLDER);
  const runsParam = optionalParam(params, 'runs', where);
  const runsDir = runsParam === undefined ? resolve(artifactsDir, 'runs') : resolve(runsParam);

  const forPg = new URL(url.href);
  for (const name of OWN_PARAMS) forPg.searchParams.delete(name);
  return {
    connectionString: forPg.href,
    schema,
    serverOptions: optionalParam(params, 'options', where),
    artifactsDir,
    runsDir,
    location: redactedLocation(url, schema),
  };
}

function optionalParam(params: URLSearchParams, name: string, where: string): string | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  if (!value.trim()) {
    throw new ModelautoError('USAGE', `the store URI's "${name}" is empty; give a value or leave it out`, {
      location: { path: `${where}.${name}` },
    });
  }
  return value;
}

function redactedLocation(url: URL, schema: string | undefined): string {
  const user = url.username ? `${decodeURIComponent(url.username)}@` : '';
  const query = schema === undefined ? '' : `?schema=${schema}`;
  return `${url.protocol}//${user}${url.host}${url.pathname}${query}`;
}
