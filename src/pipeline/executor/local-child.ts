/**
 * Entry of a local executor child process. It imports the modules that register task handlers (given
 * as argv[2], a JSON list of file URLs), then runs the tasks the parent sends, one at a time, reporting
 * logs, progress and the result over IPC. Ctrl-C reaches every process of the terminal: the child
 * ignores it and lets the parent decide (it sends an abort, which the handler sees on its signal).
 * When the parent dies the channel closes: running work is aborted (a training run is recorded as
 * interrupted) and the child exits.
 */
import { toModelautoError } from '../../core/errors.js';
import type { ChildMessage, ParentMessage } from './local-protocol.js';
import { getTaskHandler } from './registry.js';

const EXIT_GRACE_MS = 10_000;
const running = new Map<string, AbortController>();

function send(message: ChildMessage): void {
  if (process.connected) process.send?.(message);
}

async function runTask(message: Extract<ParentMessage, { type: 'run' }>): Promise<void> {
  const { task } = message;
  const controller = new AbortController();
  running.set(task.id, controller);
  try {
    const handler = getTaskHandler(task.kind);
    const output = await handler(task.input, {
      taskId: task.id,
      store: task.store,
      signal: controller.signal,
      log: (line) => send({ type: 'log', taskId: task.id, line }),
      progress: (fraction, msg) =>
        send({ type: 'progress', taskId: task.id, fraction, ...(msg !== undefined ? { message: msg } : {}) }),
    });
    send({ type: 'done', taskId: task.id, output: output === undefined ? null : output });
  } catch (e) {
    const err = toModelautoError(e);
    send({ type: 'error', taskId: task.id, error: { code: err.code, message: err.message } });
  } finally {
    running.delete(task.id);
  }
}

process.on('SIGINT', () => undefined);
process.on('disconnect', () => {
  for (const c of running.values()) c.abort();
  const exit = (): never => process.exit(0);
  if (running.size === 0) exit();
  const timer = setInterval(() => running.size === 0 && exit(), 100);
  setTimeout(exit, EXIT_GRACE_MS).unref();
  timer.unref();
});

try {
  const modules = JSON.parse(process.argv[2] ?? '[]') as string[];
  for (const m of modules) await import(m);
} catch (e) {
  const err = toModelautoError(e);
  send({ type: 'fatal', error: { code: err.code, message: `cannot load task handlers: ${err.message}` } });
  process.exit(1);
}
process.on('message', (raw: ParentMessage) => {
  if (raw.type === 'run') void runTask(raw);
  else if (raw.type === 'abort') running.get(raw.taskId)?.abort();
});
send({ type: 'ready', pid: process.pid });
