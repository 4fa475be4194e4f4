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
