/** The landing page: headline numbers, every model with its live state, recent alerts and runs. */
import {
  api,
  type AlertsResponse,
  type LiveOverviewResponse,
  type ModelSummary,
  type PipelineRunSummary,
  type RunSummary,
} from '../api.js';
import { LineChart, type LineChartOptions } from '../charts/line-chart.js';
import { PALETTE } from '../charts/theme.js';
import { fill, h } from '../dom.js';
import { fmtAgo, fmtMetric, fmtPct, fmtRate, fmtSeconds, metricLabel } from '../format.js';
import { href } from '../router.js';
import {
  Kpi,
  aliasChip,
  badge,
  card,
  empty,
  kpiRow,
  link,
  pageHeader,
  statusBadge,
  table,
  type Tone,
} from '../ui/components.js';
import { alertEventList } from './alerts.js';
import type { View, ViewContext } from './view.js';

type LiveRow = LiveOverviewResponse['models'][number];

const TRAFFIC: Omit<LineChartOptions, 'series'> = {
  x: 'time',
  yFormat: fmtRate,
  yRange: { zero: true },
  height: 220,
  testid: 'chart-overview-rps',
  empty: 'No traffic yet',
};

export function modelsTable(models: ModelSummary[], live: Map<string, LiveRow>): HTMLElement {
  return table(
    [
      {
        label: 'Model',
        cell: (m) =>
          h(
            'div',
            null,
            link(m.name, href.model(m.name), 'strong'),
            m.description ? h('div', { class: 'muted small' }, m.description) : null,
          ),
      },
      { label: 'Latest', cell: (m) => (m.latestVersion !== null ? `v${m.latestVersion}` : '—') },
      { label: 'Versions', align: 'right', cell: (m) => String(m.versionCount) },
      {
        label: 'Aliases',
        cell: (m) =>
          h(
            'div',
            { class: 'chips' },
            Object.entries(m.aliases)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([a, v]) => aliasChip(a, v)),
          ),
      },
      {
        label: 'Test score',
        align: 'right',
        cell: (m) =>
          m.headline
            ? h('span', { title: m.headline.key }, fmtMetric(m.headline.key, m.headline.value))
            : '—',
      },
      {
        label: 'Live',
        cell: (m) => {
          const l = live.get(m.name);
          if (!l) return m.monitored ? badge('watched', 'accent') : h('span', { class: 'muted' }, '—');
          return h(
            'div',
            { class: 'live-cell' },
            h('span', { class: 'dot dot-live' }),
            `${fmtRate(l.latest?.requestsPerSec)} req/s`,
            h('span', { class: 'muted' }, ` · p99 ${fmtSeconds(l.latest?.p99)}`),
          );
        },
      },
      {
        label: 'Drift',
        cell: (m) => {
          const l = live.get(m.name);
          if (!l || l.driftShare === null) return h('span', { class: 'muted' }, '—');
          return h(
            'a',
            { href: href.drift(m.name) },
            badge(
              `${fmtPct(l.driftShare, 0)} drifted`,
              l.datasetDrift ? 'bad' : l.driftShare > 0 ? 'warn' : 'ok',
            ),
          );
        },
      },
    ],
    models,
    { rowHref: (m) => href.model(m.name), empty: 'No registered models yet', testid: 'models-table' },
  );
}

export function runsMiniTable(runs: RunSummary[]): HTMLElement {
  return table(
    [
      {
        label: 'Run',
        cell: (r) =>
          h(
            'div',
            null,
            link(r.name, href.run(r.id)),
            h('div', { class: 'muted small' }, `${r.kind} · ${fmtAgo(r.startTime)}`),
          ),
      },
      { label: 'Status', cell: (r) => statusBadge(r.status) },
      {
        label: 'Headline',
        align: 'right',
        cell: (r) =>
          r.headline
            ? h('span', { title: metricLabel(r.headline.key) }, fmtMetric(r.headline.key, r.headline.value))
            : '—',
      },
    ],
    runs,
    { rowHref: (r) => href.run(r.id), empty: 'No runs yet', compact: true },
  );
}

function pipelinesMiniTable(runs: PipelineRunSummary[]): HTMLElement {
  return table(
    [
      {
        label: 'Pipeline',
        cell: (r) =>
          h(
            'div',
            null,
            link(r.name, href.pipeline(r.id)),
            h('div', { class: 'muted small' }, fmtAgo(r.startTime)),
          ),
      },
      { label: 'Status', cell: (r) => statusBadge(r.status) },
      {
        label: 'Steps',
        align: 'right',
        cell: (r) =>
          `${r.stepTotal - (r.stepCounts['pending'] ?? 0) - (r.stepCounts['running'] ?? 0)}/${r.stepTotal}`,
      },
    ],
    runs,
    {
      rowHref: (r) => href.pipeline(r.id),
      empty: 'No pipeline runs yet',
      compact: true,
      testid: 'overview-pipelines',
    },
  );
}

