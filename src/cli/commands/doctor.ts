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
      output(cmd, report, () => {
        const checks = formatTable(
          ['check', 'status', 'detail'],
          report.checks.map((c) => [c.name, c.ok ? 'ok' : 'problem', c.detail]),
        );
        const kernels = report.native.kernels;
        if (kernels.length === 0) return checks;
        const native = kernels.filter((k) => k.native).map((k) => k.name);
        const other = kernels.filter((k) => !k.native);
        return [
          checks,
          '',
          `native kernels (${native.length}): ${native.join(', ')}`,
          ...(other.length
            ? [
                '',
                formatTable(
                  ['kernel on JS', 'why'],
                  other.map((k) => [k.name, k.note ?? '']),
                ),
              ]
            : []),
        ].join('\n');
      });
      if (!report.checks.every((c) => c.ok)) process.exitCode = 1;
    });
}
