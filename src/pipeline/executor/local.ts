/**
 * The default executor: tasks run in child processes on this machine, at most `concurrency` at once,
 * each child one task at a time and kept for the next. A child that dies mid-task (killed, out of
 * memory, a native crash) fails that task with an error saying so and the end of its output; the
 * next task gets a fresh child. Works from the build (`dist/`, plain node) and from the TypeScript
 * sources (tests, `tsx`): children of a `.ts` parent start with tsx's loader.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ModelautoError, type ErrorCode } from '../../core/errors.js';
import { isChildMessage, type ChildMessage, type ParentMessage } from './local-protocol.js';
import type { Executor, TaskProgress, TaskSpec } from './types.js';

const SOURCE_EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const CHILD_ENTRY = fileURLToPath(new URL(`./local-child${SOURCE_EXT}`, import.meta.url));
/** The pipeline's handlers (`pipeline.step`, `search.trial`). */
export const PIPELINE_TASK_MODULE = new URL(`../flow/tasks${SOURCE_EXT}`, import.meta.url).href;
const TAIL_LINES = 20;

export interface LocalExecutorOptions {
  /** Tasks at once (default: the number of cores, at most 2). */
  concurrency?: number;
  /** Modules (file URLs or paths) a child imports to register task handlers; default: the pipeline's. */
  modules?: string[];
  /** Output of the children and the handlers' log lines, with the task they belong to. */
  onLog?: (taskId: string | undefined, line: string) => void;
  /** After close() cancels running tasks, how long they may take to stop before their child is killed. */
  graceMs?: number;
  /** Extra environment for the children. */
  env?: Record<string, string>;
}

interface Pending {
  task: TaskSpec;
  onProgress: ((p: TaskProgress) => void) | undefined;
  resolve: (output: unknown) => void;
  reject: (error: ModelautoError) => void;
}

interface Worker {
  child: ChildProcess;
  ready: boolean;
  current?: Pending;
  tail: string[];
  exited: Promise<void>;
}

export class LocalExecutor implements Executor {
  readonly name = 'local';
  readonly concurrency: number;
  private readonly modules: string[];
  private readonly queue: Pending[] = [];
  private readonly workers = new Set<Worker>();
  private closing = false;

