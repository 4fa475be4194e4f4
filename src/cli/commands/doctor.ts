import type { Command } from 'commander';
import { diagnose } from '../../pipeline/doctor.js';
import { globals, output } from '../context.js';
import { formatTable } from '../table.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the installation: Node, compute backends, tracking store')
    .action(async (_opts, cmd: Command) => {
      const report = await diagnose({ store: globals(cmd).store });
      output(cmd, report, () =>
        formatTable(
          ['check', 'status', 'detail'],
          report.checks.map((c) => [c.name, c.ok ? 'ok' : 'problem', c.detail]),
        ),
      );
      if (!report.checks.every((c) => c.ok)) process.exitCode = 1;
    });
}
