/**
 * Opens the prediction log of a store URI. The URI rules (plain folder, sqlite:, file:, postgres://)
 * live in open.ts only: the tracking store is opened to learn which backend and where, then closed.
 */
import { ModelautoError } from '../core/errors.js';
import { defaultStoreLocation, openTrackingStore } from './open.js';
import type { PredictionLog } from './prediction-log.js';
import { PostgresPredictionLog } from './prediction-log-postgres.js';
import { SqlitePredictionLog } from './prediction-log-sqlite.js';
import { PostgresTrackingStore } from './postgres-store.js';
import { SqliteTrackingStore } from './sqlite-store.js';

export async function openPredictionLog(uri: string = defaultStoreLocation()): Promise<PredictionLog> {
  const tracking = await openTrackingStore(uri);
  try {
    if (tracking instanceof SqliteTrackingStore) return await SqlitePredictionLog.open(tracking.root);
    if (tracking instanceof PostgresTrackingStore) return await PostgresPredictionLog.open(uri.trim());
    throw new ModelautoError('STORE', `the store ${tracking.location} has no prediction log backend`);
  } finally {
    await tracking.close();
  }
}
