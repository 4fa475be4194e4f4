export * from './types.js';
export type { TrackingStore } from './tracking-store.js';
export { SqliteTrackingStore, SQLITE_DB_FILE, ARTIFACTS_DIR } from './sqlite-store.js';
export { LATEST_SCHEMA_VERSION } from './sqlite-schema.js';
export { PostgresTrackingStore } from './postgres-store.js';
export { POSTGRES_LATEST_SCHEMA_VERSION } from './postgres-schema.js';
export { parsePostgresUri, DEFAULT_PG_ARTIFACTS_FOLDER, type PostgresStoreConfig } from './postgres-uri.js';
export {
  openTrackingStore,
  openRegistry,
  openStores,
  defaultStoreLocation,
  STORE_ENV_VAR,
  DEFAULT_STORE_FOLDER,
  type Stores,
} from './open.js';
export * from './registry.js';
export { parseModelReference, formatModelReference } from './registry-refs.js';
export { SqliteModelRegistry } from './sqlite-registry.js';
export { PostgresModelRegistry } from './postgres-registry.js';
export {
  registerRun,
  RegisterRunOptionsSchema,
  TEST_METRIC_PREFIX,
  type RegisterRunOptions,
} from './register-run.js';
export * from './registry-api.js';
export * from './alert-events.js';
export { SqliteAlertEventStore, PostgresAlertEventStore, openAlertEventStore } from './alert-events-open.js';
export { ALERT_SCHEMA_VERSION } from './alert-events-schema.js';
export * from './prediction-log.js';
export { openPredictionLog } from './prediction-log-open.js';
export { SqlitePredictionLog } from './prediction-log-sqlite.js';
export { PostgresPredictionLog } from './prediction-log-postgres.js';
export { PREDICTION_LOG_SCHEMA_VERSION } from './prediction-log-sql.js';
