/**
 * Stopping one task. The Executor contract has no per-task cancel (close() cancels everything), so
 * executors that can stop a single task (the local one: `cancel(taskId)`) are asked to; for others the
 * task runs to its end.
 */
import type { Executor } from '../executor/types.js';

interface Cancellable {
  cancel(taskId: string): void;
}

export function canCancel(e: Executor): e is Executor & Cancellable {
  return typeof (e as Partial<Cancellable>).cancel === 'function';
}

/** True when the executor was asked to stop the task. */
export function cancelTask(e: Executor, taskId: string): boolean {
  if (!canCancel(e)) return false;
  e.cancel(taskId);
  return true;
}
