/** PostgreSQL backend of the task results: the `task_results` table in the store's schema. */
import { openPostgresDriver } from './postgres-store.js';
import { parsePostgresUri, type PostgresStoreConfig } from './postgres-uri.js';
import { ensureTaskResultsTable, SqlTaskResultStore } from './task-results-sql.js';

export class PostgresTaskResultStore extends SqlTaskResultStore {
  /** Opens the task results of the store at a `postgres://` URI (applying the store's migrations first). */
  static async open(uriOrConfig: string | PostgresStoreConfig): Promise<PostgresTaskResultStore> {
    const config = typeof uriOrConfig === 'string' ? parsePostgresUri(uriOrConfig) : uriOrConfig;
    const driver = await openPostgresDriver(config);
    try {
      await ensureTaskResultsTable(driver, 'postgres', config.schema);
    } catch (e) {
      await driver.close();
      throw e;
    }
    return new PostgresTaskResultStore(driver);
  }
}