export function overviewView(ctx: ViewContext): View {
  const kModels = new Kpi('Models');
  const kRps = new Kpi('Requests / s', 'kpi-rps-total');
  const kP99 = new Kpi('Latency p99');
  const kErr = new Kpi('Error rate');
  const kAcc = new Kpi('Live accuracy');
  const kAlerts = new Kpi('Active alerts');
  const modelsBody = h('div');
  let trafficModels: string[] = [];
  let trafficChart: LineChart | null = null;
  const trafficBody = h('div');
  const trafficCard = card({ title: 'Requests per second', subtitle: 'Every monitored model' }, trafficBody);
  trafficCard.hidden = !ctx.info.monitor;
  const alertsBody = h('div');
  const runsBody = h('div');
  const pipelinesBody = h('div');
  const pipelinesCard = card(
    { title: 'Recent pipelines', actions: link('Pipelines →', href.pipelines()) },
    pipelinesBody,
  );
  pipelinesCard.hidden = !ctx.info.pipelines;
  const el = h(
    'div',
    { class: 'page' },
    pageHeader('Overview', {
      subtitle: ctx.info.monitor
        ? 'Registered models, live traffic, drift and alerts of this server.'
        : 'Registered models and runs. This server runs without the live monitor: traffic, drift and alerts are off.',
    }),
    kpiRow(kModels, kRps, kP99, kErr, kAcc, kAlerts),
    h(
      'div',
      { class: 'grid grid-main' },
      h(
        'div',
        { class: 'stack' },
        card({ title: 'Models', actions: link('All models →', href.models()) }, modelsBody),
        trafficCard,
      ),
      h(
        'div',
        { class: 'stack' },
        card({ title: 'Recent alerts', actions: link('Alerts →', href.alerts()) }, alertsBody),
        pipelinesCard,
        card({ title: 'Recent runs', actions: link('Runs →', href.runs()) }, runsBody),
      ),
    ),
  );

  return {
    el,
    async refresh(signal) {
      const [models, live, alerts, runs, pipelines] = await Promise.all([
        api.models(signal),
        api.liveOverview(signal),
        api.alerts(6, signal),
        api.runs({ limit: 6 }, signal),
        ctx.info.pipelines ? api.pipelines({ limit: 5 }, signal) : null,
      ]);
      if (pipelines) fill(pipelinesBody, pipelinesMiniTable(pipelines.runs));
      const liveBy = new Map(live.models.map((m) => [m.model, m]));
      const versions = models.models.reduce((s, m) => s + m.versionCount, 0);
      kModels.set(String(models.models.length), `${versions} version${versions === 1 ? '' : 's'}`);
      setLiveKpis(live, alerts, { kRps, kP99, kErr, kAcc, kAlerts });
      fill(modelsBody, modelsTable(models.models, liveBy));
      fill(
        alertsBody,
        alerts.available
          ? alerts.events.length
            ? alertEventList(alerts.events.slice(0, 6))
            : empty('No alerts', 'Nothing has fired.')
          : empty('Alerts are off', 'This server runs without the live monitor.'),
      );
      fill(runsBody, runsMiniTable(runs.runs));
      if (live.available) {
        const names = live.models.map((m) => m.model).slice(0, PALETTE.length);
        if (names.join('\n') !== trafficModels.join('\n')) {
          // The series are fixed when a chart is made: a new set of models gets a new chart.
          trafficChart?.dispose();
          trafficModels = names;
          trafficChart = new LineChart({
            ...TRAFFIC,
            series: names.map((n, i) => ({ label: n, color: PALETTE[i]!, fill: names.length === 1 })),
          });
          fill(trafficBody, trafficChart.el);
        }
        const series = await Promise.all(names.map((n) => api.live(n, signal)));
        const x = [...new Set(series.flatMap((r) => r.traffic.map((p) => p.t)))].sort((a, b) => a - b);
        trafficChart?.setData(
          x,
          series.map((r) => {
            const by = new Map(r.traffic.map((p) => [p.t, p.requestsPerSec]));
            return x.map((t) => by.get(t) ?? null);
          }),
        );
      }
    },
    dispose() {
      trafficChart?.dispose();
    },
  };
}

function setLiveKpis(
  live: LiveOverviewResponse,
  alerts: AlertsResponse,
  k: { kRps: Kpi; kP99: Kpi; kErr: Kpi; kAcc: Kpi; kAlerts: Kpi },
): void {
  if (!live.available) {
    for (const kpi of [k.kRps, k.kP99, k.kErr, k.kAcc, k.kAlerts]) kpi.set('—', 'no live monitor', 'muted');
    return;
  }
  const snaps = live.models.map((m) => m.latest).filter((s) => s !== null);
  const rps = snaps.reduce((s, x) => s + x.requestsPerSec, 0);
  const p99 = snaps.length ? Math.max(...snaps.map((s) => s.p99)) : null;
  const err =
    rps > 0 ? snaps.reduce((s, x) => s + x.errorRate * x.requestsPerSec, 0) / rps : snaps.length ? 0 : null;
  k.kRps.set(
    fmtRate(rps),
    `${live.models.length} model${live.models.length === 1 ? '' : 's'} watched`,
    'accent',
  );
  k.kP99.set(fmtSeconds(p99), 'slowest model');
  k.kErr.set(fmtPct(err, 2), null, err !== null && err > 0.01 ? 'bad' : 'neutral');
  const qual = live.models.map((m) => m.quality).filter((q) => q !== null && q.n > 0);
  const labelled = qual.reduce((s, q) => s + (q?.n ?? 0), 0);
  const acc = labelled > 0 ? qual.reduce((s, q) => s + (q?.accuracy ?? 0) * (q?.n ?? 0), 0) / labelled : null;
  k.kAcc.set(fmtPct(acc), labelled > 0 ? `${labelled} labelled` : 'no feedback yet');
  const firing = alerts.status.filter((s) => s.state === 'firing').length;
  const pending = alerts.status.filter((s) => s.state === 'pending').length;
  const tone: Tone = firing > 0 ? 'bad' : pending > 0 ? 'warn' : 'ok';
  k.kAlerts.set(String(firing), `${pending} pending · ${alerts.status.length} rules`, tone);
}
