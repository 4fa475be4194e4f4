/**
 * Automated pipelines: every run with how far its steps got, the distributed executor's queue (jobs,
 * their progress, attempts, stalls and workers), and one run with its steps, search trials, the
 * tracked runs and model versions it produced, and its log as it grows.
 */
import {
  api,
  type PipelineDetailResponse,
  type PipelineLogLine,
  type PipelineRunSummary,
  type PipelineStepView,
  type PipelineTrialView,
  type QueueJobView,
  type QueueResponse,
} from '../api.js';
import { fill, h, type Child } from '../dom.js';
import { fmtAgo, fmtDateTime, fmtDuration, fmtInt, fmtMetric, fmtNum, shortId } from '../format.js';
import { href } from '../router.js';
import {
  Kpi,
  badge,
  card,
  empty,
  inlineBar,
  keyValues,
  kpiRow,
  link,
  mono,
  pageHeader,
  statusBadge,
  statusWithError,
  table,
  tabs,
  type Tone,
} from '../ui/components.js';
import { runsTable } from './runs.js';
import type { View, ViewContext } from './view.js';

const RUN_STATUSES = ['running', 'finished', 'failed', 'gated', 'interrupted'];
/** Log lines kept on the page while it tails a run. */
const MAX_LOG_LINES = 1000;

function progressTone(status: string): Tone {
  if (status === 'failed') return 'bad';
  if (status === 'gated' || status === 'interrupted') return 'warn';
  if (status === 'finished' || status === 'completed' || status === 'cached') return 'ok';
  return 'accent';
}

function ago(t: number | null): Child {
  return t === null ? '—' : h('span', { title: fmtDateTime(t) }, fmtAgo(t));
}

function runProgress(r: PipelineRunSummary): HTMLElement {
  const done = r.stepTotal - (r.stepCounts['pending'] ?? 0) - (r.stepCounts['running'] ?? 0);
  return inlineBar(r.progress, 1, `${done}/${r.stepTotal} steps`, progressTone(r.status));
}

function pipelineRunsTable(runs: PipelineRunSummary[]): HTMLElement {
  return table<PipelineRunSummary>(
    [
      {
        label: 'Pipeline',
        cell: (r) =>
          h(
            'div',
            null,
            link(r.name, href.pipeline(r.id), 'strong'),
            h('div', { class: 'muted small' }, mono(shortId(r.id))),
            r.trigger ? h('div', { class: 'muted small', testid: 'pipeline-trigger' }, r.trigger) : null,
          ),
      },
      {
        label: 'Status',
        cell: (r) => statusWithError(r.status, r.error),
      },
      { label: 'Progress', cell: runProgress, width: '220px' },
      {
        label: 'Running now',
        cell: (r) => (r.running.length ? r.running.join(', ') : h('span', { class: 'muted' }, '—')),
      },
      { label: 'Executor', cell: (r) => r.executor },
      { label: 'Attempts', align: 'right', cell: (r) => fmtInt(r.attempts) },
      { label: 'Started', cell: (r) => ago(r.startTime) },
      { label: 'Duration', align: 'right', cell: (r) => fmtDuration(r.durationMs) },
    ],
    runs,
    { rowHref: (r) => href.pipeline(r.id), empty: 'No pipeline runs', testid: 'pipeline-runs' },
  );
}

function jobProgress(j: QueueJobView): HTMLElement {
  const fraction = j.progress?.fraction ?? (j.state === 'completed' ? 1 : 0);
  const tone: Tone = j.state === 'failed' ? 'bad' : j.state === 'completed' ? 'ok' : 'accent';
  return h(
    'div',
    null,
    inlineBar(fraction, 1, `${Math.round(fraction * 100)}%`, tone),
    j.progress?.message ? h('div', { class: 'muted small' }, j.progress.message) : null,
  );
}

