import type { Command } from 'commander';
import { writeJsonAtomic } from '../../core/atomic.js';
import { runQuickstart, type QuickstartOptions } from '../../pipeline/quickstart.js';
import type { QuickstartSummary, StepSummary } from '../../pipeline/quickstart-summary.js';
import { globals, output, positiveInt } from '../context.js';
import { withInterrupt } from '../interrupt.js';
import { formatTable } from '../table.js';

const pct = (v: number | null | undefined): string =>
  v === null || v === undefined ? 'n/a' : `${(100 * v).toFixed(2)}%`;
const kb = (v: number | null): string => (v === null ? 'n/a' : `${(v / 1024).toFixed(1)} KB`);
const clock = (t: number): string => new Date(t).toISOString().slice(11, 19);

function stepRows(steps: StepSummary[]): string[][] {
  return steps.map((s) => [
    s.pipeline,
    s.step,
    s.uses,
    s.status,
    s.seconds === null ? '' : `${s.seconds.toFixed(1)} s`,
    s.result,
  ]);
}

/** The main job's summary as text: steps with times, then what happened, then the bar. */
export function formatQuickstart(s: QuickstartSummary): string {
  const lines: string[] = [''];
  lines.push(
    formatTable(
      ['pipeline', 'step', 'uses', 'status', 'time', 'result'],
      stepRows([...s.pipeline.steps, ...(s.retrain?.steps ?? [])]),
    ),
  );
  lines.push('');
  lines.push(
    `seed model      test accuracy ${pct(s.seed.test_accuracy)}, F1 ${s.seed.f1_macro?.toFixed(4) ?? 'n/a'}, ${kb(s.seed.size_gzip_bytes)} gzipped`,
  );
  lines.push(
    `champion v${s.champion.version ?? '?'}    test accuracy ${pct(s.champion.test_accuracy)}, ${kb(s.champion.size_gzip_bytes)} gzipped` +
      `${s.champion.size_ratio !== null ? ` (${s.champion.size_ratio.toFixed(1)}x smaller)` : ''}, sparsity ${pct(s.champion.sparsity)};` +
      ` ONNX ${kb(s.champion.onnx_bytes)}, int8 ${kb(s.champion.onnx_int8_bytes)} (${pct(s.champion.onnx_int8_accuracy)})`,
  );
  for (const [name, t] of Object.entries(s.traffic)) {
    if (!t) continue;
    const versions = Object.entries((t.versions ?? {}) as Record<string, { accuracy: number | null }>)
      .map(([v, x]) => `v${v} ${pct(x.accuracy)}`)
      .join(', ');
    lines.push(
      `${`${name} traffic`.padEnd(16)}${t.rows} rows (${t.shift}): client accuracy ${versions}; drift share ` +
        `${t.drift_share?.toFixed(3) ?? 'n/a'}${t.dataset_drift ? ' (dataset drift)' : ''}, live accuracy ${pct(t.live_accuracy)}; ` +
        `alerts fired: ${t.alerts_fired.join(', ') || 'none'}`,
    );
  }
  if (s.webhooks.length > 0) {
    lines.push(
      `webhooks        ${s.webhooks.map((w) => `${w.status ?? w.event ?? '?'} ${w.rule ?? '?'} at ${clock(w.at)}`).join('; ')}`,
    );
  }
  if (s.retrain) {
    lines.push(
      `retrain         started by ${s.retrain.rule} at ${clock(s.retrain.fired_at)} (${s.retrain.message})` +
        `${s.retrain.joined.length ? `; joined by ${s.retrain.joined.join(', ')}` : ''}: ${s.retrain.status}` +
        `${s.retrain.pipeline_run ? ` (pipeline run ${s.retrain.pipeline_run.slice(0, 8)})` : ''}`,
    );
  }
  for (const a of s.skipped_alerts)
    lines.push(`                alert ${a.rule} at ${clock(a.at)} not acted on: ${a.reason ?? ''}`);
  if (s.promoted)
    lines.push(
      `promoted        ${s.promoted.model}:${s.promoted.to} to @champion (was v${s.promoted.from ?? '?'})`,
    );
  for (const m of s.alias_moves) {
    lines.push(
      `  @${m.alias} ${m.action} ${m.from ?? '-'} → ${m.to ?? '-'} at ${clock(m.time)} by ${m.actor}${m.reason ? `: ${m.reason}` : ''}`,
    );
  }
  const h = s.shifted_holdout;
  if (h.old && h.new) {
    lines.push(
      `shifted holdout ${h.description}: old v${h.old.version} ${pct(h.old.accuracy)} → new v${h.new.version} ${pct(h.new.accuracy)}` +
        (h.unshifted_old && h.unshifted_new
          ? `; same digits unshifted: ${pct(h.unshifted_old.accuracy)} → ${pct(h.unshifted_new.accuracy)}`
          : ''),
    );
  }
  lines.push('');
  for (const [name, b] of Object.entries(s.bar))
    lines.push(`${b.passed ? 'ok  ' : 'FAIL'} ${name}: ${b.detail}`);
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
  lines.push(
    '',
    `main job ${s.ok ? 'passed' : 'FAILED'} in ${s.seconds.toFixed(1)} s on ${s.machine.cores} cores ` +
      `(load average ${load(s.machine.loadBefore)} before, ${load(s.machine.loadAfter)} after); store ${s.store}`,
  );
  if (s.error) lines.push(`pipeline ${s.status}: ${s.error}`);
  return lines.join('\n');
}

export function registerQuickstart(program: Command): void {
  program
    .command('quickstart')
    .description(
      'the main job (npm start): the whole lifecycle on MNIST — train, optimize, export, gate, serve, drift, retrain, promote',
    )
    .option('--summary <file>', 'also write the summary as JSON to this file (CI reads the bar from it)')
    .option('--epochs <n>', "the seed model's epochs (default 5)", positiveInt('--epochs'))
    .option('--cache', 'reuse cached step outputs from earlier runs (default: run every step)')
    .option('--quiet', 'no progress lines on stderr')
    .action(async (opts, cmd: Command) => {
      const g = globals(cmd);
      const summary = await withInterrupt((signal) => {
        const options: QuickstartOptions = {
          ...(g.store ? { store: g.store } : {}),
          ...(opts.epochs ? { set: { epochs: opts.epochs as number } } : {}),
          ...(opts.cache ? { cache: true } : {}),
          signal,
          ...(opts.quiet ? {} : { log: (line: string) => process.stderr.write(`${line}\n`) }),
        };
        return runQuickstart(options);
      });
      if (opts.summary) writeJsonAtomic(opts.summary as string, summary);
      output(cmd, summary, () => formatQuickstart(summary));
      if (!summary.ok) process.exitCode = 1;
    });
}
