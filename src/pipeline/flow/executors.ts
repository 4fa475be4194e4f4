/**
 * Executors by name, for the CLI's `--executor local|bullmq`: the local one (children of this
 * process) or BullMQ (jobs on a Redis queue that `modelauto worker` processes run).
 */
import { ModelautoError } from '../../core/errors.js';
import { BullmqExecutor } from '../executor/bullmq-executor.js';
import { LocalExecutor } from '../executor/local.js';
import type { Executor } from '../executor/types.js';

export const EXECUTORS = ['local', 'bullmq'] as const;
export type ExecutorChoice = (typeof EXECUTORS)[number];

export interface ExecutorSettings {
  /** local: tasks at once. */
  concurrency?: number;
  /** bullmq: Redis URL (default $MODELAUTO_REDIS). */
  redis?: string;
  /** bullmq: queue name. */
  queue?: string;
  /** local: output of the child processes and handler log lines. */
  onLog?: (taskId: string | undefined, line: string) => void;
}

export async function createExecutor(
  name: ExecutorChoice,
  settings: ExecutorSettings = {},
): Promise<Executor> {
  if (name === 'local') {
    return new LocalExecutor({
      ...(settings.concurrency ? { concurrency: settings.concurrency } : {}),
      ...(settings.onLog ? { onLog: settings.onLog } : {}),
    });
  }
  if (name === 'bullmq') {
    return BullmqExecutor.open({
      ...(settings.redis ? { redis: settings.redis } : {}),
      ...(settings.queue ? { queue: settings.queue } : {}),
    });
  }
  throw new ModelautoError(
    'USAGE',
    `--executor: expected one of ${EXECUTORS.join(', ')}, got "${String(name)}"`,
  );
}
