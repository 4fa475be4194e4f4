/**
 * One version: its evaluation (headline scores, confusion matrix), where it came from (run, parent
 * version) and its optimization lineage: the trained source and every optimize candidate with size,
 * accuracy and latency side by side.
 */
import { api, type EvaluationView, type LineageRow, type VersionDetailResponse } from '../api.js';
import { fill, h } from '../dom.js';
import {
  fmtBytes,
  fmtDateTime,
  fmtDeltaPts,
  fmtInt,
  fmtMetric,
  fmtMs,
  fmtPct,
  metricLabel,
  shortId,
} from '../format.js';
import { href } from '../router.js';
import {
  Kpi,
  aliasChip,
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
  table,
} from '../ui/components.js';
import { tagList } from './models.js';
import type { View, ViewContext } from './view.js';

const HEADLINE = [
  ['test_accuracy', 'Accuracy'],
  ['test_f1_macro', 'F1 macro'],
  ['test_precision_macro', 'Precision macro'],
  ['test_recall_macro', 'Recall macro'],
  ['test_log_loss', 'Log loss'],
] as const;

function confusionMatrix(e: EvaluationView): HTMLElement {
  const m = e.confusionMatrix;
  const classes = e.classes;
  if (!m || !classes) return empty('No confusion matrix', 'Regression models have none.');
  const rowTotals = m.map((r) => r.reduce((a, b) => a + b, 0));
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'confusion', testid: 'confusion-matrix' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { class: 'confusion-corner' }, 'true ↓ / predicted →'),
          classes.map((c) => h('th', null, c)),
        ),
      ),
      h(
        'tbody',
        null,
        m.map((row, i) =>
          h(
            'tr',
            null,
            h('th', null, classes[i] ?? String(i)),
            row.map((v, j) => {
              const share = rowTotals[i] ? v / rowTotals[i]! : 0;
              const diag = i === j;
              const color = diag
                ? `rgba(79, 70, 229, ${(0.08 + share * 0.82).toFixed(3)})`
                : `rgba(240, 68, 56, ${v ? (0.08 + share * 2).toFixed(3) : '0'})`;
              return h(
                'td',
                {
                  class: [diag ? 'diag' : null, diag && share > 0.6 ? 'on-dark' : null],
                  style: { background: color },
                  title: `${classes[i]} → ${classes[j]}: ${v} (${fmtPct(share)})`,
                },
                v ? String(v) : '',
              );
            }),
          ),
        ),
      ),
    ),
  );
}

function lineageTable(rows: LineageRow[], model: string): HTMLElement {
  if (rows.length === 0) return empty('No lineage', 'The version was not registered from a tracked run.');
  if (rows.length === 1) {
    return h(
      'div',
      null,
      lineageRows(rows, model),
      h(
        'p',
        { class: 'muted small' },
        'No optimize candidates of this run yet: `modelauto optimize <run>` adds them here.',
      ),
    );
  }
  return lineageRows(rows, model);
}

function lineageRows(rows: LineageRow[], model: string): HTMLElement {
  const source = rows.find((r) => r.role === 'source');
  const maxSize = Math.max(0, ...rows.map((r) => r.sizeGzipBytes ?? 0));
  const maxLat = Math.max(0, ...rows.map((r) => r.latencyB1Ms ?? 0));
  return table<LineageRow>(
    [
      {
        label: 'Model',
        cell: (r) =>
          h(
            'div',
            null,
            h(
              'div',
              { class: 'row-title' },
              link(r.name, href.run(r.runId)),
              r.current ? badge('this version', 'accent') : null,
            ),
            h(
              'div',
              { class: 'muted small' },
              r.role === 'source' ? 'trained source' : r.technique,
              ' · ',
              mono(shortId(r.runId)),
            ),
          ),
      },
      { label: 'Status', cell: (r) => statusBadge(r.status) },
      {
        label: 'Registered',
        cell: (r) =>
          r.versions.length
            ? h(
                'div',
                { class: 'chips' },
                r.versions.map((v) => link(`v${v}`, href.version(model, v), 'chip-link')),
              )
            : h('span', { class: 'muted' }, '—'),
      },
      {
        label: 'Test accuracy',
        align: 'right',
        cell: (r) =>
          h(
            'div',
            null,
            h('div', null, fmtPct(r.testScore, 2)),
            r.role === 'candidate' && source?.testScore != null && r.testScore !== null
              ? h(
                  'div',
                  { class: ['small', r.testScore >= source.testScore ? 'good' : 'bad-text'] },
                  fmtDeltaPts(r.testScore - source.testScore),
                )
              : null,
          ),
      },
      { label: 'Size (gzip)', cell: (r) => inlineBar(r.sizeGzipBytes, maxSize, fmtBytes(r.sizeGzipBytes)) },
      {
        label: 'Params',
        align: 'right',
        cell: (r) =>
          h(
            'div',
            null,
            fmtInt(r.params),
            r.sparsity ? h('div', { class: 'muted small nowrap' }, `${fmtPct(r.sparsity, 0)} zero`) : null,
          ),
      },
      { label: 'Latency b1', cell: (r) => inlineBar(r.latencyB1Ms, maxLat, fmtMs(r.latencyB1Ms), 'warn') },
      { label: 'Latency b128', align: 'right', cell: (r) => fmtMs(r.latencyB128Ms) },
    ],
    rows,
    { rowClass: (r) => (r.current ? 'row-current' : undefined), testid: 'lineage-table' },
  );
}

