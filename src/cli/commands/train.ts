import type { Command } from 'commander';
import { runTrainJob } from '../../pipeline/train-job.js';
import { BACKENDS } from '../../engine/backend.js';
import { globals, oneOf, output, positiveInt } from '../context.js';
import { formatTrainResult, trainResultJson } from '../format.js';
import { withInterrupt } from '../interrupt.js';

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a model from an experiment spec (YAML or JSON) and record the run')
    .argument('<spec>', 'experiment spec file, e.g. examples/iris.yaml')
    .option('--epochs <n>', 'override train.epochs', positiveInt('--epochs'))
    .option('--batch-size <n>', 'override train.batchSize', positiveInt('--batch-size'))
    .option(
      '--limit <n>',
      'use only the first n rows of the training data (quick tries)',
      positiveInt('--limit'),
    )
    .option('--backend <name>', `compute backend: ${BACKENDS.join(', ')}`, oneOf('--backend', BACKENDS))
    .option('--name <name>', 'run name (default: the spec name)')
    .option('--no-progress', 'no progress bar or epoch lines on stderr')
    .action(async (specFile: string, opts, cmd: Command) => {
      const g = globals(cmd);
      const result = await withInterrupt((signal) =>
        runTrainJob(specFile, {
          ...(g.store ? { store: g.store } : {}),
          overrides: {
            ...(opts.epochs ? { epochs: opts.epochs } : {}),
            ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
            ...(opts.backend ? { backend: opts.backend } : {}),
            ...(opts.limit ? { limit: opts.limit } : {}),
          },
          ...(opts.name ? { runName: opts.name } : {}),
          progress: opts.progress !== false,
          signal,
          log: (line) => process.stderr.write(`${line}\n`),
        }),
      );
      output(cmd, trainResultJson(result), () => formatTrainResult(result));
      if (result.run.status !== 'finished') process.exitCode = 1;
    });
}