function queueCard(res: QueueResponse): HTMLElement {
  if (!res.available) {
    return card(
      { title: 'Job queue', testid: 'queue' },
      empty(
        'No queue watched',
        'Start the dashboard with `modelauto dashboard --redis redis://...` to see the BullMQ jobs and workers.',
      ),
    );
  }
  if (!res.status) {
    return card(
      { title: 'Job queue', testid: 'queue' },
      empty('The queue cannot be read', res.error ?? 'Redis did not answer.'),
    );
  }
  const q = res.status;
  const counts = (['active', 'waiting', 'delayed', 'failed', 'completed'] as const).map((s) =>
    badge(`${s} ${q.counts[s]}`, q.counts[s] ? progressTone(s === 'completed' ? 'finished' : s) : 'muted'),
  );
  return card(
    {
      title: 'Job queue',
      subtitle: [`${q.queue} on ${q.redis} · workers: `, q.workers.length ? q.workers.join(', ') : 'none'],
      testid: 'queue',
    },
    h('div', { class: 'badge-row' }, counts),
    table<QueueJobView>(
      [
        {
          label: 'Task',
          cell: (j) => h('div', null, mono(j.taskId), h('div', { class: 'muted small' }, j.kind)),
        },
        { label: 'State', cell: (j) => statusBadge(j.state) },
        { label: 'Progress', cell: jobProgress, width: '200px' },
        {
          label: 'Attempts',
          align: 'right',
          title: 'started / allowed (stalls: times a worker was lost)',
          cell: (j) => `${j.attemptsStarted}/${j.attempts}${j.stalls ? ` · ${j.stalls} stalled` : ''}`,
        },
        { label: 'Worker', cell: (j) => j.worker ?? h('span', { class: 'muted' }, '—') },
        { label: 'Queued', cell: (j) => ago(j.createdAt) },
        {
          label: 'Took',
          align: 'right',
          cell: (j) => (j.startedAt !== null ? fmtDuration((j.finishedAt ?? Date.now()) - j.startedAt) : '—'),
        },
        {
          label: 'Failure',
          cell: (j) => (j.failedReason ? h('span', { class: 'error-text' }, j.failedReason) : ''),
        },
      ],
      q.jobs,
      { empty: 'The queue is empty', testid: 'queue-jobs', compact: true },
    ),
  );
}

export function pipelinesView(ctx: ViewContext, status: string | null): View {
  const kRunning = new Kpi('Running', 'kpi-pipelines-running');
  const kFinished = new Kpi('Finished');
  const kFailed = new Kpi('Failed or gated');
  const kJobs = new Kpi('Queue');
  const filters = h('div');
  const runsBody = h('div');
  const queueBody = h('div');
  const el = h(
    'div',
    { class: 'page' },
    pageHeader('Pipelines', {
      subtitle:
        'Automated runs (train, optimize, gate, deploy, retrain) with their steps’ progress, and the job queue.',
    }),
    kpiRow(kRunning, kFinished, kFailed, kJobs),
    filters,
    card({}, runsBody),
    queueBody,
  );
  return {
    el,
    async refresh(signal) {
      const [res, all, queue] = await Promise.all([
        api.pipelines({ ...(status ? { status } : {}), limit: 100 }, signal),
        status ? api.pipelines({ limit: 100 }, signal) : null,
        ctx.info.queue ? api.queue(signal) : Promise.resolve<QueueResponse | null>(null),
      ]);
      const every = all ?? res;
      const count = (s: string) => every.runs.filter((r) => r.status === s).length;
      kRunning.set(String(count('running')), null, count('running') ? 'accent' : 'neutral');
      kFinished.set(String(count('finished')), `of the newest ${every.runs.length}`);
      const bad = count('failed') + count('gated');
      kFailed.set(String(bad), null, count('failed') ? 'bad' : bad ? 'warn' : 'ok');
      if (queue?.status) {
        const c = queue.status.counts;
        kJobs.set(
          `${c.active} active`,
          `${c.waiting + c.prioritized + c.delayed} waiting · ${queue.status.workers.length} workers`,
          c.failed ? 'warn' : 'neutral',
        );
      } else kJobs.set('—', queue?.error ? 'unreachable' : 'not watched', queue?.error ? 'bad' : 'muted');
      fill(
        filters,
        tabs([
          { label: 'All', href: href.pipelines(), active: status === null },
          ...RUN_STATUSES.map((s) => ({ label: s, href: href.pipelines(s), active: s === status })),
        ]),
      );
      fill(
        runsBody,
        res.available
          ? pipelineRunsTable(res.runs)
          : empty('No pipeline store', 'This server does not read pipeline runs.'),
      );
      fill(queueBody, queue ? queueCard(queue) : null);
    },
    dispose() {},
  };
}

/** A step's outputs in a few words: numbers, and links to the runs and versions it names. */
function outputSummary(s: PipelineStepView): Child {
  if (!s.outputs) return h('span', { class: 'muted' }, '—');
  const parts: Child[] = [];
  const o = s.outputs;
  if (typeof o['model'] === 'string' && typeof o['version'] === 'number') {
    parts.push(link(`${o['model']} v${o['version']}`, href.version(o['model'], o['version'])));
  }
  for (const [k, v] of Object.entries(o)) {
    if (parts.length >= 5) break;
    if (typeof v === 'string' && /run_id$/.test(k) && /^[0-9a-f]{32}$/.test(v)) {
      parts.push(h('span', null, `${k} `, link(mono(shortId(v)), href.run(v))));
    } else if (typeof v === 'number' && k !== 'version') {
      parts.push(h('span', null, `${k} ${fmtMetric(k, v)}`));
    } else if (typeof v === 'boolean') {
      parts.push(h('span', null, `${k} ${v ? 'yes' : 'no'}`));
    }
  }
  return h(
    'div',
    { class: 'output-summary', title: JSON.stringify(o, null, 2).slice(0, 4000) },
    parts.length ? parts.map((p, i) => [i ? ' · ' : null, p]) : h('span', { class: 'muted' }, 'outputs'),
  );
}

