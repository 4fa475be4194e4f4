/**
 * Line charts on uPlot: time series (x in epoch ms, shown as clock time) or step series (x = epoch).
 * The chart is created on the first data and updated in place afterwards, so auto-refresh neither
 * flickers nor loses the cursor; it follows its container's width.
 */
import uPlot from 'uplot';
import { h } from '../dom.js';
import { AXIS_FONT, COLORS, alpha } from './theme.js';

export interface SeriesSpec {
  label: string;
  color: string;
  fill?: boolean;
  dash?: number[];
  width?: number;
  /** Show a dot at every point (short series such as a few epochs). */
  points?: boolean;
}

export interface LineChartOptions {
  series: SeriesSpec[];
  x: 'time' | 'step';
  yFormat: (v: number) => string;
  /**
   * Fixed bounds (absent: from the data); `zero` starts the axis at 0; `span` is the height shown
   * when every value is the same (default 1), e.g. 0.05 keeps an all-zero error rate at 0-5%.
   */
  yRange?: { min?: number; max?: number; zero?: boolean; span?: number };
  height?: number;
  testid?: string;
  empty?: string;
}

export type Values = (number | null)[];

/** Axis labels in the chart's format, unless it rounds neighbouring ticks to the same text. */
function tickLabels(splits: number[], format: (v: number) => string): string[] {
  const labels = splits.map(format);
  if (new Set(labels).size === labels.length) return labels;
  const step = Math.abs((splits[1] ?? 0) - (splits[0] ?? 0)) || 1;
  const decimals = Math.min(10, Math.max(0, 1 - Math.floor(Math.log10(step))));
  return splits.map((v) => v.toFixed(decimals));
}

/** The last non-null value of a series. */
function latest(values: ArrayLike<number | null | undefined> | undefined): number | null {
  if (!values) return null;
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

export class LineChart {
  readonly el: HTMLElement;
  private readonly host: HTMLElement;
  private readonly emptyEl: HTMLElement;
  private plot: uPlot | undefined;
  private readonly resize: ResizeObserver;

  constructor(private readonly opts: LineChartOptions) {
    this.host = h('div', { class: 'chart-host' });
    this.emptyEl = h('div', { class: 'chart-empty' }, opts.empty ?? 'No data yet');
    this.el = h(
      'div',
      { class: 'chart', ...(opts.testid ? { testid: opts.testid } : {}) },
      this.host,
      this.emptyEl,
    );
    this.resize = new ResizeObserver(() => {
      const width = this.host.clientWidth;
      if (this.plot && width > 0 && Math.abs(width - this.plot.width) > 1) {
        this.plot.setSize({ width, height: this.height() });
      }
    });
    this.resize.observe(this.host);
  }

  private height(): number {
    return this.opts.height ?? 200;
  }

  private options(width: number): uPlot.Options {
    const { yFormat, yRange } = this.opts;
    const time = this.opts.x === 'time';
    return {
      width,
      height: this.height(),
      padding: [8, 8, 0, 0],
      scales: {
        x: { time },
        y: {
          range: (_u, dataMin, dataMax) => {
            let lo = yRange?.min ?? (yRange?.zero ? Math.min(0, dataMin) : dataMin);
            let hi = yRange?.max ?? dataMax;
            if (!Number.isFinite(lo)) lo = 0;
            if (!Number.isFinite(hi)) hi = lo;
            if (hi <= lo) {
              // One value everywhere: show it inside a band of `span`, within the fixed bounds.
              const span = yRange?.span ?? (Math.abs(lo) || 1);
              if (yRange?.max !== undefined) lo = Math.min(lo, yRange.max - span);
              else hi = lo + span;
            }
            const pad = yRange?.max === undefined ? (hi - lo) * 0.08 : 0;
            return [lo, hi + pad];
          },
        },
      },
      axes: [
        {
          stroke: COLORS.axis,
          font: AXIS_FONT,
          grid: { stroke: COLORS.grid, width: 1 },
          ticks: { show: false },
          ...(time
            ? {}
            : {
                values: (_u: uPlot, splits: number[]) =>
                  splits.map((v) => (Number.isInteger(v) ? String(v) : '')),
              }),
        },
        {
          stroke: COLORS.axis,
          font: AXIS_FONT,
          size: 64,
          grid: { stroke: COLORS.grid, width: 1 },
          ticks: { show: false },
          values: (_u: uPlot, splits: number[]) => tickLabels(splits, yFormat),
        },
      ],
      series: [
        {
          label: time ? 'time' : 'epoch',
          value: (u: uPlot, v: number | null, _s: number, idx: number | null) => {
            const x = idx === null ? latest(u.data[0]) : v;
            if (x === null) return '—';
            return time
              ? `${idx === null ? 'latest ' : ''}${new Date(x * 1000).toLocaleTimeString('en-GB', { hour12: false })}`
              : String(x);
          },
        },
        ...this.opts.series.map((s): uPlot.Series => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? 2,
          ...(s.fill ? { fill: alpha(s.color, 0.1) } : {}),
          ...(s.dash ? { dash: s.dash } : {}),
          points: { show: s.points ?? false, size: 5, fill: s.color },
          spanGaps: false,
          // Without the cursor on the chart, the legend shows the latest value.
          value: (u: uPlot, v: number | null, si: number, idx: number | null) => {
            const shown = idx === null ? latest(u.data[si]) : v;
            return shown === null ? '—' : yFormat(shown);
          },
        })),
      ],
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false }, points: { size: 7 } },
    };
  }

  /** x: epoch ms (time) or steps; ys: one array per series, aligned with x. */
  setData(x: number[], ys: Values[]): void {
    const xs = this.opts.x === 'time' ? x.map((t) => t / 1000) : x;
    const data: uPlot.AlignedData = [xs, ...ys];
    this.emptyEl.hidden = x.length > 0;
    if (!this.plot) {
      this.plot = new uPlot(this.options(this.host.clientWidth || 600), data, this.host);
    } else {
      this.plot.setData(data);
    }
  }

  dispose(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }
}
