/**
 * Opens the task results of a store URI. The URI rules (plain folder, sqlite:, file:, postgres://)
 * live in open.ts only: the tracking store is opened to learn which backend and where, then closed.
 */
import { ModelautoError } from '../core/errors.js';
import { defaultStoreLocation, openTrackingStore } from './open.js';
import { PostgresTrackingStore } from './postgres-store.js';
import { SqliteTrackingStore } from './sqlite-store.js';
import type { TaskResultStore } from './task-results.js';
import { PostgresTaskResultStore } from './task-results-postgres.js';
import { SqliteTaskResultStore } from './task-results-sqlite.js';

export async function openTaskResultStore(uri: string = defaultStoreLocation()): Promise<TaskResultStore> {
  const tracking = await openTrackingStore(uri);
  try {
    if (tracking instanceof SqliteTrackingStore) return await SqliteTaskResultStore.open(tracking.root);
    if (tracking instanceof PostgresTrackingStore) return await PostgresTaskResultStore.open(uri.trim());
    throw new ModelautoError('STORE', `the store ${tracking.location} has no task results backend`);
  } finally {
    await tracking.close();
  }
}
