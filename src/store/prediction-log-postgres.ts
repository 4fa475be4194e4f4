/** PostgreSQL backend of the prediction log: its tables in the store's schema. */
import { openPostgresDriver } from './postgres-store.js';
import { parsePostgresUri, type PostgresStoreConfig } from './postgres-uri.js';
import { migratePredictionLog, SqlPredictionLog } from './prediction-log-sql.js';

export class PostgresPredictionLog extends SqlPredictionLog {
  /** Opens the prediction log of the store at a `postgres://` URI, creating or upgrading its tables. */
  static async open(uriOrConfig: string | PostgresStoreConfig): Promise<PostgresPredictionLog> {
    const config = typeof uriOrConfig === 'string' ? parsePostgresUri(uriOrConfig) : uriOrConfig;
    const driver = await openPostgresDriver(config);
    try {
      await migratePredictionLog(driver, 'postgres');
    } catch (e) {
      await driver.close();
      throw e;
    }
    return new PostgresPredictionLog(driver);
  }
}
