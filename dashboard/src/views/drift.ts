/**
 * Drift of one monitored model: the dataset verdict and drift share over time, the features ranked by
 * how far past their threshold they are, the reference vs current histogram of the selected feature,
 * a feature map for square image inputs (MNIST's 28x28 pixels) and the prediction distribution.
 */
import { api, type DriftFeatureRow, type DriftSummary } from '../api.js';
import { FeatureMap, gridLayout } from '../charts/feature-map.js';
import { HistogramChart, histogramData } from '../charts/histogram-chart.js';
import { LineChart } from '../charts/line-chart.js';
import { COLORS } from '../charts/theme.js';
import { fill, h } from '../dom.js';
import { fmtAgo, fmtInt, fmtNum, fmtPct, fmtTime } from '../format.js';
import { href } from '../router.js';
import { Kpi, badge, card, empty, inlineBar, kpiRow, pageHeader, table } from '../ui/components.js';
import { modelTabs, noMonitor } from './live.js';
import type { View, ViewContext } from './view.js';

const TOP = 50;

const METHOD_NAMES: Record<string, string> = {
  ks: 'KS test',
  wasserstein: 'Wasserstein',
  psi: 'PSI',
  chisquare: 'Chi-square',
  jensenshannon: 'Jensen-Shannon',
  ztest: 'Z-test',
};

function skippedNames(r: DriftSummary): string[] {
  return r.skipped.map((s) => s.feature);
}

function scoreText(r: DriftFeatureRow): string {
  return r.pValue !== null ? `p = ${fmtNum(r.pValue, 4)}` : fmtNum(r.score, 4);
}

