import type { Command } from 'commander';
import { runQuickstart } from '../../pipeline/quickstart.js';
import { globals, output } from '../context.js';
import { formatTrainResult, trainResultJson } from '../format.js';
import { withInterrupt } from '../interrupt.js';

export function registerQuickstart(program: Command): void {
  program
    .command('quickstart')
    .description('the main job (npm start): train the seed MLP on MNIST, evaluate it, record the run')
    .option('--no-progress', 'no progress bar or epoch lines on stderr')
    .action(async (opts, cmd: Command) => {
      const g = globals(cmd);
      const result = await withInterrupt((signal) =>
        runQuickstart({
          ...(g.store ? { store: g.store } : {}),
          progress: opts.progress !== false,
          signal,
          log: (line) => process.stderr.write(`${line}\n`),
        }),
      );
      output(cmd, trainResultJson(result), () => formatTrainResult(result));
      if (result.run.status !== 'finished') process.exitCode = 1;
    });
}
