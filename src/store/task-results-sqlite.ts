/** SQLite backend of the task results: the `task_results` table in the store folder's `modelauto.db`. */
import { openSqliteStoreFolder } from './sqlite-connection.js';
import { SqliteDriver } from './sqlite-driver.js';
import { ensureTaskResultsTable, SqlTaskResultStore } from './task-results-sql.js';

export class SqliteTaskResultStore extends SqlTaskResultStore {
  /** Opens (creating if needed) the task results of the store in folder `root`. */
  static async open(root: string): Promise<SqliteTaskResultStore> {
    const folder = openSqliteStoreFolder(root);
    const driver = new SqliteDriver(`sqlite:${folder.root}`, folder.dbPath, folder.db);
    try {
      await ensureTaskResultsTable(driver, 'sqlite');
    } catch (e) {
      await driver.close();
      throw e;
    }
    return new SqliteTaskResultStore(driver);
  }
}