function stepsTable(steps: PipelineStepView[]): HTMLElement {
  return table<PipelineStepView>(
    [
      {
        label: 'Step',
        cell: (s) =>
          h(
            'div',
            null,
            h('strong', null, s.stepId),
            h(
              'div',
              { class: 'muted small' },
              s.uses,
              s.needs.length ? ` · after ${s.needs.join(', ')}` : '',
            ),
          ),
      },
      {
        label: 'Status',
        cell: (s) =>
          h(
            'div',
            null,
            statusBadge(s.status),
            s.cached && s.status !== 'cached' ? [' ', badge('cached', 'muted')] : null,
            s.error ? h('div', { class: 'error-text' }, s.error) : null,
          ),
      },
      {
        label: 'Progress',
        width: '220px',
        cell: (s) =>
          h(
            'div',
            null,
            s.progress !== null
              ? inlineBar(s.progress, 1, `${Math.round(s.progress * 100)}%`, progressTone(s.status))
              : h('span', { class: 'muted' }, '—'),
            s.message && s.status === 'running' ? h('div', { class: 'muted small' }, s.message) : null,
          ),
      },
      {
        label: 'Attempt',
        align: 'right',
        cell: (s) => (s.attempt ? fmtInt(s.attempt) : '—'),
      },
      { label: 'Duration', align: 'right', cell: (s) => fmtDuration(s.durationMs) },
      { label: 'Outputs', cell: outputSummary },
    ],
    steps,
    { testid: 'pipeline-steps', rowClass: (s) => `step-${s.status}` },
  );
}

function trialsTable(trials: PipelineTrialView[]): HTMLElement {
  const keys = [...new Set(trials.flatMap((t) => Object.keys(t.params)))].sort();
  const best = trials
    .filter((t) => t.metric !== null)
    .reduce<number | null>((m, t) => (m === null ? t.metric : Math.min(m, t.metric as number)), null);
  return table<PipelineTrialView>(
    [
      { label: 'Trial', cell: (t) => mono(t.trialId.replace(/^search-[0-9a-f]+-/, '')) },
      { label: 'Rung', align: 'right', cell: (t) => fmtInt(t.rung) },
      ...keys.map((k) => ({
        label: k,
        cell: (t: PipelineTrialView) => {
          const v = t.params[k];
          return v === undefined ? '—' : typeof v === 'number' ? fmtNum(v, 4) : JSON.stringify(v);
        },
      })),
      { label: 'Status', cell: (t) => statusBadge(t.status) },
      {
        label: 'Metric',
        align: 'right',
        title: 'the search objective (lowest marked when minimising val_loss)',
        cell: (t) =>
          h(
            'span',
            { class: t.metric !== null && t.metric === best ? 'strong' : undefined },
            fmtNum(t.metric, 4),
          ),
      },
      { label: 'Run', cell: (t) => (t.runId ? link(mono(shortId(t.runId)), href.run(t.runId)) : '—') },
    ],
    trials,
    { testid: 'pipeline-trials', compact: true },
  );
}

function lineageList(lineage: PipelineDetailResponse['lineage']): HTMLElement {
  return h(
    'ul',
    { class: 'plain-list', testid: 'pipeline-lineage' },
    lineage.map((l) => {
      let target: Child = mono(l.ref);
      if (l.kind === 'run') target = link(mono(shortId(l.ref)), href.run(l.ref));
      const mv = l.kind === 'model_version' ? /^(.*):(\d+)$/.exec(l.ref) : null;
      if (mv) target = link(`${mv[1]} v${mv[2]}`, href.version(mv[1] as string, Number(mv[2])));
      return h('li', null, h('span', { class: 'muted' }, `${l.stepId} → `), target);
    }),
  );
}

function logLine(l: PipelineLogLine): HTMLElement {
  return h(
    'div',
    { class: 'log-line' },
    h('span', { class: 'log-step' }, l.stepId),
    h('span', { class: 'log-text' }, l.line),
  );
}

