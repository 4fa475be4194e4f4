/**
 * Messages between the local executor and its child processes (Node IPC, JSON). One task at a time
 * per child; a child stays up for the next task until the executor closes.
 */
import type { ErrorCode } from '../../core/errors.js';
import type { TaskSpec } from './types.js';

export type ParentMessage = { type: 'run'; task: TaskSpec } | { type: 'abort'; taskId: string };

export interface WireError {
  code: ErrorCode;
  message: string;
}

export type ChildMessage =
  | { type: 'ready'; pid: number }
  | { type: 'log'; taskId: string; line: string }
  | { type: 'progress'; taskId: string; fraction: number; message?: string }
  | { type: 'done'; taskId: string; output: unknown }
  | { type: 'error'; taskId: string; error: WireError }
  /** The child cannot work at all (a handler module failed to load); it exits after sending this. */
  | { type: 'fatal'; error: WireError };

export function isChildMessage(m: unknown): m is ChildMessage {
  return (
    typeof m === 'object' &&
    m !== null &&
    ['ready', 'log', 'progress', 'done', 'error', 'fatal'].includes((m as { type?: string }).type ?? '')
  );
}