  constructor(private readonly options: LocalExecutorOptions = {}) {
    this.concurrency = options.concurrency ?? Math.max(1, Math.min(2, availableParallelism()));
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `concurrency: expected a positive integer, got ${this.concurrency}`,
      );
    }
    this.modules = (options.modules ?? [PIPELINE_TASK_MODULE]).map((m) =>
      /^[a-z]+:/i.test(m) ? m : pathToFileURL(m).href,
    );
  }

  run(task: TaskSpec, onProgress?: (p: TaskProgress) => void): Promise<unknown> {
    if (this.closing)
      return Promise.reject(new ModelautoError('INTERRUPTED', `task ${task.id}: the executor is closed`));
    return new Promise((resolve, reject) => {
      this.queue.push({ task, onProgress, resolve, reject });
      this.pump();
    });
  }

  /** Asks a running task to stop (its handler's signal aborts); a queued one is dropped with INTERRUPTED. */
  cancel(taskId: string): void {
    const queued = this.queue.findIndex((p) => p.task.id === taskId);
    if (queued >= 0) {
      const [p] = this.queue.splice(queued, 1);
      p?.reject(new ModelautoError('INTERRUPTED', `task ${taskId} was cancelled before it started`));
      return;
    }
    const worker = [...this.workers].find((w) => w.current?.task.id === taskId);
    if (worker) this.send(worker, { type: 'abort', taskId });
  }

  /** Cancels running tasks (their handlers see the abort and stop), waits for them, stops every child. */
  async close(): Promise<void> {
    this.closing = true;
    for (const p of this.queue.splice(0)) {
      p.reject(new ModelautoError('INTERRUPTED', `task ${p.task.id} was not started: the executor closed`));
    }
    const grace = this.options.graceMs ?? 10_000;
    await Promise.all(
      [...this.workers].map(async (w) => {
        if (w.current) {
          this.send(w, { type: 'abort', taskId: w.current.task.id });
          const timer = setTimeout(() => w.child.kill('SIGKILL'), grace);
          await new Promise<void>((r) => {
            const check = setInterval(() => {
              if (w.current) return;
              clearInterval(check);
              r();
            }, 20);
            void w.exited.then(() => {
              clearInterval(check);
              r();
            });
          });
          clearTimeout(timer);
        }
        if (w.child.connected) w.child.disconnect();
        const killer = setTimeout(() => w.child.kill('SIGKILL'), 5_000);
        await w.exited;
        clearTimeout(killer);
      }),
    );
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const worker = [...this.workers].find((w) => w.ready && !w.current);
      if (worker) {
        const next = this.queue.shift() as Pending;
        worker.current = next;
        worker.child.ref();
        this.send(worker, { type: 'run', task: next.task });
        continue;
      }
      const starting = [...this.workers].filter((w) => !w.ready).length;
      if (starting >= this.queue.length || this.workers.size >= this.concurrency) return;
      this.spawn();
    }
  }

  private spawn(): void {
    const tsx =
      SOURCE_EXT === '.ts'
        ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href]
        : [];
    const threads = String(Math.max(1, Math.floor(availableParallelism() / this.concurrency)));
    const child = fork(CHILD_ENTRY, [JSON.stringify(this.modules)], {
      execArgv: tsx,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { MODELAUTO_THREADS: threads, ...process.env, ...this.options.env },
    });
    const worker: Worker = {
      child,
      ready: false,
      tail: [],
      exited: new Promise((r) => child.once('exit', () => r())),
    };
    this.workers.add(worker);
    const onLine = (line: string): void => {
      worker.tail.push(line);
      if (worker.tail.length > TAIL_LINES) worker.tail.shift();
      this.options.onLog?.(worker.current?.task.id, line);
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const l of lines) if (l.trim()) onLine(l);
      });
    }
    child.on('message', (m: unknown) => {
      if (isChildMessage(m)) this.onMessage(worker, m);
    });
    child.on('error', (e) => onLine(`child process error: ${e.message}`));
    child.once('exit', (code, signal) => {
      this.workers.delete(worker);
      const p = worker.current;
      worker.current = undefined;
      if (p) {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const tail = worker.tail.length ? `; its last output:\n  ${worker.tail.join('\n  ')}` : '';
        p.reject(
          new ModelautoError(
            'INTERNAL',
            `task ${p.task.id} (${p.task.kind}) failed: its worker process ${child.pid} ${how} while running it${tail}`,
          ),
        );
      }
      if (!this.closing) this.pump();
    });
  }

  private onMessage(worker: Worker, m: ChildMessage): void {
    const p = worker.current;
    switch (m.type) {
      case 'ready':
        worker.ready = true;
        this.idle(worker);
        this.pump();
        return;
      case 'log':
        this.options.onLog?.(m.taskId, m.line);
        return;
      case 'progress':
        p?.onProgress?.({
          taskId: m.taskId,
          fraction: m.fraction,
          ...(m.message !== undefined ? { message: m.message } : {}),
        });
        return;
      case 'done':
      case 'error':
        if (!p || p.task.id !== m.taskId) return;
        worker.current = undefined;
        if (m.type === 'done') p.resolve(m.output);
        else p.reject(new ModelautoError(m.error.code as ErrorCode, m.error.message));
        this.idle(worker);
        if (!this.closing) this.pump();
        return;
      case 'fatal': {
        const waiting = this.queue.splice(0);
        for (const q of waiting) q.reject(new ModelautoError(m.error.code as ErrorCode, m.error.message));
        return;
      }
    }
  }

  /** An idle child must not keep the parent alive if the caller forgets close(). */
  private idle(worker: Worker): void {
    if (worker.current) return;
    worker.child.unref();
    (worker.child.channel as { unref?: () => void } | undefined)?.unref?.();
    for (const s of [worker.child.stdout, worker.child.stderr])
      (s as { unref?: () => void } | null)?.unref?.();
  }

  private send(worker: Worker, m: ParentMessage): void {
    (worker.child.channel as { ref?: () => void } | undefined)?.ref?.();
    worker.child.send(m);
  }
}
