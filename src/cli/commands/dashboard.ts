import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_DASHBOARD_PORT, startDashboard } from '../../monitor/dashboard/standalone.js';
import { REDIS_ENV_VAR } from '../../pipeline/executor/bullmq-connection.js';
import { openQueueMonitor, type QueueMonitor } from '../../pipeline/executor/bullmq-status.js';
import { globals, output } from '../context.js';
import { untilSignal } from '../until-signal.js';

function tcpPort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65535) {
    throw new InvalidArgumentError(`--port: expected a port number 0-65535, got "${value}"`);
  }
  return n;
}

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description(
      'the web dashboard on its own: pipeline runs and their steps, the job queue, models, runs (no model server)',
    )
    .option('--port <n>', 'TCP port (0: any free port)', tcpPort, DEFAULT_DASHBOARD_PORT)
    .option(
      '--host <address>',
      'address to listen on (the dashboard has no login: keep it local)',
      '127.0.0.1',
    )
    .option(
      '--redis <url>',
      `also show the distributed executor's queue on this Redis (default: $${REDIS_ENV_VAR} when set)`,
    )
    .option('--queue <name>', 'queue name', 'modelauto')
    .option('--prefix <prefix>', 'prefix of the queue keys in Redis', 'modelauto')
    .addHelpText(
      'after',
      '\n`modelauto serve` shows the same pages next to a served model, plus live traffic, drift and alerts.\n' +
        'Ctrl-C or SIGTERM stops it.',
    )
    .action(async (opts, cmd: Command) => {
      const g = globals(cmd);
      const redis: string | undefined = opts.redis ?? process.env[REDIS_ENV_VAR]?.trim() ?? undefined;
      const stop = untilSignal();
      let queue: QueueMonitor | undefined;
      try {
        if (redis) queue = await openQueueMonitor({ redis, queue: opts.queue, prefix: opts.prefix });
        const dashboard = await startDashboard({
          ...(g.store ? { store: g.store } : {}),
          host: opts.host,
          port: opts.port,
          ...(queue ? { queue } : {}),
        });
        output(
          cmd,
          { url: dashboard.url, queue: queue ? queue.location.queue : null },
          () => `dashboard at ${dashboard.url}/${queue ? ` (queue ${queue.location.queue})` : ''}`,
        );
        process.stderr.write(`${await stop.signal}: `);
        await dashboard.close();
      } finally {
        await queue?.close().catch(() => undefined);
        stop.dispose();
      }
    });
}