export function pipelineView(_ctx: ViewContext, id: string): View {
  const head = h('div');
  const kProgress = new Kpi('Progress', 'kpi-pipeline-progress');
  const kDuration = new Kpi('Duration');
  const kRunning = new Kpi('Running now');
  const kAttempts = new Kpi('Attempts');
  const stepsBody = h('div');
  const trialsBody = h('div');
  const runsBody = h('div');
  const infoBody = h('div');
  const lineageBody = h('div');
  const logBox = h('div', { class: 'log', testid: 'pipeline-log' });
  const el = h(
    'div',
    { class: 'page' },
    head,
    kpiRow(kProgress, kDuration, kRunning, kAttempts),
    h(
      'div',
      { class: 'grid grid-main' },
      h(
        'div',
        { class: 'stack' },
        card(
          { title: 'Steps', subtitle: 'In the order they run; progress as each step reports it' },
          stepsBody,
        ),
        trialsBody,
        card({ title: 'Log', subtitle: 'Newest lines, as the steps write them' }, logBox),
        card({ title: 'Tracked runs', subtitle: 'Runs the steps opened, newest first' }, runsBody),
      ),
      h(
        'div',
        { class: 'stack' },
        card({ title: 'Pipeline run' }, infoBody),
        card({ title: 'Produced', subtitle: 'Runs and model versions, by step' }, lineageBody),
      ),
    ),
  );
  let lastSeq: number | null = null;
  let runId: string | null = null;

  const appendLog = (lines: PipelineLogLine[]): void => {
    if (!lines.length) return;
    const stick = logBox.scrollTop + logBox.clientHeight >= logBox.scrollHeight - 4;
    if (logBox.querySelector('.empty')) fill(logBox);
    logBox.append(...lines.map(logLine));
    while (logBox.childElementCount > MAX_LOG_LINES) logBox.firstElementChild?.remove();
    if (stick) logBox.scrollTop = logBox.scrollHeight;
  };

  return {
    el,
    async refresh(signal) {
      // The first load brings the newest lines; later ones only what came after them.
      const res = await api.pipeline(id, signal);
      const r = res.run;
      if (runId === null) {
        runId = r.id;
        if (res.logs.length) appendLog(res.logs);
        else fill(logBox, empty('No log lines yet'));
        lastSeq = res.logs.at(-1)?.seq ?? 0;
      } else {
        const more = await api.pipelineLogs(runId, lastSeq ?? 0, signal);
        appendLog(more.lines);
        lastSeq = more.lastSeq;
      }
      fill(
        head,
        pageHeader(r.name, {
          crumbs: [{ label: 'Pipelines', href: href.pipelines() }],
          subtitle: [
            statusBadge(r.status),
            ' pipeline run ',
            mono(r.id),
            res.file ? ` · ${res.file}` : '',
            r.trigger ? h('div', { class: 'muted' }, `Started by an alert: ${r.trigger}`) : null,
          ],
        }),
      );
      const done = r.stepTotal - (r.stepCounts['pending'] ?? 0) - (r.stepCounts['running'] ?? 0);
      kProgress.set(
        `${Math.round(r.progress * 100)}%`,
        `${done} of ${r.stepTotal} steps`,
        progressTone(r.status),
      );
      kDuration.set(fmtDuration(r.durationMs), r.endTime === null ? 'so far' : `ended ${fmtAgo(r.endTime)}`);
      kRunning.set(
        r.running.length ? r.running.join(', ') : '—',
        null,
        r.running.length ? 'accent' : 'muted',
      );
      kAttempts.set(String(r.attempts), r.attempts > 1 ? 'resumed' : null);
      fill(stepsBody, stepsTable(res.steps));
      trialsBody.hidden = res.trials.length === 0;
      fill(
        trialsBody,
        res.trials.length
          ? card(
              {
                title: 'Search trials',
                subtitle: `${res.trials.length} recorded, each once`,
                testid: 'trials',
              },
              trialsTable(res.trials),
            )
          : null,
      );
      fill(runsBody, res.runs.length ? runsTable(res.runs) : empty('No tracked runs yet'));
      fill(
        infoBody,
        keyValues([
          ['Status', statusWithError(r.status, r.error)],
          ['Executor', r.executor],
          ['Started', fmtDateTime(r.startTime)],
          ['Ended', r.endTime !== null ? fmtDateTime(r.endTime) : '—'],
          ['Heartbeat', r.endTime === null ? ago(r.heartbeatAt) : '—'],
          [
            'Params',
            Object.keys(res.params).length
              ? h(
                  'div',
                  null,
                  Object.entries(res.params).map(([k, v]) =>
                    h('div', null, h('code', { class: 'param' }, `${k}: ${JSON.stringify(v)}`)),
                  ),
                )
              : '—',
          ],
        ]),
      );
      fill(lineageBody, res.lineage.length ? lineageList(res.lineage) : empty('Nothing yet'));
    },
    dispose() {},
  };
}
