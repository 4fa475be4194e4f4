import type { Command } from 'commander';
import {
  EXECUTORS,
  followPipeline,
  getPipelineStatus,
  listPipelineRuns,
  PIPELINE_RUN_STATUSES,
  resumePipeline,
  runPipeline,
  validatePipeline,
  watchPipeline,
  type FollowEvent,
  type PipelineEvent,
  type PipelineExecutionOptions,
  type PipelineRunRecord,
  type PipelineRunResult,
  type PipelineStatus,
  type PipelineStepRecord,
} from '../../pipeline/flow/index.js';
import { closeDeployments } from '../../pipeline/automation/index.js';
import type { JsonValue } from '../../store/types.js';
import { formatDuration } from '../../train/progress.js';
import { globals, oneOf, output, positiveInt } from '../context.js';
import { withInterrupt } from '../interrupt.js';
import { fmt, formatTable } from '../table.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const err = (line: string): void => void process.stderr.write(`${line}\n`);

/** Step events as lines on stderr: `[train] finished (1.9s)`, the steps' own log lines, child output. */
function progressPrinter(quiet: boolean): Pick<PipelineExecutionOptions, 'onEvent' | 'onTaskLog'> {
  if (quiet) return {};
  const onEvent = (e: PipelineEvent): void => {
    if (e.type === 'log') err(e.stepId ? `[${e.stepId}] ${e.line}` : e.line);
    if (e.type !== 'step') return;
    const time = e.seconds !== null ? ` (${formatDuration(e.seconds)})` : '';
    err(`[${e.stepId}] ${e.status}${time}${e.error && e.status !== 'running' ? `: ${e.error}` : ''}`);
  };
  const onTaskLog = (taskId: string | undefined, line: string): void => {
    // Step tasks are `<run>.<step>.<attempt>`, trials `search-<key>-c<n>-r<rung>`.
    const step = taskId?.split('.')[1];
    const trial = taskId?.match(/-(c\d+-r\d+)$/)?.[1];
    err(`[${trial ? `trial ${trial}` : (step ?? 'worker')}] ${line}`);
  };
  return { onEvent, onTaskLog };
}

function executionOptions(
  opts: Record<string, unknown>,
  cmd: Command,
  signal: AbortSignal,
): PipelineExecutionOptions {
  const g = globals(cmd);
  return {
    ...(g.store ? { store: g.store } : {}),
    ...(opts['executor'] ? { executor: opts['executor'] as (typeof EXECUTORS)[number] } : {}),
    ...(opts['concurrency'] ? { concurrency: opts['concurrency'] as number } : {}),
    ...(opts['redis'] ? { redis: opts['redis'] as string } : {}),
    ...(opts['queue'] ? { queue: opts['queue'] as string } : {}),
    ...(opts['cache'] === false ? { noCache: true } : {}),
    signal,
    ...progressPrinter(Boolean(opts['quiet'])),
  };
}

function executorFlags(c: Command): Command {
  return c
    .option(
      '--executor <name>',
      `where steps run: ${EXECUTORS.join(', ')} (default local)`,
      oneOf('--executor', EXECUTORS),
    )
    .option(
      '--concurrency <n>',
      'local executor: steps and trials at once (default: cores, at most 2)',
      positiveInt('--concurrency'),
    )
    .option('--redis <url>', 'bullmq executor: redis://host:6379 (default $MODELAUTO_REDIS)')
    .option(
      '--queue <name>',
      'bullmq executor: the queue `modelauto worker --queue` serves (default modelauto)',
    )
    .option('--quiet', 'no progress lines on stderr');
}

