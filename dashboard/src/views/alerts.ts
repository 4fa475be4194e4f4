/** Alert rules with their state (firing first) and the recorded firing/resolved events. */
import { api, type AlertEvent, type AlertStatus } from '../api.js';
import { fill, h } from '../dom.js';
import { fmtAgo, fmtDateTime, fmtNum } from '../format.js';
import { href } from '../router.js';
import { Kpi, badge, card, empty, kpiRow, link, pageHeader, statusBadge, table } from '../ui/components.js';
import type { View, ViewContext } from './view.js';

const STATE_ORDER: Record<AlertStatus['state'], number> = { firing: 0, pending: 1, inactive: 2 };

export function alertEventList(events: AlertEvent[]): HTMLElement {
  return h(
    'ul',
    { class: 'timeline', testid: 'alert-events' },
    events.map((e) =>
      h(
        'li',
        { class: ['timeline-item', `timeline-${e.kind}`] },
        h('span', { class: 'timeline-dot' }),
        h(
          'div',
          { class: 'timeline-body' },
          h(
            'div',
            { class: 'timeline-title' },
            badge(e.kind, e.kind === 'firing' ? 'bad' : 'ok'),
            h('strong', null, e.rule),
            e.model ? link(e.model, href.live(e.model), 'muted') : null,
          ),
          h('div', { class: 'timeline-text' }, e.message),
          h(
            'div',
            { class: 'muted small' },
            `value ${fmtNum(e.value, 4)} · threshold ${fmtNum(e.threshold, 4)} · `,
            h('span', { title: fmtDateTime(e.at) }, fmtAgo(e.at)),
          ),
        ),
      ),
    ),
  );
}

export function alertsView(_ctx: ViewContext): View {
  const kFiring = new Kpi('Firing');
  const kPending = new Kpi('Pending');
  const kRules = new Kpi('Rules');
  const kEvents = new Kpi('Events shown');
  const statusBody = h('div');
  const eventsBody = h('div');
  const el = h(
    'div',
    { class: 'page' },
    pageHeader('Alerts', {
      subtitle: 'Rules on drift, live accuracy and F1, latency and error rate; firing and resolved events.',
    }),
    kpiRow(kFiring, kPending, kRules, kEvents),
    h(
      'div',
      { class: 'grid grid-2' },
      card({ title: 'Rules', subtitle: 'Current state of every rule' }, statusBody),
      card({ title: 'Events', subtitle: 'Newest first' }, eventsBody),
    ),
  );
  return {
    el,
    async refresh(signal) {
      const res = await api.alerts(100, signal);
      if (!res.available) {
        for (const k of [kFiring, kPending, kRules, kEvents]) k.set('—', 'no live monitor', 'muted');
        fill(statusBody, empty('Alerts are off', 'This server runs without the live monitor.'));
        fill(eventsBody, empty('No events'));
        return;
      }
      const firing = res.status.filter((s) => s.state === 'firing').length;
      const pending = res.status.filter((s) => s.state === 'pending').length;
      kFiring.set(String(firing), null, firing ? 'bad' : 'ok');
      kPending.set(String(pending), null, pending ? 'warn' : 'neutral');
      kRules.set(String(res.status.length));
      kEvents.set(String(res.events.length));
      const rows = [...res.status].sort(
        (a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || a.rule.localeCompare(b.rule),
      );
      fill(
        statusBody,
        table(
          [
            { label: 'Rule', cell: (s) => h('strong', null, s.rule) },
            {
              label: 'Model',
              cell: (s) =>
                s.model ? link(s.model, href.live(s.model)) : h('span', { class: 'muted' }, 'all'),
            },
            { label: 'State', cell: (s) => statusBadge(s.state) },
            { label: 'Value', align: 'right', cell: (s) => fmtNum(s.value, 4) },
            {
              label: 'Since',
              cell: (s) =>
                s.since !== null ? h('span', { title: fmtDateTime(s.since) }, fmtAgo(s.since)) : '—',
            },
          ],
          rows,
          { empty: 'No alert rules configured', testid: 'alert-status' },
        ),
      );
      fill(
        eventsBody,
        res.events.length ? alertEventList(res.events) : empty('No alerts', 'Nothing has fired.'),
      );
    },
    dispose() {},
  };
}
