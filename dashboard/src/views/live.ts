/** Live traffic of one monitored model: requests/s, latency p50/p99, error rate, and live accuracy/F1. */
import { api, type LiveOverviewResponse } from '../api.js';
import { LineChart } from '../charts/line-chart.js';
import { COLORS } from '../charts/theme.js';
import { fill, h } from '../dom.js';
import { fmtPct, fmtRate, fmtSeconds, fmtTime } from '../format.js';
import { href } from '../router.js';
import { Kpi, card, empty, kpiRow, pageHeader, tabs } from '../ui/components.js';
import type { View, ViewContext } from './view.js';

/** Tabs of the monitored models; null (and a redirect) when the route names none. */
export function modelTabs(
  live: LiveOverviewResponse,
  current: string | null,
  link: (model: string) => string,
): HTMLElement | null {
  const names = live.models.map((m) => m.model);
  if (names.length === 0) return null;
  return tabs(
    names.map((n) => {
      const m = live.models.find((x) => x.model === n);
      return {
        label: n,
        href: link(n),
        active: n === current,
        badge: m?.datasetDrift ? h('span', { class: 'tab-dot tab-dot-bad', title: 'dataset drift' }) : null,
      };
    }),
  );
}

export function noMonitor(): HTMLElement {
  return empty(
    'No live monitor on this server',
    'Registry and run pages work; start the server with monitoring (`modelauto serve`) for live traffic, drift and alerts.',
    'no-monitor',
  );
}

export function liveView(_ctx: ViewContext, model: string | null): View {
  const tabsHost = h('div');
  const kRps = new Kpi('Requests / s', 'kpi-rps');
  const kP50 = new Kpi('Latency p50', 'kpi-p50');
  const kP99 = new Kpi('Latency p99', 'kpi-p99');
  const kErr = new Kpi('Error rate', 'kpi-errors');
  const kAcc = new Kpi('Live accuracy', 'kpi-accuracy');
  const kF1 = new Kpi('Live F1 macro');
  const pct = (v: number) => fmtPct(v, v < 0.1 ? 1 : 0);
  const rps = new LineChart({
    x: 'time',
    series: [{ label: 'requests/s', color: COLORS.accent, fill: true }],
    yFormat: fmtRate,
    yRange: { zero: true },
    testid: 'chart-rps',
    empty: 'No traffic yet',
  });
  const latency = new LineChart({
    x: 'time',
    series: [
      { label: 'p50', color: COLORS.accent },
      { label: 'p99', color: COLORS.orange },
    ],
    yFormat: (v) => fmtSeconds(v),
    yRange: { zero: true },
    testid: 'chart-latency',
    empty: 'No traffic yet',
  });
  const errors = new LineChart({
    x: 'time',
    series: [{ label: 'error rate', color: COLORS.red, fill: true }],
    yFormat: pct,
    yRange: { min: 0, span: 0.05 },
    testid: 'chart-errors',
    empty: 'No traffic yet',
  });
  const quality = new LineChart({
    x: 'time',
    series: [
      { label: 'accuracy', color: COLORS.green, points: true },
      { label: 'F1 macro', color: COLORS.violet, points: true },
    ],
    yFormat: pct,
    yRange: { min: 0, max: 1 },
    testid: 'chart-quality',
    empty: 'No labelled predictions yet: send feedback to POST /v1/models/{model}/feedback',
  });
  const body = h(
    'div',
    { class: 'stack' },
    kpiRow(kRps, kP50, kP99, kErr, kAcc, kF1),
    h(
      'div',
      { class: 'grid grid-2' },
      card({ title: 'Requests per second' }, rps.el),
      card({ title: 'Latency', subtitle: 'p50 and p99 of request duration' }, latency.el),
      card({ title: 'Error rate', subtitle: 'Share of requests answered with an error' }, errors.el),
      card(
        { title: 'Live accuracy and F1', subtitle: 'Over labelled predictions in the sliding window' },
        quality.el,
      ),
    ),
  );
  const content = h('div');
  const el = h(
    'div',
    { class: 'page' },
    pageHeader('Live traffic', { subtitle: model ? `Model ${model}` : 'Monitored models' }),
    tabsHost,
    content,
  );

  return {
    el,
    async refresh(signal) {
      const overview = await api.liveOverview(signal);
      if (!overview.available) {
        fill(content, noMonitor());
        return;
      }
      const name = model ?? overview.models[0]?.model ?? null;
      if (!model && name) {
        location.replace(href.live(name));
        return;
      }
      fill(tabsHost, modelTabs(overview, name, href.live));
      if (!name) {
        fill(
          content,
          empty('No monitored models', 'The monitor watches models once the server serves them.'),
        );
        return;
      }
      if (content.firstChild !== body) fill(content, body);
      const res = await api.live(name, signal);
      const t = res.traffic;
      const last = t.at(-1);
      kRps.set(fmtRate(last?.requestsPerSec), last ? `at ${fmtTime(last.t)}` : 'no traffic yet', 'accent');
      kP50.set(fmtSeconds(last?.p50));
      kP99.set(fmtSeconds(last?.p99));
      kErr.set(fmtPct(last?.errorRate, 2), null, last && last.errorRate > 0.01 ? 'bad' : 'neutral');
      const q = res.quality.at(-1);
      kAcc.set(fmtPct(q?.accuracy), q ? `${q.n} labelled` : 'no feedback yet', 'ok');
      kF1.set(
        fmtPct(q?.f1Macro),
        q ? `precision ${fmtPct(q.precisionMacro)} · recall ${fmtPct(q.recallMacro)}` : null,
      );
      const x = t.map((p) => p.t);
      rps.setData(x, [t.map((p) => p.requestsPerSec)]);
      latency.setData(x, [t.map((p) => p.p50), t.map((p) => p.p99)]);
      errors.setData(x, [t.map((p) => p.errorRate)]);
      quality.setData(
        res.quality.map((p) => p.t),
        [res.quality.map((p) => p.accuracy), res.quality.map((p) => p.f1Macro)],
      );
    },
    dispose() {
      for (const c of [rps, latency, errors, quality]) c.dispose();
    },
  };
}