export function registerPipeline(program: Command): void {
  const pipeline = program
    .command('pipeline')
    .description('declarative pipelines: steps with dependencies, cached outputs, gates, resume');

  executorFlags(
    pipeline
      .command('run')
      .description('run a pipeline file; unchanged steps are reused from the cache')
      .argument('<file>', 'pipeline file (YAML or JSON), e.g. examples/pipelines/iris.yaml')
      .option(
        '--set <param=value>',
        'override a parameter, e.g. --set train.epochs=3 (repeatable)',
        collect,
        [],
      )
      .option('--no-cache', 'run every step again (outputs are still cached for later runs)')
      .option('--watch', 'keep running: run again whenever a file the pipeline reads changes (Ctrl-C stops)')
      .option(
        '--watch-interval <seconds>',
        'how often --watch checks files (default 5)',
        positiveInt('--watch-interval'),
      ),
  ).action(async (file: string, opts, cmd: Command) => {
    if (opts.watch) {
      const results = await withInterrupt((signal) =>
        watchPipeline(file, {
          ...executionOptions(opts, cmd, signal),
          set: opts.set,
          ...(opts.watchInterval ? { intervalMs: opts.watchInterval * 1000 } : {}),
          onRun: (r, reason) => {
            err(`run started by: ${reason}`);
            output(cmd, runJson(r), () => formatRun(r.run));
          },
          onError: (e) => err(`error: ${e.message}\nwaiting for a change…`),
        }).finally(closeDeployments),
      );
      const last = results[results.length - 1];
      if (last && last.run.status !== 'finished' && last.run.status !== 'interrupted') process.exitCode = 1;
      return;
    }
    const result = await withInterrupt((signal) =>
      // Servers a deploy step started stop with the command (under --watch, when the watch ends).
      runPipeline(file, { ...executionOptions(opts, cmd, signal), set: opts.set }).finally(closeDeployments),
    );
    finish(cmd, result);
  });

  executorFlags(
    pipeline
      .command('resume')
      .description('continue an interrupted or failed run: finished steps are kept, the rest run again')
      .argument('<run>', 'pipeline run id or a unique prefix of at least 4 characters')
      .option('--force', 'take over a run whose process looks alive (another machine, fresh heartbeat)'),
  ).action(async (ref: string, opts, cmd: Command) => {
    const result = await withInterrupt((signal) =>
      resumePipeline(ref, {
        ...executionOptions(opts, cmd, signal),
        ...(opts.force ? { force: true } : {}),
      }).finally(closeDeployments),
    );
    finish(cmd, result);
  });

  pipeline
    .command('status')
    .description('one run: its steps (status, time, outputs, errors), lineage and latest log lines')
    .argument('<run>', 'pipeline run id or a unique prefix of at least 4 characters')
    .option('--logs <n>', 'log lines to show (default 20)', positiveInt('--logs'), 20)
    .option(
      '--follow',
      'while the run goes on (in any process), print each step change and new log line to stderr; Ctrl-C stops watching',
    )
    .option('--interval <seconds>', 'how often --follow polls (default 1)', positiveInt('--interval'))
    .action(async (ref: string, opts, cmd: Command) => {
      const store = globals(cmd).store;
      if (!opts.follow) {
        const status = await getPipelineStatus(ref, { store, logLines: opts.logs });
        output(cmd, status, () => formatStatus(status));
        return;
      }
      // Ctrl-C stops watching, not the run (it belongs to another process).
      const controller = new AbortController();
      const onSigint = (): void => {
        process.stderr.write('\ninterrupt: stopped watching; the run goes on\n');
        controller.abort();
      };
      process.once('SIGINT', onSigint);
      let status: PipelineStatus;
      try {
        status = await followPipeline(ref, {
          ...(store ? { store } : {}),
          logLines: opts.logs,
          ...(opts.interval ? { intervalMs: opts.interval * 1000 } : {}),
          signal: controller.signal,
          onEvent: (e) => process.stderr.write(`${formatFollowEvent(e)}\n`),
        });
      } finally {
        process.off('SIGINT', onSigint);
      }
      output(cmd, status, () => formatStatus(status));
    });

  pipeline
    .command('list')
    .description('pipeline runs, newest first')
    .option(
      '--status <status>',
      `only runs with this status: ${PIPELINE_RUN_STATUSES.join(', ')}`,
      oneOf('--status', PIPELINE_RUN_STATUSES),
    )
    .option('--name <name>', 'only runs of this pipeline')
    .option('--limit <n>', 'at most n runs (default 20)', positiveInt('--limit'), 20)
    .action(async (opts, cmd: Command) => {
      const runs = await listPipelineRuns({
        ...(globals(cmd).store ? { store: globals(cmd).store } : {}),
        ...(opts.status ? { status: opts.status } : {}),
        ...(opts.name ? { name: opts.name } : {}),
        limit: opts.limit,
      });
      output(cmd, runs, () => formatList(runs));
    });

  pipeline
    .command('validate')
    .description('check a pipeline file without running it: steps, dependencies, references, inputs')
    .argument('<file>', 'pipeline file')
    .option('--set <param=value>', 'override a parameter (repeatable)', collect, [])
    .action(async (file: string, opts, cmd: Command) => {
      const loaded = validatePipeline(file, { set: opts.set });
      const summary = {
        name: loaded.spec.name,
        file: loaded.file,
        params: loaded.params,
        order: loaded.order.map((id) => ({
          step: id,
          uses: loaded.spec.steps[id]!.uses,
          needs: loaded.deps.get(id) ?? [],
        })),
      };
      output(cmd, summary, () =>
        [
          `${loaded.spec.name}: ${loaded.order.length} step(s), valid`,
          formatTable(
            ['step', 'uses', 'needs'],
            summary.order.map((s) => [s.step, s.uses, s.needs.join(', ')]),
          ),
        ].join('\n'),
      );
    });
}

function finish(cmd: Command, result: PipelineRunResult): void {
  output(cmd, runJson(result), () => formatRun(result.run));
  if (result.run.status !== 'finished') process.exitCode = 1;
}

function runJson(r: PipelineRunResult): unknown {
  return { run: r.run, store: r.store };
}

function seconds(s: { startTime: number | null; endTime: number | null }): number | null {
  return s.startTime !== null && s.endTime !== null ? (s.endTime - s.startTime) / 1000 : null;
}

