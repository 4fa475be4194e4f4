/** Tracked runs (filter by kind), and one run with its training curves, metrics, params and children. */
import { api, type MetricCurve, type RunSummary } from '../api.js';
import { LineChart } from '../charts/line-chart.js';
import { COLORS, PALETTE } from '../charts/theme.js';
import { fill, h } from '../dom.js';
import {
  fmtAgo,
  fmtBytes,
  fmtDateTime,
  fmtDuration,
  fmtMetric,
  fmtNum,
  metricLabel,
  shortId,
} from '../format.js';
import { href } from '../router.js';
import {
  card,
  empty,
  keyValues,
  link,
  mono,
  pageHeader,
  statusBadge,
  statusWithError,
  table,
  tabs,
} from '../ui/components.js';
import { tagList } from './models.js';
import type { View, ViewContext } from './view.js';

export function runsTable(runs: RunSummary[]): HTMLElement {
  return table<RunSummary>(
    [
      {
        label: 'Run',
        cell: (r) =>
          h(
            'div',
            null,
            link(r.name, href.run(r.id), 'strong'),
            h('div', { class: 'muted small' }, mono(shortId(r.id))),
          ),
      },
      { label: 'Kind', cell: (r) => r.kind },
      { label: 'Status', cell: (r) => statusBadge(r.status) },
      {
        label: 'Headline',
        align: 'right',
        cell: (r) =>
          r.headline
            ? h(
                'div',
                null,
                fmtMetric(r.headline.key, r.headline.value),
                h('div', { class: 'muted small' }, metricLabel(r.headline.key)),
              )
            : '—',
      },
      { label: 'Started', cell: (r) => h('span', { title: fmtDateTime(r.startTime) }, fmtAgo(r.startTime)) },
      {
        label: 'Duration',
        align: 'right',
        cell: (r) => fmtDuration((r.endTime ?? Date.now()) - r.startTime),
      },
      {
        label: 'Parent',
        cell: (r) =>
          r.parentRunId
            ? link(mono(shortId(r.parentRunId)), href.run(r.parentRunId))
            : h('span', { class: 'muted' }, '—'),
      },
    ],
    runs,
    { rowHref: (r) => href.run(r.id), empty: 'No runs', testid: 'runs-table' },
  );
}

export function runsView(_ctx: ViewContext, kind: string | null): View {
  const filters = h('div');
  const body = h('div');
  const el = h(
    'div',
    { class: 'page' },
    pageHeader('Runs', { subtitle: 'Training, evaluation and optimization runs, newest first.' }),
    filters,
    card({}, body),
  );
  let kinds: string[] = [];
  return {
    el,
    async refresh(signal) {
      const res = await api.runs({ ...(kind ? { kind } : {}), limit: 200 }, signal);
      // The kinds of the newest runs make the filter; a filtered page only has its own kind.
      if (!kind) kinds = res.kinds;
      else if (!kinds.length) kinds = (await api.runs({ limit: 200 }, signal)).kinds;
      fill(
        filters,
        tabs([
          { label: 'All', href: href.runs(), active: kind === null },
          ...kinds.map((k) => ({ label: k, href: href.runs(k), active: k === kind })),
        ]),
      );
      fill(body, runsTable(res.runs));
    },
    dispose() {},
  };
}

/** `loss` + `val_loss` on one chart, `accuracy` + `val_accuracy` on another, ... */
function groupCurves(curves: MetricCurve[]): { title: string; curves: MetricCurve[] }[] {
  const groups = new Map<string, MetricCurve[]>();
  for (const c of curves) {
    const base = c.key.replace(/^val_/, '');
    groups.set(base, [...(groups.get(base) ?? []), c]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === 'loss' ? -1 : b === 'loss' ? 1 : a.localeCompare(b)))
    .map(([title, list]) => ({ title, curves: list.sort((a, b) => a.key.length - b.key.length) }));
}

/** Aligns curves on the union of their steps (uPlot wants one x array). */
function aligned(curves: MetricCurve[]): { x: number[]; ys: (number | null)[][] } {
  const steps = [...new Set(curves.flatMap((c) => c.points.map(([s]) => s)))].sort((a, b) => a - b);
  const ys = curves.map((c) => {
    const by = new Map<number, number | null>();
    for (const [s, v] of c.points) by.set(s, v);
    return steps.map((s) => by.get(s) ?? null);
  });
  return { x: steps, ys };
}

