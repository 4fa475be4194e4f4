/** SQLite backend of the prediction log: its tables in the store folder's `modelauto.db`. */
import { migratePredictionLog, SqlPredictionLog } from './prediction-log-sql.js';
import { openSqliteStoreFolder } from './sqlite-connection.js';
import { SqliteDriver } from './sqlite-driver.js';

export class SqlitePredictionLog extends SqlPredictionLog {
  /** Opens (creating if needed) the prediction log of the store in folder `root`. */
  static async open(root: string): Promise<SqlitePredictionLog> {
    const folder = openSqliteStoreFolder(root);
    const driver = new SqliteDriver(`sqlite:${folder.root}`, folder.dbPath, folder.db);
    try {
      await migratePredictionLog(driver, 'sqlite');
    } catch (e) {
      await driver.close();
      throw e;
    }
    return new SqlitePredictionLog(driver);
  }
}
