/**
 * Reference vs current distribution of one feature as grouped bars (uPlot bars), each as a share of
 * its own rows so that windows of different sizes compare. Bins are numeric ranges or categories.
 */
import uPlot from 'uplot';
import { h } from '../dom.js';
import type { DriftHistogram } from '../api.js';
import { fmtNum, fmtPct } from '../format.js';
import { AXIS_FONT, COLORS, alpha } from './theme.js';

export interface HistogramData {
  labels: string[];
  /** Long labels for the legend (numeric bins: the range). */
  ranges: string[];
  reference: number[];
  current: number[];
}

function shares(counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

/** Bins of a drift histogram pair as labels and shares; reference and current share their bins. */
export function histogramData(reference: DriftHistogram, current: DriftHistogram): HistogramData {
  const n = Math.max(reference.counts.length, current.counts.length);
  const bins: { label: string; range: string; ref: number; cur: number }[] = [];
  const edges = reference.edges ?? current.edges;
  for (let i = 0; i < n; i++) {
    const cat = reference.labels?.[i] ?? current.labels?.[i];
    let label: string;
    let range: string;
    if (cat !== undefined) {
      label = cat;
      range = cat;
    } else if (edges && edges[i] !== undefined && edges[i + 1] !== undefined) {
      const lo = edges[i]!;
      const hi = edges[i + 1]!;
      label = fmtNum((lo + hi) / 2, 2);
      range = `[${fmtNum(lo, 3)}, ${fmtNum(hi, 3)}${i === n - 1 ? ']' : ')'}`;
    } else {
      label = String(i + 1);
      range = `bin ${i + 1}`;
    }
    bins.push({ label, range, ref: reference.counts[i] ?? 0, cur: current.counts[i] ?? 0 });
  }
  // Categories in a readable order: numerically when they are all numbers (class labels 0-9), else as given.
  if (
    !edges &&
    bins.length > 1 &&
    bins.every((b) => b.label.trim() !== '' && Number.isFinite(Number(b.label)))
  ) {
    bins.sort((a, b) => Number(a.label) - Number(b.label));
  }
  return {
    labels: bins.map((b) => b.label),
    ranges: bins.map((b) => b.range),
    reference: shares(bins.map((b) => b.ref)),
    current: shares(bins.map((b) => b.cur)),
  };
}

export class HistogramChart {
  readonly el: HTMLElement;
  private readonly host: HTMLElement;
  private readonly emptyEl: HTMLElement;
  private plot: uPlot | undefined;
  private data: HistogramData = { labels: [], ranges: [], reference: [], current: [] };
  private readonly resize: ResizeObserver;

  constructor(private readonly opts: { height?: number; testid?: string; currentLabel?: string } = {}) {
    this.host = h('div', { class: 'chart-host' });
    this.emptyEl = h('div', { class: 'chart-empty' }, 'Select a feature');
    this.el = h(
      'div',
      { class: 'chart', ...(opts.testid ? { testid: opts.testid } : {}) },
      this.host,
      this.emptyEl,
    );
    this.resize = new ResizeObserver(() => {
      const width = this.host.clientWidth;
      if (this.plot && width > 0 && Math.abs(width - this.plot.width) > 1) {
        this.plot.setSize({ width, height: this.opts.height ?? 220 });
      }
    });
    this.resize.observe(this.host);
  }

  private options(width: number): uPlot.Options {
    const bars = uPlot.paths.bars!;
    const n = () => this.data.labels.length;
    return {
      width,
      height: this.opts.height ?? 220,
      padding: [8, 8, 0, 0],
      scales: {
        x: { time: false, range: () => [-0.5, Math.max(n(), 1) - 0.5] },
        y: { range: (_u, _min, max) => [0, Math.max(max, 0.01) * 1.1] },
      },
      axes: [
        {
          stroke: COLORS.axis,
          font: AXIS_FONT,
          grid: { show: false },
          ticks: { show: false },
          splits: (u) => {
            const every = Math.max(
              1,
              Math.ceil(n() / Math.max(1, Math.floor(u.bbox.width / devicePixelRatio / 56))),
            );
            return Array.from({ length: n() }, (_, i) => i).filter((i) => i % every === 0);
          },
          values: (_u, splits) => splits.map((i) => this.data.labels[i] ?? ''),
        },
        {
          stroke: COLORS.axis,
          font: AXIS_FONT,
          size: 56,
          grid: { stroke: COLORS.grid, width: 1 },
          ticks: { show: false },
          values: (_u, splits) => splits.map((v) => fmtPct(v, 0)),
        },
      ],
      series: [
        { label: 'bin', value: (_u, i) => (i === null ? 'hover a bar' : (this.data.ranges[i] ?? '')) },
        {
          label: 'reference',
          stroke: COLORS.gray,
          fill: alpha(COLORS.gray, 0.55),
          width: 0,
          paths: bars({ size: [0.42, 48], align: -1, gap: 1 }),
          points: { show: false },
          value: (_u, v) => (v === null ? '' : fmtPct(v)),
        },
        {
          label: this.opts.currentLabel ?? 'current window',
          stroke: COLORS.accent,
          fill: alpha(COLORS.accent, 0.85),
          width: 0,
          paths: bars({ size: [0.42, 48], align: 1, gap: 1 }),
          points: { show: false },
          value: (_u, v) => (v === null ? '' : fmtPct(v)),
        },
      ],
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
    };
  }

  setData(data: HistogramData | null): void {
    this.data = data ?? { labels: [], ranges: [], reference: [], current: [] };
    this.emptyEl.hidden = this.data.labels.length > 0;
    const aligned: uPlot.AlignedData = [
      this.data.labels.map((_, i) => i),
      this.data.reference,
      this.data.current,
    ];
    if (!this.plot) this.plot = new uPlot(this.options(this.host.clientWidth || 600), aligned, this.host);
    else this.plot.setData(aligned);
  }

  dispose(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }
}
