/**
 * How pipeline steps and search trials run: as tasks handed to an executor. The local executor runs
 * them in child processes on this machine; the BullMQ executor puts them on a Redis queue that
 * `modelauto worker` processes on any number of machines. A task is plain JSON in and out, so it
 * can cross a process or a network; its result is recorded once, under the task's id.
 */

export interface TaskSpec {
  /** Unique and stable: a retried task keeps its id, and its result is recorded under it once. */
  id: string;
  /** Names a registered handler, e.g. 'pipeline.step' or 'search.trial'. */
  kind: string;
  /** JSON-serializable input for the handler. */
  input: unknown;
  /** Store URI every worker opens (metadata + shared artifacts). */
  store: string;
}

export interface TaskContext {
  taskId: string;
  store: string;
  /** Aborted when the executor cancels the task (Ctrl-C, shutdown). */
  signal: AbortSignal;
  log(line: string): void;
  /** Progress 0..1 with an optional message, shown by `pipeline status` and the dashboard. */
  progress(fraction: number, message?: string): void;
}

/** Does the work; returns JSON-serializable output. Must be safe to re-run after a crash. */
export type TaskHandler = (input: unknown, ctx: TaskContext) => Promise<unknown>;

export interface TaskProgress {
  taskId: string;
  fraction: number;
  message?: string;
}

export interface Executor {
  readonly name: string;
  /** Runs the task somewhere and resolves with its output; rejects with a ModelautoError on failure. */
  run(task: TaskSpec, onProgress?: (p: TaskProgress) => void): Promise<unknown>;
  close(): Promise<void>;
}
