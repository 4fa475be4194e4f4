import type { Command } from 'commander';
import { EVAL_SPLITS, runEvaluateJob } from '../../pipeline/evaluate-job.js';
import { globals, oneOf, output } from '../context.js';
import { evaluateResultJson, formatEvaluateResult } from '../format.js';

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description("score a trained run's model and record an evaluate run linked to it")
    .argument('<run>', 'train run id or a unique prefix of at least 4 characters')
    .option(
      '--split <split>',
      `split of the run's own data: ${EVAL_SPLITS.join(', ')}`,
      oneOf('--split', EVAL_SPLITS),
      'test',
    )
    .option('--data <file>', 'score a CSV/JSON Lines file with the training columns instead of a split')
    .option('--output <file>', 'also write the evaluation as JSON to this file')
    .action(async (ref: string, opts, cmd: Command) => {
      const g = globals(cmd);
      const result = await runEvaluateJob(ref, {
        ...(g.store ? { store: g.store } : {}),
        split: opts.split,
        ...(opts.data ? { data: opts.data } : {}),
        ...(opts.output ? { output: opts.output } : {}),
      });
      output(cmd, evaluateResultJson(result), () => formatEvaluateResult(result));
    });
}
