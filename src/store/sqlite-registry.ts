/**
 * SQLite backend of the model registry: the registry tables in the store folder's `modelauto.db`
 * (next to the runs, same migrations), version artifacts in its `artifacts` blob folder.
 */
import { ArtifactBlobs } from './artifact-blobs.js';
import type { RegistryOptions } from './registry.js';
import { openSqliteStoreFolder } from './sqlite-connection.js';
import { SqliteDriver } from './sqlite-driver.js';
import { SqlModelRegistry } from './sql-registry.js';

export class SqliteModelRegistry extends SqlModelRegistry {
  /** Opens (creating if needed) the registry of the store in folder `root`. */
  static async open(root: string, options: RegistryOptions = {}): Promise<SqliteModelRegistry> {
    const folder = openSqliteStoreFolder(root);
    const driver = new SqliteDriver(`sqlite:${folder.root}`, folder.dbPath, folder.db);
    return new SqliteModelRegistry(driver, new ArtifactBlobs(folder.artifactsDir), options);
  }
}
