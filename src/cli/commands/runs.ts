import type { Command } from 'commander';
import { compareRuns, listRuns, showRun } from '../../pipeline/runs.js';
import { RUN_STATUSES } from '../../store/types.js';
import { globals, oneOf, output, positiveInt } from '../context.js';
import { formatRunComparison, formatRunDetails, formatRunList } from '../format.js';

export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('list, show and compare tracked runs');
  runs
    .command('list')
    .description('list runs, newest first')
    .option('--kind <kind>', 'only runs of this kind (train, evaluate, ...)')
    .option(
      '--status <status>',
      `only runs with this status: ${RUN_STATUSES.join(', ')}`,
      oneOf('--status', RUN_STATUSES),
    )
    .option('--name <name>', 'only runs with this name')
    .option('--limit <n>', 'at most n runs (default 20)', positiveInt('--limit'), 20)
    .action(async (opts, cmd: Command) => {
      const rows = await listRuns({
        store: globals(cmd).store,
        kind: opts.kind,
        status: opts.status,
        name: opts.name,
        limit: opts.limit,
      });
      output(cmd, rows, () => formatRunList(rows));
    });
  runs
    .command('show')
    .description('show one run: params, metrics, artifacts')
    .argument('<run>', 'run id or a unique prefix of at least 4 characters')
    .action(async (ref: string, _opts, cmd: Command) => {
      const run = await showRun(ref, { store: globals(cmd).store });
      output(cmd, run, () => formatRunDetails(run));
    });
  runs
    .command('compare')
    .description('compare the params and metrics of two or more runs side by side')
    .argument('<runs...>', 'run ids or unique prefixes')
    .action(async (refs: string[], _opts, cmd: Command) => {
      const cmp = await compareRuns(refs, { store: globals(cmd).store });
      output(cmd, cmp, () => formatRunComparison(cmp));
    });
}
