/**
 * Task handlers by kind. Every process that runs tasks (the CLI, a local child, a BullMQ worker)
 * resolves the same names here, so a task queued on one machine runs the same code on another.
 */
import { ModelautoError } from '../../core/errors.js';
import type { TaskHandler } from './types.js';

const handlers = new Map<string, TaskHandler>();

export function registerTaskHandler(kind: string, handler: TaskHandler): void {
  if (!/^[a-z][a-z0-9_.-]{0,63}$/.test(kind)) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `task kind "${kind}": expected lowercase letters, digits, . _ -`,
    );
  }
  handlers.set(kind, handler);
}

export function getTaskHandler(kind: string): TaskHandler {
  const handler = handlers.get(kind);
  if (!handler) {
    const known = [...handlers.keys()].sort().join(', ') || '(none)';
    throw new ModelautoError('INVALID_ARGUMENT', `no handler for task kind "${kind}"; known kinds: ${known}`);
  }
  return handler;
}

export function taskKinds(): string[] {
  return [...handlers.keys()].sort();
}