/** The most telling outputs of a step, in one cell. */
function summarize(s: PipelineStepRecord): string {
  if (s.status === 'failed' || s.status === 'skipped' || s.status === 'interrupted') return s.error ?? '';
  const o = s.outputs ?? {};
  const parts: string[] = [];
  const metrics = (o['metrics'] ?? {}) as Record<string, JsonValue>;
  if (typeof o['ref'] === 'string') parts.push(o['ref']);
  if (o['passed'] !== undefined)
    parts.push(o['passed'] ? 'passed' : `failed: ${((o['reasons'] as string[]) ?? []).join('; ')}`);
  if (typeof o['best_metric'] === 'number')
    parts.push(`best ${fmt(o['best_metric'])} (${String(o['trials'])} trials)`);
  const runId = o['best_run_id'] ?? o['run_id'];
  if (typeof runId === 'string') parts.push(`run ${runId.slice(0, 8)}`);
  for (const k of ['test_accuracy', 'accuracy', 'test_score', 'f1_macro']) {
    if (typeof metrics[k] === 'number') {
      parts.push(`${k} ${fmt(metrics[k] as number)}`);
      break;
    }
  }
  if (typeof o['size_bytes'] === 'number') parts.push(`${o['size_bytes']} bytes`);
  if (s.status === 'gated') return s.error ?? parts.join(', ');
  return parts.join(', ');
}

function stepTable(steps: PipelineStepRecord[]): string {
  return formatTable(
    ['step', 'uses', 'status', 'time', 'result'],
    steps.map((s) => {
      const t = seconds(s);
      const status =
        s.status === 'running' && s.progress !== null ? `running ${Math.round(s.progress * 100)}%` : s.status;
      return [s.stepId, s.uses, status, t === null ? '' : formatDuration(t), summarize(s)];
    }),
  );
}

function formatRun(run: PipelineRunRecord): string {
  const t = seconds(run);
  const lines = [
    '',
    `pipeline run ${run.id} ${run.name}: ${run.status}${t !== null ? ` in ${formatDuration(t)}` : ''}${run.attempts > 1 ? ` (attempt ${run.attempts})` : ''}`,
  ];
  if (run.error) lines.push(`reason: ${run.error}`);
  lines.push('', stepTable(run.steps));
  if (run.status === 'interrupted' || run.status === 'failed') {
    lines.push('', `next: modelauto pipeline resume ${run.id.slice(0, 8)}`);
  }
  return lines.join('\n');
}

function formatFollowEvent(e: FollowEvent): string {
  const at = (t: number): string => new Date(t).toISOString().slice(11, 19);
  if (e.kind === 'log') return `${at(e.line.time)} [${e.line.stepId}] ${e.line.line}`;
  if (e.kind === 'run') {
    return `${at(Date.now())} pipeline ${e.run.name} ${e.run.id.slice(0, 8)}: ${e.run.status}${e.run.error ? ` (${e.run.error})` : ''}`;
  }
  const s = e.step;
  const progress =
    s.status === 'running' && s.progress !== null
      ? ` ${Math.round(s.progress * 100)}%${s.message ? ` ${s.message}` : ''}`
      : '';
  return `${at(Date.now())} step ${s.stepId} (${s.uses}): ${s.status}${progress}${s.error ? ` — ${s.error}` : ''}`;
}

function formatStatus(s: PipelineStatus): string {
  const { run } = s;
  const lines = [formatRun(run).trimStart()];
  lines.splice(1, 0, `file: ${run.file ?? '(object)'}; executor: ${run.executor}; code: ${run.codeVersion}`);
  if (run.status === 'running') {
    const beat =
      run.heartbeatAt !== null ? `${Math.round((Date.now() - run.heartbeatAt) / 1000)}s ago` : 'never';
    lines.splice(2, 0, `owner: ${run.owner ?? '?'} (heartbeat ${beat})`);
  }
  if (s.lineage.length > 0) {
    lines.push(
      '',
      'lineage',
      formatTable(
        ['step', 'kind', 'ref'],
        s.lineage.map((l) => [l.stepId, l.kind, l.ref]),
      ),
    );
  }
  if (s.logs.length > 0) {
    lines.push('', 'latest log lines');
    for (const l of s.logs)
      lines.push(`  ${new Date(l.time).toISOString().slice(11, 19)} [${l.stepId}] ${l.line}`);
  }
  return lines.join('\n');
}

function formatList(runs: PipelineRunRecord[]): string {
  if (runs.length === 0) return 'no pipeline runs';
  return formatTable(
    ['id', 'name', 'status', 'started', 'time', 'steps'],
    runs.map((r) => {
      const t = seconds(r);
      const counts = new Map<string, number>();
      for (const s of r.steps) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
      return [
        r.id.slice(0, 8),
        r.name,
        r.status,
        new Date(r.startTime).toISOString().replace('T', ' ').slice(0, 19),
        t === null ? '' : formatDuration(t),
        [...counts].map(([k, n]) => `${n} ${k}`).join(', '),
      ];
    }),
  );
}
