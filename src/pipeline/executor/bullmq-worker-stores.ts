/**
 * The stores a worker records task results in. A task names its store (the submitter's URI). A
 * worker started with `--store` uses that URI instead — the same database as seen from this
 * machine, e.g. `postgres://db/modelauto?artifacts=/mnt/shared` where the submitter's artifacts
 * folder is mounted elsewhere — after checking that both name the same database: results written
 * to another database would be lost to the submitter.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelautoError } from '../../core/errors.js';
import { parsePostgresUri } from '../../store/postgres-uri.js';
import type { TaskResultStore } from '../../store/task-results.js';
import { openTaskResultStore } from '../../store/task-results-open.js';
import type { TaskSpec } from './types.js';

export class WorkerStores {
  private readonly opened = new Map<string, Promise<TaskResultStore>>();
  private readonly pinnedIdentity: string | undefined;

  constructor(private readonly pinned: string | undefined) {
    this.pinnedIdentity = pinned === undefined ? undefined : storeIdentity(pinned);
  }

  /** The store URI this worker opens for the task. */
  storeFor(task: TaskSpec): string {
    if (this.pinned === undefined) return task.store;
    const identity = storeIdentity(task.store);
    if (identity !== this.pinnedIdentity) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `task ${task.id} records into ${identity}, but this worker serves ${this.pinnedIdentity} (--store); start a worker for that store or submit to this one`,
        { location: { path: 'task.store' } },
      );
    }
    return this.pinned;
  }

  /** The task results of a store, opened once per URI and kept for the worker's life. */
  results(uri: string): Promise<TaskResultStore> {
    let store = this.opened.get(uri);
    if (!store) {
      store = openTaskResultStore(uri);
      this.opened.set(uri, store);
      // A failed open is not cached: the next task tries again (the database may be back).
      store.catch(() => this.opened.delete(uri));
    }
    return store;
  }

  async close(): Promise<void> {
    const stores = [...this.opened.values()];
    this.opened.clear();
    for (const s of stores) await (await s.catch(() => undefined))?.close();
  }
}

/**
 * Which database a store URI names, password and artifacts folder left out: PostgreSQL by user,
 * host, port, database and schema; SQLite by its absolute folder (the rules of store/open.ts).
 */
export function storeIdentity(uri: string): string {
  const text = uri.trim();
  if (/^postgres(ql)?:/i.test(text)) {
    return parsePostgresUri(text).location.replace(/^postgresql:/i, 'postgres:');
  }
  const m = /^(sqlite|file):(.*)$/is.exec(text);
  let folder = text;
  if (m) {
    const rest = m[2] ?? '';
    if (rest.startsWith('///')) folder = m[1]?.toLowerCase() === 'file' ? fileURLToPath(text) : rest.slice(2);
    else folder = rest;
  }
  return `sqlite:${resolve(folder)}`;
}
