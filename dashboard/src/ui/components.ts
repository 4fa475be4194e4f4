/** The page's building blocks: cards, KPI tiles, badges, tables, headers, empty states. */
import { fill, h, type Child } from '../dom.js';

export type Tone = 'neutral' | 'ok' | 'warn' | 'bad' | 'accent' | 'muted';

export function badge(text: string, tone: Tone = 'neutral', title?: string): HTMLElement {
  return h('span', { class: ['badge', `badge-${tone}`], ...(title ? { title } : {}) }, text);
}

const STATUS_TONES: Record<string, Tone> = {
  finished: 'ok',
  ready: 'ok',
  running: 'accent',
  pending: 'warn',
  deprecated: 'warn',
  interrupted: 'warn',
  failed: 'bad',
  firing: 'bad',
  archived: 'muted',
  inactive: 'muted',
  resolved: 'ok',
  cached: 'ok',
  gated: 'warn',
  skipped: 'muted',
  active: 'accent',
  waiting: 'warn',
  prioritized: 'warn',
  delayed: 'warn',
  completed: 'ok',
};

export function statusBadge(status: string): HTMLElement {
  return badge(status, STATUS_TONES[status] ?? 'neutral');
}

/** A status badge with the error under it, when there is one. */
export function statusWithError(status: string, error: string | null): HTMLElement {
  return h('div', null, statusBadge(status), error ? h('div', { class: 'error-text' }, error) : null);
}

export function aliasChip(alias: string, version?: number): HTMLElement {
  return h(
    'span',
    { class: 'alias-chip' },
    h('span', { class: 'alias-at' }, '@'),
    alias,
    version !== undefined ? h('span', { class: 'alias-version' }, `v${version}`) : null,
  );
}

export function link(text: Child, href: string, className?: string): HTMLAnchorElement {
  return h('a', { href, ...(className ? { class: className } : {}) }, text);
}

export function card(
  opts: { title?: Child; subtitle?: Child; actions?: Child; testid?: string; class?: string },
  ...body: Child[]
): HTMLElement {
  const head =
    opts.title || opts.actions
      ? h(
          'div',
          { class: 'card-head' },
          h(
            'div',
            null,
            h('h2', { class: 'card-title' }, opts.title),
            opts.subtitle ? h('div', { class: 'card-sub' }, opts.subtitle) : null,
          ),
          opts.actions ? h('div', { class: 'card-actions' }, opts.actions) : null,
        )
      : null;
  return h(
    'section',
    { class: ['card', opts.class], ...(opts.testid ? { testid: opts.testid } : {}) },
    head,
    h('div', { class: 'card-body' }, body),
  );
}

/** A KPI tile whose value is updated in place on every refresh. */
export class Kpi {
  readonly el: HTMLElement;
  private readonly valueEl: HTMLElement;
  private readonly subEl: HTMLElement;

  constructor(label: string, testid?: string) {
    this.valueEl = h('div', { class: 'kpi-value', ...(testid ? { testid } : {}) }, '—');
    this.subEl = h('div', { class: 'kpi-sub' });
    this.el = h('div', { class: 'kpi' }, h('div', { class: 'kpi-label' }, label), this.valueEl, this.subEl);
  }

  set(value: string, sub: Child = null, tone: Tone = 'neutral'): void {
    this.valueEl.textContent = value;
    this.el.className = `kpi kpi-${tone}`;
    fill(this.subEl, sub);
  }
}

export function kpiRow(...kpis: Kpi[]): HTMLElement {
  return h(
    'div',
    { class: 'kpi-row' },
    kpis.map((k) => k.el),
  );
}

export function empty(title: string, hint?: Child, testid?: string): HTMLElement {
  return h(
    'div',
    { class: 'empty', ...(testid ? { testid } : {}) },
    h('div', { class: 'empty-title' }, title),
    hint ? h('div', { class: 'empty-hint' }, hint) : null,
  );
}

