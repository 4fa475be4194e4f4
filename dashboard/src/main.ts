/**
 * The dashboard's entry: the shell (top bar, navigation, refresh status), the hash router, and the
 * refresh loop that asks the current page to poll the API every few seconds (paused while the tab is
 * hidden or when the user pauses it).
 */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { ApiError, api, type InfoResponse } from './api.js';
import { fill, h, svgIcon } from './dom.js';
import { fmtTime, setServerNow } from './format.js';
import { parseRoute, section, href, type Route } from './router.js';
import { empty } from './ui/components.js';
import { alertsView } from './views/alerts.js';
import { driftView } from './views/drift.js';
import { liveView } from './views/live.js';
import { modelView, modelsView } from './views/models.js';
import { overviewView } from './views/overview.js';
import { pipelineView, pipelinesView } from './views/pipelines.js';
import { runView, runsView } from './views/runs.js';
import { versionView } from './views/version.js';
import type { View, ViewContext } from './views/view.js';

const NAV = [
  { key: 'overview', label: 'Overview', href: href.overview() },
  { key: 'models', label: 'Models', href: href.models() },
  { key: 'live', label: 'Live', href: href.live() },
  { key: 'drift', label: 'Drift', href: href.drift() },
  { key: 'alerts', label: 'Alerts', href: href.alerts() },
  { key: 'runs', label: 'Runs', href: href.runs() },
  { key: 'pipelines', label: 'Pipelines', href: href.pipelines() },
];

const ICON_PAUSE = 'M10 4H6v16h4zM18 4h-4v16h4z';
const ICON_PLAY = 'M6 4l14 8-14 8z';

function createView(route: Route, ctx: ViewContext): View {
  switch (route.page) {
    case 'overview':
      return overviewView(ctx);
    case 'models':
      return modelsView(ctx);
    case 'model':
      return modelView(ctx, route.name);
    case 'version':
      return versionView(ctx, route.name, route.version);
    case 'live':
      return liveView(ctx, route.model);
    case 'drift':
      return driftView(ctx, route.model);
    case 'alerts':
      return alertsView(ctx);
    case 'runs':
      return runsView(ctx, route.kind);
    case 'run':
      return runView(ctx, route.id);
    case 'pipelines':
      return pipelinesView(ctx, route.status);
    case 'pipeline':
      return pipelineView(ctx, route.id);
    case 'missing':
      return {
        el: h(
          'div',
          { class: 'page' },
          empty('Page not found', `Nothing at #${route.path}. Use the navigation above.`),
        ),
        refresh: async () => undefined,
        dispose: () => undefined,
      };
  }
}

class App {
  private view: View | undefined;
  private controller: AbortController | undefined;
  private timer: number | undefined;
  private paused = false;
  private readonly busy = new Set<View>();
  private readonly page = h('main', { class: 'main', attrs: { id: 'page' } });
  private readonly banner = h('div', { class: 'banner', attrs: { role: 'alert' } });
  private readonly statusText = h('span', { class: 'refresh-text', testid: 'refresh-status' }, 'Connecting…');
  private readonly statusDot = h('span', { class: 'dot' });
  private readonly pauseButton = h(
    'button',
    { class: 'icon-button', attrs: { type: 'button', title: 'Pause auto-refresh' } },
    svgIcon(ICON_PAUSE),
  );
  private readonly navLinks = NAV.map((n) => ({
    key: n.key,
    el: h('a', { href: n.href, class: 'nav-link' }, n.label),
  }));

  constructor(
    private readonly root: HTMLElement,
    private readonly ctx: ViewContext,
  ) {}

  start(): void {
    this.banner.hidden = true;
    this.pauseButton.addEventListener('click', () => this.togglePause());
    fill(
      this.root,
      h(
        'header',
        { class: 'topbar' },
        h(
          'a',
          { class: 'brand', href: href.overview() },
          h('span', { class: 'brand-mark' }, svgIcon('M4 18V6l5 7 3-4 3 4 5-7v12', 18)),
          'modelauto',
        ),
        h(
          'nav',
          { class: 'nav' },
          this.navLinks.map((n) => n.el),
        ),
        h(
          'div',
          { class: 'topbar-right' },
          h('div', { class: 'refresh' }, this.statusDot, this.statusText),
          this.pauseButton,
          h('span', { class: 'version' }, `v${this.ctx.info.version}`),
        ),
      ),
      this.banner,
      this.page,
    );
    window.addEventListener('hashchange', () => this.route());
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && !this.paused) void this.tick();
    });
    this.route();
  }

  private route(): void {
    const route = parseRoute(location.hash);
    this.controller?.abort();
    this.view?.dispose();
    for (const n of this.navLinks) n.el.classList.toggle('active', n.key === section(route));
    this.view = createView(route, this.ctx);
    fill(this.page, this.view.el);
    window.scrollTo(0, 0);
    void this.tick();
  }

  private togglePause(): void {
    this.paused = !this.paused;
    fill(this.pauseButton, svgIcon(this.paused ? ICON_PLAY : ICON_PAUSE));
    this.pauseButton.title = this.paused ? 'Resume auto-refresh' : 'Pause auto-refresh';
    this.statusDot.className = this.paused ? 'dot dot-paused' : 'dot dot-live';
    if (this.paused) {
      window.clearTimeout(this.timer);
      this.statusText.textContent = 'Paused';
    } else void this.tick();
  }

  /** One refresh of the current view, then the next one is scheduled. */
  private async tick(): Promise<void> {
    window.clearTimeout(this.timer);
    const view = this.view;
    // One refresh at a time per page; a new page starts its own at once.
    if (!view || this.busy.has(view)) return;
    this.busy.add(view);
    this.controller = new AbortController();
    const signal = this.controller.signal;
    try {
      await view.refresh(signal);
      if (!signal.aborted) {
        this.banner.hidden = true;
        this.statusDot.className = this.paused ? 'dot dot-paused' : 'dot dot-live';
        this.statusText.textContent = this.paused ? 'Paused' : `Live · updated ${fmtTime(Date.now())}`;
      }
    } catch (e) {
      if (!signal.aborted && !(e instanceof DOMException && e.name === 'AbortError')) {
        this.statusDot.className = 'dot dot-error';
        this.statusText.textContent = 'Update failed';
        this.banner.hidden = false;
        fill(
          this.banner,
          e instanceof ApiError
            ? e.message
            : `Could not update the page: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    } finally {
      this.busy.delete(view);
    }
    if (!this.paused && !document.hidden && view === this.view) {
      this.timer = window.setTimeout(() => void this.tick(), this.ctx.info.refreshMs);
    }
  }
}

async function boot(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  let info: InfoResponse;
  try {
    info = await api.info();
  } catch (e) {
    fill(
      root,
      h(
        'div',
        { class: 'page' },
        empty('The dashboard cannot reach its server', e instanceof Error ? e.message : String(e)),
      ),
    );
    return;
  }
  setServerNow(info.now);
  new App(root, { info }).start();
}

void boot();
