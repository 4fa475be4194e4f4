/** The model list, and one model: its versions, aliases and the history of every alias move. */
import { api, type AliasMoveView, type VersionSummary } from '../api.js';
import { fill, h } from '../dom.js';
import { fmtAgo, fmtBytes, fmtDateTime, fmtMetric, metricLabel, shortId } from '../format.js';
import { href } from '../router.js';
import {
  aliasChip,
  badge,
  card,
  empty,
  keyValues,
  link,
  mono,
  pageHeader,
  statusBadge,
  table,
} from '../ui/components.js';
import { modelsTable } from './overview.js';
import type { View, ViewContext } from './view.js';

export function modelsView(_ctx: ViewContext): View {
  const body = h('div');
  const el = h(
    'div',
    { class: 'page' },
    pageHeader('Models', { subtitle: 'Registered models, their versions and aliases.' }),
    card({}, body),
  );
  return {
    el,
    async refresh(signal) {
      const [models, live] = await Promise.all([api.models(signal), api.liveOverview(signal)]);
      fill(body, modelsTable(models.models, new Map(live.models.map((m) => [m.model, m]))));
    },
    dispose() {},
  };
}

/** The metrics a versions table shows, in this order when present. */
const VERSION_COLUMNS = [
  'test_accuracy',
  'test_f1_macro',
  'test_precision_macro',
  'test_recall_macro',
  'test_log_loss',
  'test_r2',
  'test_mae',
];

function aliasMoveText(m: AliasMoveView): HTMLElement {
  const from = m.fromVersion !== null ? `v${m.fromVersion}` : 'unset';
  const to = m.toVersion !== null ? `v${m.toVersion}` : 'deleted';
  const verb =
    m.action === 'rollback'
      ? 'rolled back'
      : m.action === 'delete'
        ? 'deleted'
        : m.fromVersion === null
          ? 'set'
          : 'moved';
  return h(
    'div',
    { class: 'timeline-title' },
    aliasChip(m.alias),
    h('span', null, verb),
    h('span', { class: 'move' }, h('span', { class: 'muted' }, from), ' → ', h('strong', null, to)),
  );
}

export function aliasTimeline(moves: AliasMoveView[]): HTMLElement {
  if (moves.length === 0) return empty('No alias moves yet');
  return h(
    'ul',
    { class: 'timeline', testid: 'alias-history' },
    moves.map((m) =>
      h(
        'li',
        { class: ['timeline-item', `timeline-${m.action}`] },
        h('span', { class: 'timeline-dot' }),
        h(
          'div',
          { class: 'timeline-body' },
          aliasMoveText(m),
          m.reason ? h('div', { class: 'timeline-text' }, `“${m.reason}”`) : null,
          h(
            'div',
            { class: 'muted small' },
            `by ${m.actor} · `,
            h('span', { title: fmtDateTime(m.time) }, fmtAgo(m.time)),
          ),
        ),
      ),
    ),
  );
}

export function modelView(_ctx: ViewContext, name: string): View {
  const head = h('div');
  const versionsBody = h('div');
  const historyBody = h('div');
  const infoBody = h('div');
  const el = h(
    'div',
    { class: 'page' },
    head,
    h(
      'div',
      { class: 'grid grid-main' },
      card(
        { title: 'Versions', subtitle: 'Newest first; click a version for its evaluation and lineage' },
        versionsBody,
      ),
      h(
        'div',
        { class: 'stack' },
        card({ title: 'Model' }, infoBody),
        card({ title: 'Alias history', subtitle: 'Every move is kept' }, historyBody),
      ),
    ),
  );
  return {
    el,
    async refresh(signal) {
      const res = await api.model(name, signal);
      const m = res.model;
      fill(
        head,
        pageHeader(m.name, {
          crumbs: [{ label: 'Models', href: href.models() }],
          subtitle: m.description ?? undefined,
          actions: [
            m.monitored ? link('Live →', href.live(m.name), 'button') : null,
            m.monitored ? link('Drift →', href.drift(m.name), 'button') : null,
          ],
        }),
      );
      const keys = VERSION_COLUMNS.filter((k) => res.versions.some((v) => v.metrics[k] !== undefined)).slice(
        0,
        4,
      );
      fill(
        versionsBody,
        table<VersionSummary>(
          [
            {
              label: 'Version',
              cell: (v) => link(`v${v.version}`, href.version(m.name, v.version), 'strong'),
            },
            { label: 'Status', cell: (v) => statusBadge(v.status) },
            {
              label: 'Aliases',
              cell: (v) =>
                h(
                  'div',
                  { class: 'chips' },
                  v.aliases.map((a) => aliasChip(a)),
                ),
            },
            ...keys.map((k) => ({
              label: metricLabel(k),
              align: 'right' as const,
              cell: (v: VersionSummary) => fmtMetric(k, v.metrics[k]),
            })),
            {
              label: 'Derived from',
              cell: (v) =>
                v.parentModel
                  ? link(
                      `${v.parentModel.name}:${v.parentModel.version}`,
                      href.version(v.parentModel.name, v.parentModel.version),
                    )
                  : h('span', { class: 'muted' }, '—'),
            },
            {
              label: 'Run',
              cell: (v) =>
                v.sourceRunId ? link(mono(shortId(v.sourceRunId)), href.run(v.sourceRunId)) : '—',
            },
            {
              label: 'Created',
              cell: (v) =>
                h('span', { title: fmtDateTime(v.createdAt) }, `${fmtAgo(v.createdAt)} by ${v.createdBy}`),
            },
          ],
          res.versions,
          {
            rowHref: (v) => href.version(m.name, v.version),
            empty: 'No versions yet',
            testid: 'versions-table',
          },
        ),
      );
      fill(
        infoBody,
        keyValues([
          ['Versions', String(m.versionCount)],
          [
            'Latest',
            m.latestVersion !== null
              ? link(`v${m.latestVersion}`, href.version(m.name, m.latestVersion))
              : '—',
          ],
          [
            'Aliases',
            Object.keys(m.aliases).length
              ? h(
                  'div',
                  { class: 'chips' },
                  Object.entries(m.aliases).map(([a, v]) => aliasChip(a, v)),
                )
              : h('span', { class: 'muted' }, 'none'),
          ],
          ['Tags', tagList(m.tags)],
          ['Created', fmtDateTime(m.createdAt)],
          ['Size (latest)', fmtBytes(res.versions[0]?.artifactBytes)],
        ]),
      );
      fill(historyBody, aliasTimeline(res.aliasHistory));
    },
    dispose() {},
  };
}

export function tagList(tags: Record<string, string>): HTMLElement {
  const entries = Object.entries(tags);
  if (!entries.length) return h('span', { class: 'muted' }, 'none');
  return h(
    'div',
    { class: 'chips' },
    entries.map(([k, v]) => badge(`${k}=${v}`, 'neutral')),
  );
}