export function pageHeader(
  title: Child,
  opts: { crumbs?: { label: string; href: string }[]; subtitle?: Child; actions?: Child } = {},
): HTMLElement {
  return h(
    'div',
    { class: 'page-head' },
    opts.crumbs?.length
      ? h(
          'nav',
          { class: 'crumbs', attrs: { 'aria-label': 'breadcrumbs' } },
          opts.crumbs.map((c) => [link(c.label, c.href), h('span', { class: 'crumb-sep' }, '/')]),
        )
      : null,
    h(
      'div',
      { class: 'page-title-row' },
      h('h1', { class: 'page-title' }, title),
      opts.actions ? h('div', { class: 'page-actions' }, opts.actions) : null,
    ),
    opts.subtitle ? h('div', { class: 'page-sub' }, opts.subtitle) : null,
  );
}

export interface Column<T> {
  label: string;
  cell: (row: T) => Child;
  align?: 'left' | 'right' | 'center';
  title?: string;
  width?: string;
}

export function table<T>(
  columns: Column<T>[],
  rows: T[],
  opts: {
    rowHref?: (row: T) => string;
    onRowClick?: (row: T) => void;
    rowClass?: (row: T) => string | undefined;
    empty?: string;
    testid?: string;
    compact?: boolean;
  } = {},
): HTMLElement {
  if (rows.length === 0 && opts.empty) return empty(opts.empty);
  const head = h(
    'tr',
    null,
    columns.map((c) =>
      h(
        'th',
        {
          class: c.align ? `align-${c.align}` : undefined,
          ...(c.title ? { title: c.title } : {}),
          ...(c.width ? { style: { width: c.width } } : {}),
        },
        c.label,
      ),
    ),
  );
  const body = rows.map((row) => {
    const clickable = opts.rowHref || opts.onRowClick;
    const tr = h(
      'tr',
      { class: [clickable ? 'clickable' : null, opts.rowClass?.(row)] },
      columns.map((c) => h('td', { class: c.align ? `align-${c.align}` : undefined }, c.cell(row))),
    );
    if (clickable) {
      tr.addEventListener('click', (e) => {
        // Links inside the row keep their own target.
        if ((e.target as Element).closest('a')) return;
        if (opts.onRowClick) opts.onRowClick(row);
        else if (opts.rowHref) location.hash = opts.rowHref(row).replace(/^#/, '');
      });
    }
    return tr;
  });
  return h(
    'div',
    { class: 'table-wrap', ...(opts.testid ? { testid: opts.testid } : {}) },
    h(
      'table',
      { class: ['table', opts.compact ? 'table-compact' : null] },
      h('thead', null, head),
      h('tbody', null, body),
    ),
  );
}

/** A horizontal bar for a value relative to the column's maximum, with the value as text. */
export function inlineBar(
  value: number | null,
  max: number,
  text: string,
  tone: Tone = 'accent',
): HTMLElement {
  const ratio = value !== null && max > 0 ? Math.max(0, Math.min(1, value / max)) : 0;
  return h(
    'div',
    { class: 'inline-bar' },
    h(
      'div',
      { class: `inline-bar-track inline-bar-${tone}` },
      h('div', { class: 'inline-bar-fill', style: { width: `${(ratio * 100).toFixed(1)}%` } }),
    ),
    h('span', { class: 'inline-bar-text' }, text),
  );
}

export function keyValues(entries: [string, Child][]): HTMLElement {
  return h(
    'dl',
    { class: 'kv' },
    entries.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
  );
}

export function tabs(items: { label: string; href: string; active: boolean; badge?: Child }[]): HTMLElement {
  return h(
    'nav',
    { class: 'tabs' },
    items.map((t) =>
      h('a', { href: t.href, class: ['tab', t.active ? 'active' : null] }, t.label, t.badge ?? null),
    ),
  );
}

export function mono(text: string, title?: string): HTMLElement {
  return h('code', { class: 'mono', ...(title ? { title } : {}) }, text);
}
