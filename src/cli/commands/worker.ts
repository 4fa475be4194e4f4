import { InvalidArgumentError, type Command } from 'commander';
import { REDIS_ENV_VAR } from '../../pipeline/executor/bullmq-connection.js';
import { queueStatus } from '../../pipeline/executor/bullmq-status.js';
import { runWorker, type RunningWorker } from '../../pipeline/executor/bullmq-worker.js';
import { PIPELINE_TASK_MODULE } from '../../pipeline/executor/local.js';
import { STORE_ENV_VAR } from '../../store/open.js';
import { globals, output, positiveInt } from '../context.js';
import { formatQueueStatus } from './worker-format.js';

interface QueueFlags {
  redis?: string;
  queue?: string;
  prefix?: string;
}

function milliseconds(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
      throw new InvalidArgumentError(`${name}: expected a whole number of milliseconds >= 1, got "${value}"`);
    }
    return n;
  };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Ctrl-C: finish the running tasks, then stop; Ctrl-C again: put them back on the queue and stop;
 * a third time: quit at once. SIGTERM (a machine going away): put them back and stop.
 */
function stopOnSignals(worker: RunningWorker): () => void {
  let interrupts = 0;
  const stop = (mode: 'finish' | 'return'): void => {
    void worker.stop(mode).then((clean) => {
      if (!clean) process.exit(1);
    });
  };
  const onSigint = (): void => {
    interrupts += 1;
    if (interrupts === 1) {
      process.stderr.write(
        '\ninterrupt: finishing the running tasks (Ctrl-C again to put them back on the queue)\n',
      );
      stop('finish');
    } else if (interrupts === 2) {
      process.stderr.write(
        '\ninterrupt: putting the running tasks back on the queue (Ctrl-C again to quit now)\n',
      );
      stop('return');
    } else {
      process.exit(130);
    }
  };
  const onSigterm = (): void => {
    process.stderr.write('SIGTERM: putting the running tasks back on the queue\n');
    stop('return');
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  return () => {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  };
}

export function registerWorker(program: Command): void {
  const worker = program
    .command('worker')
    .description('run pipeline steps and search trials from a BullMQ queue on Redis (any number of machines)')
    .option('--redis <url>', `Redis server: redis://host:6379[/db] (default: $${REDIS_ENV_VAR})`)
    .option('--queue <name>', 'queue name', 'modelauto')
    .option('--prefix <prefix>', 'prefix of the queue keys in Redis', 'modelauto')
    .option('--concurrency <n>', 'tasks run at once by this worker', positiveInt('--concurrency'), 1)
    .option('--name <name>', 'worker name shown in status and results (default: <hostname>:<pid>)')
    .option(
      '--lock-duration <ms>',
      'a job whose worker stops renewing its lock this long is moved back to the queue',
      milliseconds('--lock-duration'),
      30_000,
    )
    .option(
      '--stalled-interval <ms>',
      'how often to look for jobs whose worker was lost',
      milliseconds('--stalled-interval'),
      30_000,
    )
    .option(
      '--max-stalled <n>',
      'times a job may lose its worker before it fails',
      positiveInt('--max-stalled'),
      2,
    )
    .option(
      '--handlers <module>',
      "a module that registers more task kinds (registerTaskHandler), besides the pipeline's; repeatable",
      collect,
    )
    .addHelpText(
      'after',
      `\nTasks record into their own store, or into --store (default $${STORE_ENV_VAR}) when given: the same\n` +
        'database as seen from this machine (e.g. ?artifacts= where the shared folder is mounted here).\n' +
        'Ctrl-C: finish the running tasks, then stop; twice: put them back on the queue. SIGTERM: put them back.',
    )
    .action(async (opts, cmd: Command) => {
      const store = globals(cmd).store ?? process.env[STORE_ENV_VAR]?.trim();
      const running = await runWorker({
        redis: opts.redis,
        queue: opts.queue,
        prefix: opts.prefix,
        ...(store ? { store } : {}),
        concurrency: opts.concurrency,
        ...(opts.name ? { name: opts.name } : {}),
        lockDurationMs: opts.lockDuration,
        stalledIntervalMs: opts.stalledInterval,
        maxStalledCount: opts.maxStalled,
        modules: [PIPELINE_TASK_MODULE, ...((opts.handlers as string[] | undefined) ?? [])],
      });
      const dispose = stopOnSignals(running);
      try {
        await running.stopped;
      } finally {
        dispose();
      }
    });

  worker
    .command('status')
    .description('jobs on the queue by state, with progress, attempts and worker; the connected workers')
    .option('--limit <n>', 'jobs listed per state', positiveInt('--limit'), 20)
    .action(async (opts, cmd: Command) => {
      const q = cmd.optsWithGlobals<QueueFlags>();
      const status = await queueStatus({
        redis: q.redis,
        queue: q.queue,
        prefix: q.prefix,
        limit: opts.limit,
      });
      output(cmd, status, () => formatQueueStatus(status));
    });
}
