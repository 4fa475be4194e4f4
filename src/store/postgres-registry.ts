/**
 * PostgreSQL backend of the model registry: the registry tables in the store's schema (next to the
 * runs, same migrations), version artifacts in the store's shared `artifacts` folder.
 */
import { ArtifactBlobs } from './artifact-blobs.js';
import { openPostgresDriver } from './postgres-store.js';
import { parsePostgresUri, type PostgresStoreConfig } from './postgres-uri.js';
import type { RegistryOptions } from './registry.js';
import { SqlModelRegistry } from './sql-registry.js';

export class PostgresModelRegistry extends SqlModelRegistry {
  /** Opens the registry of the store at a `postgres://` URI, applying pending schema migrations. */
  static async open(
    uriOrConfig: string | PostgresStoreConfig,
    options: RegistryOptions = {},
  ): Promise<PostgresModelRegistry> {
    const config = typeof uriOrConfig === 'string' ? parsePostgresUri(uriOrConfig) : uriOrConfig;
    const driver = await openPostgresDriver(config);
    return new PostgresModelRegistry(driver, new ArtifactBlobs(config.artifactsDir), options);
  }
}