export function versionView(_ctx: ViewContext, name: string, version: number): View {
  const head = h('div');
  const kpis = HEADLINE.map(([, label]) => new Kpi(label));
  const evalBody = h('div');
  const lineageBody = h('div');
  const infoBody = h('div');
  const el = h(
    'div',
    { class: 'page' },
    head,
    kpiRow(...kpis),
    card(
      {
        title: 'Optimization lineage',
        subtitle: 'The trained source and its optimize candidates: accuracy, size and latency side by side',
      },
      lineageBody,
    ),
    h(
      'div',
      { class: 'grid grid-main' },
      card({ title: 'Evaluation', subtitle: 'Test split, scikit-learn semantics' }, evalBody),
      card({ title: 'Version' }, infoBody),
    ),
  );
  return {
    el,
    async refresh(signal) {
      const res: VersionDetailResponse = await api.version(name, version, signal);
      const v = res.version;
      fill(
        head,
        pageHeader([`${v.model} `, h('span', { class: 'muted' }, `v${v.version}`)], {
          crumbs: [
            { label: 'Models', href: href.models() },
            { label: v.model, href: href.model(v.model) },
          ],
          subtitle: [
            statusBadge(v.status),
            ' ',
            v.aliases.map((a) => aliasChip(a)),
            v.description ? ` ${v.description}` : '',
          ],
        }),
      );
      HEADLINE.forEach(([key], i) => {
        const value = v.metrics[key] ?? res.evaluation?.scalars[key.replace(/^test_/, '')];
        kpis[i]!.set(
          value === undefined ? '—' : fmtMetric(key, value),
          null,
          key === 'test_accuracy' ? 'accent' : 'neutral',
        );
      });
      fill(lineageBody, lineageTable(res.lineage.rows, v.model));
      const others = Object.entries(v.metrics).filter(([k]) => !HEADLINE.some(([h]) => h === k));
      fill(
        evalBody,
        res.evaluation
          ? confusionMatrix(res.evaluation)
          : empty('No evaluation artifact', 'The source run has no evaluation.json.'),
        others.length
          ? h(
              'div',
              { class: 'metric-grid' },
              others.map(([k, val]) =>
                h(
                  'div',
                  { class: 'metric-cell' },
                  h('div', { class: 'muted small' }, metricLabel(k)),
                  h('div', { class: 'metric-value' }, fmtMetric(k, val)),
                ),
              ),
            )
          : null,
      );
      fill(
        infoBody,
        keyValues([
          [
            'Source run',
            res.run
              ? h(
                  'div',
                  null,
                  link(res.run.name, href.run(res.run.id)),
                  h('div', { class: 'muted small' }, `${res.run.kind} · `, mono(shortId(res.run.id))),
                )
              : '—',
          ],
          [
            'Derived from',
            res.parent
              ? link(
                  `${res.parent.model}:${res.parent.version}`,
                  href.version(res.parent.model, res.parent.version),
                )
              : h('span', { class: 'muted' }, '—'),
          ],
          ['Registered', `${fmtDateTime(v.createdAt)} by ${v.createdBy}`],
          ['Artifacts', `${v.artifactCount} files · ${fmtBytes(v.artifactBytes)}`],
          ['Data', v.dataFingerprint ? mono(v.dataFingerprint.slice(0, 16), v.dataFingerprint) : '—'],
          ['Test rows', res.evaluation ? fmtInt(res.evaluation.n) : '—'],
          ['Tags', tagList(v.tags)],
        ]),
      );
    },
    dispose() {},
  };
}