export function driftView(_ctx: ViewContext, model: string | null): View {
  const tabsHost = h('div');
  const kShare = new Kpi('Drift share', 'kpi-drift-share');
  const kDataset = new Kpi('Dataset drift');
  const kDrifted = new Kpi('Drifted features');
  const kPred = new Kpi('Prediction drift');
  const kRows = new Kpi('Window');
  const history = new LineChart({
    x: 'time',
    series: [{ label: 'drift share', color: COLORS.red, fill: true, points: true }],
    yFormat: (v) => fmtPct(v, 0),
    yRange: { min: 0, max: 1 },
    height: 180,
    testid: 'chart-drift-share',
    empty: 'No drift windows yet',
  });
  const histogram = new HistogramChart({ testid: 'drift-histogram' });
  const prediction = new HistogramChart({ height: 180, testid: 'prediction-histogram' });
  let selected: string | null = null;
  let report: DriftSummary | null = null;
  let name: string | null = model;
  let lastSignal: AbortSignal | undefined;
  const featureMap = new FeatureMap((f) => select(f));
  const featureTitle = h('span');
  const featureSub = h('div', { class: 'card-sub' });
  const tableBody = h('div', { class: 'scroll-y' });
  const mapCard = card(
    {
      title: 'Drift by feature position',
      subtitle: 'Severity per input feature on its image grid; click a cell',
    },
    featureMap.el,
  );
  const body = h(
    'div',
    { class: 'stack' },
    kpiRow(kShare, kDataset, kDrifted, kPred, kRows),
    h(
      'div',
      { class: 'grid grid-2' },
      card(
        { title: 'Drift share over time', subtitle: 'Share of features that drifted, per window' },
        history.el,
      ),
      card(
        { title: 'Predicted classes', subtitle: 'Training labels vs predictions in the window' },
        prediction.el,
      ),
    ),
    h(
      'div',
      { class: 'grid grid-drift' },
      card({ title: 'Features', subtitle: `Most drifted first (top ${TOP})` }, tableBody),
      h(
        'div',
        { class: 'stack' },
        h(
          'section',
          { class: 'card' },
          h(
            'div',
            { class: 'card-head' },
            h(
              'div',
              null,
              h('h2', { class: 'card-title' }, 'Reference vs current: ', featureTitle),
              featureSub,
            ),
          ),
          h('div', { class: 'card-body' }, histogram.el),
        ),
        mapCard,
      ),
    ),
  );
  const content = h('div');
  const el = h(
    'div',
    { class: 'page' },
    pageHeader('Drift', {
      subtitle: 'Live inputs and predictions against the training profile of the served version.',
    }),
    tabsHost,
    content,
  );

  async function showFeature(signal?: AbortSignal): Promise<void> {
    if (!name || !selected) {
      histogram.setData(null);
      return;
    }
    const res = await api.driftFeature(name, selected, signal);
    const f = res.feature;
    if (!f) {
      histogram.setData(null);
      return;
    }
    featureTitle.textContent = f.feature;
    fill(
      featureSub,
      `${METHOD_NAMES[f.method] ?? f.method}: ${f.pValue !== null ? `p = ${fmtNum(f.pValue, 4)} (alpha ${f.threshold})` : `${fmtNum(f.score, 4)} (threshold ${f.threshold})`}`,
      f.psi !== null ? ` · PSI ${fmtNum(f.psi, 3)}` : '',
      ' ',
      f.drifted ? badge('drifted', 'bad') : badge('stable', 'ok'),
    );
    histogram.setData(histogramData(f.reference, f.current));
  }

  function select(feature: string): void {
    selected = feature;
    if (report) {
      renderTable(report);
      featureMap.setData(report.featureNames, report.severities, skippedNames(report), selected);
    }
    void showFeature(lastSignal).catch(() => undefined);
  }

  function renderTable(r: DriftSummary): void {
    // Image inputs: where each pixel feature sits (row, column) on the grid of the feature map.
    const all = [...r.featureNames, ...skippedNames(r)];
    const layout = gridLayout(all);
    const position = new Map<string, [number, number]>();
    if (layout) {
      all.forEach((name, i) => {
        const cell = layout.cellOf[i]!;
        position.set(name, [Math.floor(cell / layout.side), cell % layout.side]);
      });
    }
    const maxSeverity = Math.max(1, ...r.features.map((f) => f.severity ?? 0));
    fill(
      tableBody,
      table<DriftFeatureRow>(
        [
          {
            label: 'Feature',
            cell: (f) => {
              const cell = position.get(f.feature);
              return h(
                'div',
                null,
                h('strong', null, f.feature),
                cell ? h('div', { class: 'muted small nowrap' }, `row ${cell[0]}, col ${cell[1]}`) : null,
              );
            },
          },
          { label: 'Method', cell: (f) => h('span', { class: 'muted' }, METHOD_NAMES[f.method] ?? f.method) },
          { label: 'Score', align: 'right', cell: (f) => scoreText(f) },
          { label: 'PSI', align: 'right', cell: (f) => fmtNum(f.psi, 3) },
          {
            label: 'Severity',
            cell: (f) =>
              inlineBar(f.severity, maxSeverity, `${fmtNum(f.severity, 2)}×`, f.drifted ? 'bad' : 'ok'),
          },
          { label: '', cell: (f) => (f.drifted ? badge('drift', 'bad') : badge('ok', 'ok')) },
        ],
        r.features,
        {
          onRowClick: (f) => select(f.feature),
          rowClass: (f) => (f.feature === selected ? 'row-selected' : undefined),
          empty: 'No features in the report',
          testid: 'drift-table',
          compact: true,
        },
      ),
    );
  }

  return {
    el,
    async refresh(signal) {
      lastSignal = signal;
      const overview = await api.liveOverview(signal);
      if (!overview.available) {
        fill(content, noMonitor());
        return;
      }
      name = model ?? overview.models[0]?.model ?? null;
      if (!model && name) {
        location.replace(href.drift(name));
        return;
      }
      fill(tabsHost, modelTabs(overview, name, href.drift));
      if (!name) {
        fill(content, empty('No monitored models'));
        return;
      }
      const res = await api.drift(name, TOP, signal);
      report = res.report;
      if (!report) {
        fill(
          content,
          empty(
            'No drift window yet',
            'Drift is computed once the window has enough live requests.',
            'no-drift',
          ),
        );
        return;
      }
      if (content.firstChild !== body) fill(content, body);
      const r = report;
      kShare.set(
        fmtPct(r.driftShare, 0),
        `of ${fmtInt(r.featureCount)} features`,
        r.datasetDrift ? 'bad' : r.driftShare > 0 ? 'warn' : 'ok',
      );
      kDataset.set(
        r.datasetDrift ? 'Drift' : 'Stable',
        `correction: ${r.correction}`,
        r.datasetDrift ? 'bad' : 'ok',
      );
      kDrifted.set(
        `${fmtInt(r.driftedCount)} / ${fmtInt(r.featureCount)}`,
        null,
        r.driftedCount ? 'warn' : 'ok',
      );
      const p = r.prediction;
      kPred.set(
        p ? (p.drifted ? 'Drift' : 'Stable') : '—',
        p
          ? `${METHOD_NAMES[p.method] ?? p.method} ${p.pValue !== null ? `p = ${fmtNum(p.pValue, 3)}` : fmtNum(p.score, 3)}`
          : 'not computed',
        p?.drifted ? 'bad' : 'neutral',
      );
      kRows.set(
        `${fmtInt(r.currentRows)} rows`,
        r.windowStart !== null && r.windowEnd !== null
          ? `${fmtTime(r.windowStart)}–${fmtTime(r.windowEnd)} · vs ${fmtInt(r.referenceRows)} reference`
          : `computed ${fmtAgo(r.computedAt)}`,
      );
      history.setData(
        res.history.map((x) => x.t),
        [res.history.map((x) => x.driftShare)],
      );
      prediction.setData(p ? histogramData(p.reference, p.current) : null);
      if (selected === null || !r.featureNames.includes(selected)) selected = r.features[0]?.feature ?? null;
      renderTable(r);
      mapCard.hidden = !featureMap.setData(r.featureNames, r.severities, skippedNames(r), selected);
      await showFeature(signal);
    },
    dispose() {
      history.dispose();
      histogram.dispose();
      prediction.dispose();
    },
  };
}