export function runView(_ctx: ViewContext, id: string): View {
  const head = h('div');
  const curvesBody = h('div', { class: 'grid grid-2' });
  const metricsBody = h('div');
  const infoBody = h('div');
  const childrenBody = h('div');
  const paramsBody = h('div');
  const charts = new Map<string, LineChart>();
  const el = h(
    'div',
    { class: 'page' },
    head,
    h(
      'div',
      { class: 'grid grid-main' },
      h(
        'div',
        { class: 'stack' },
        card({ title: 'Training curves', subtitle: 'Per-epoch metrics; validation dashed' }, curvesBody),
        card(
          { title: 'Child runs', subtitle: 'Evaluations and optimize candidates of this run' },
          childrenBody,
        ),
        card({ title: 'Params' }, paramsBody),
      ),
      h(
        'div',
        { class: 'stack' },
        card({ title: 'Run' }, infoBody),
        card({ title: 'Latest metrics' }, metricsBody),
      ),
    ),
  );
  return {
    el,
    async refresh(signal) {
      const res = await api.run(id, signal);
      const r = res.run;
      fill(
        head,
        pageHeader(r.name, {
          crumbs: [{ label: 'Runs', href: href.runs() }],
          subtitle: [statusBadge(r.status), ` ${r.kind} run `, mono(r.id)],
        }),
      );
      const groups = groupCurves(res.curves);
      if (groups.length === 0) {
        fill(curvesBody, empty('No per-epoch metrics', 'This run logged single values only.'));
        for (const c of charts.values()) c.dispose();
        charts.clear();
      } else {
        if (curvesBody.querySelector('.empty')) fill(curvesBody);
        for (const g of groups) {
          let chart = charts.get(g.title);
          if (!chart) {
            chart = new LineChart({
              x: 'step',
              series: g.curves.map((c, i) => ({
                label: c.key,
                // Training in indigo, validation in orange (dashed), the same on every chart.
                color: c.key.startsWith('val_')
                  ? COLORS.orange
                  : (PALETTE[i === 0 ? 0 : (i + 1) % PALETTE.length] ?? COLORS.accent),
                points: c.points.length <= 30,
                ...(c.key.startsWith('val_') ? { dash: [6, 4] } : {}),
              })),
              yFormat: (v) => fmtNum(v, 3),
              height: 200,
              testid: `curve-${g.title}`,
            });
            charts.set(g.title, chart);
            curvesBody.append(card({ title: metricLabel(g.title), class: 'card-inner' }, chart.el));
          }
          const { x, ys } = aligned(g.curves);
          chart.setData(x, ys);
        }
      }
      const entries = Object.entries(r.metrics).sort(([a], [b]) => a.localeCompare(b));
      fill(
        metricsBody,
        entries.length
          ? table(
              [
                { label: 'Metric', cell: ([k]) => k },
                { label: 'Value', align: 'right', cell: ([k, v]) => fmtMetric(k, v) },
              ],
              entries,
              { compact: true },
            )
          : empty('No metrics'),
      );
      fill(
        infoBody,
        keyValues([
          ['Status', statusWithError(r.status, r.error)],
          ['Kind', r.kind],
          ['Started', fmtDateTime(r.startTime)],
          ['Duration', fmtDuration((r.endTime ?? Date.now()) - r.startTime)],
          ['Parent', r.parentRunId ? link(mono(shortId(r.parentRunId)), href.run(r.parentRunId)) : '—'],
          ['Tags', tagList(r.tags)],
          [
            'Artifacts',
            `${res.artifacts.length} files · ${fmtBytes(res.artifacts.reduce((s, a) => s + a.size, 0))}`,
          ],
        ]),
      );
      fill(childrenBody, res.children.length ? runsTable(res.children) : empty('No child runs'));
      fill(
        paramsBody,
        keyValues(
          Object.entries(res.params).map(([k, v]): [string, HTMLElement] => [
            k,
            h('code', { class: 'param' }, typeof v === 'string' ? v : JSON.stringify(v)),
          ]),
        ),
      );
    },
    dispose() {
      for (const c of charts.values()) c.dispose();
    },
  };
}
