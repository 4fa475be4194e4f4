export * from './types.js';
export type { TrackingStore } from './tracking-store.js';
export { SqliteTrackingStore, SQLITE_DB_FILE, ARTIFACTS_DIR } from './sqlite-store.js';
export { LATEST_SCHEMA_VERSION } from './sqlite-schema.js';
export { openTrackingStore, defaultStoreLocation, STORE_ENV_VAR, DEFAULT_STORE_FOLDER } from './open.js';
