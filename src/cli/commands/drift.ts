import { InvalidArgumentError, type Command } from 'commander';
import { runDriftReport, type DriftReportResult } from '../../monitor/report/batch.js';
import type { DriftOptionsInput } from '../../monitor/drift/options.js';
import { oneOf, output, positiveInt, usage } from '../context.js';
import { fmt, formatTable } from '../table.js';

/** Exit code of `modelauto drift --fail-on-drift` when the dataset drifted (0 ok, 1 failure, 2 usage). */
export const DRIFT_EXIT_CODE = 3;

const METHODS = ['auto', 'ks', 'wasserstein', 'psi', 'jensenshannon', 'chisquare', 'ztest'] as const;
type Method = (typeof METHODS)[number];

function fraction(name: string, { open = false } = {}) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || (open ? n >= 1 : n > 1)) {
      throw new InvalidArgumentError(
        `${name}: expected a number in (0, ${open ? '1)' : '1]'}, got "${value}"`,
      );
    }
    return n;
  };
}

function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
      throw new InvalidArgumentError(`${name}: expected a positive number, got "${value}"`);
    }
    return n;
  };
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** --method and --threshold as drift options: ks/wasserstein are numeric methods, chisquare/ztest categorical. */
function methodOptions(method: Method, threshold: number | undefined): DriftOptionsInput {
  if (threshold !== undefined && method === 'auto') {
    throw usage(
      '--threshold needs --method: the auto rule mixes p-values (tests) and distances, which take different thresholds',
    );
  }
  const o: DriftOptionsInput = {};
  if (method === 'ks' || method === 'wasserstein') o.numericMethod = method;
  if (method === 'chisquare' || method === 'ztest') o.categoricalMethod = method;
  if (method === 'psi' || method === 'jensenshannon') {
    o.numericMethod = method;
    o.categoricalMethod = method;
  }
  if (threshold !== undefined) {
    const key = method === 'ks' || method === 'chisquare' || method === 'ztest' ? 'pValue' : method;
    if (key === 'pValue' && threshold >= 1)
      throw usage(`--threshold: a p-value threshold must be below 1, got ${threshold}`);
    o.thresholds = { [key]: threshold };
  }
  return o;
}

function formatDrift(r: DriftReportResult): string {
  const rep = r.report;
  const rows = rep.features.map((f) => [
    f.feature,
    f.method,
    f.statistic,
    f.pValue ?? f.score,
    f.psi,
    f.drifted ? 'yes' : 'no',
  ]);
  const lines = [
    `reference: ${r.reference.file} (${r.reference.rows} rows, ${r.reference.columns} columns)`,
    `current:   ${r.current.file} (${r.current.rows} rows, ${r.current.columns} columns)`,
    '',
    formatTable(['feature', 'method', 'statistic', 'p-value/score', 'psi', 'drifted'], rows),
  ];
  if (rep.prediction) {
    lines.push(
      '',
      `prediction: ${rep.prediction.method} ${fmt(rep.prediction.score)} drifted ${rep.prediction.drifted ? 'yes' : 'no'}`,
    );
  }
  for (const s of rep.skipped ?? []) lines.push(`skipped ${s.feature}: ${s.reason}`);
  const drifted = rep.features.filter((f) => f.drifted).length;
  lines.push(
    '',
    `${rep.datasetDrift ? 'DATASET DRIFT' : 'no dataset drift'}: ${drifted} of ${rep.features.length} columns drifted (share ${fmt(rep.driftShare)}; correction ${rep.correction})`,
  );
  if (r.html) lines.push(`report: ${r.html}`);
  return lines.join('\n');
}

export function registerDrift(program: Command): void {
  program
    .command('drift')
    .description(
      'compare two data files column by column for drift; print a table and optionally write an HTML report',
    )
    .requiredOption('--reference <file>', 'reference data (.csv or .jsonl, optionally .gz)')
    .requiredOption('--current <file>', 'data to compare with the reference (same columns)')
    .option(
      '--format <format>',
      'format of both files (default: from the extension)',
      oneOf('--format', ['csv', 'jsonl'] as const),
    )
    .option('--html <file>', 'write a self-contained HTML report to this file')
    .option(
      '--method <method>',
      `test or distance: ${METHODS.join(', ')}`,
      oneOf('--method', METHODS),
      'auto',
    )
    .option(
      '--threshold <x>',
      "the method's threshold (a p-value level for ks/chisquare/ztest, a distance otherwise)",
      positiveNumber('--threshold'),
    )
    .option(
      '--correction <c>',
      'multiple-testing correction: none, bonferroni, fdr (default fdr)',
      oneOf('--correction', ['none', 'bonferroni', 'fdr'] as const),
    )
    .option(
      '--drift-share <x>',
      'dataset drift when this share of columns drifts (default 0.5)',
      fraction('--drift-share'),
    )
    .option('--include <cols>', 'compare only these columns (comma-separated)', list)
    .option('--skip <cols>', 'leave these columns out (comma-separated)', list)
    .option(
      '--reference-rows <n>',
      'rows the reference stands for, for the auto rule (default: its row count)',
      positiveInt('--reference-rows'),
    )
    .option(
      '--min-rows <n>',
      'fewest rows (and non-missing values per column) compared (default 30)',
      positiveInt('--min-rows'),
    )
    .option('--fail-on-drift', `exit with code ${DRIFT_EXIT_CODE} when the dataset drifted`)
    .action(async (opts, cmd: Command) => {
      const options: DriftOptionsInput = {
        ...methodOptions(opts.method as Method, opts.threshold),
        ...(opts.correction ? { correction: opts.correction } : {}),
        ...(opts.driftShare !== undefined ? { driftShare: opts.driftShare } : {}),
        ...(opts.include ? { include: opts.include } : {}),
        ...(opts.skip ? { skip: opts.skip } : {}),
        ...(opts.referenceRows !== undefined ? { referenceRows: opts.referenceRows } : {}),
        ...(opts.minRows !== undefined ? { minRows: opts.minRows } : {}),
      };
      const result = await runDriftReport({
        reference: opts.reference,
        current: opts.current,
        ...(opts.format ? { format: opts.format } : {}),
        ...(opts.html ? { out: opts.html } : {}),
        options,
      });
      output(cmd, result, () => formatDrift(result));
      if (opts.failOnDrift && result.report.datasetDrift) process.exitCode = DRIFT_EXIT_CODE;
    });
}
