/**
 * Drift severity of every feature on a square grid, for image inputs (784 MNIST pixels → 28x28): where
 * in the picture the inputs moved. A canvas, one cell per feature; hover names it, click selects it.
 */
import { h } from '../dom.js';
import { fmtNum } from '../format.js';

/** The grid side when the feature count is a square of at least 4x4, else null. */
export function squareSide(count: number): number | null {
  const side = Math.round(Math.sqrt(count));
  return side >= 4 && side * side === count ? side : null;
}

/**
 * Where each feature sits on a square grid: by the number its name ends with (`px_123`) when every
 * name has one and they are 0..n-1, else in report order. Null when the features do not fill a square.
 */
export function gridLayout(names: string[]): { side: number; cellOf: number[] } | null {
  const side = squareSide(names.length);
  if (side === null) return null;
  const indices = names.map((n) => {
    const m = /(\d+)$/.exec(n);
    return m ? Number(m[1]) : -1;
  });
  const ok = indices.every((i) => i >= 0 && i < names.length) && new Set(indices).size === names.length;
  return { side, cellOf: ok ? indices : names.map((_, i) => i) };
}

const WHITE = [255, 255, 255];
const AMBER = [247, 144, 9];
const RED = [180, 24, 29];

function mix(a: number[], b: number[], k: number): string {
  const c = a.map((v, i) => Math.round(v + ((b[i] ?? v) - v) * k));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** Severity → color: white at 0, amber at the threshold (1), deep red from 3 on. */
function color(s: number | null): string {
  if (s === null) return '#f2f4f7';
  if (s < 1) return mix(WHITE, AMBER, Math.max(0, s));
  return mix(AMBER, RED, Math.min(1, (s - 1) / 2));
}

export class FeatureMap {
  readonly el: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly caption: HTMLElement;
  /** Per grid cell: the feature there, its severity, and whether the monitor skipped it. */
  private cells: { name: string; severity: number | null; skipped: boolean }[] = [];
  private side = 0;
  private selected = -1;

  constructor(
    private readonly onSelect: (feature: string) => void,
    private readonly size = 252,
  ) {
    this.canvas = h('canvas', {
      class: 'feature-map-canvas',
      attrs: { role: 'img', 'aria-label': 'drift by feature' },
    });
    this.caption = h('div', { class: 'feature-map-caption' }, 'Hover a cell');
    const legend = h(
      'div',
      { class: 'feature-map-legend' },
      h('span', null, 'no drift'),
      h('span', { class: 'feature-map-gradient' }),
      h('span', null, '3× threshold'),
    );
    this.el = h('div', { class: 'feature-map', testid: 'feature-map' }, this.canvas, legend, this.caption);
    this.canvas.addEventListener('mousemove', (e) => {
      const cell = this.cells[this.indexAt(e)];
      this.caption.textContent = !cell
        ? 'Hover a cell'
        : cell.skipped
          ? `${cell.name} · not compared`
          : `${cell.name} · severity ${fmtNum(cell.severity, 2)}`;
    });
    this.canvas.addEventListener('click', (e) => {
      const cell = this.cells[this.indexAt(e)];
      if (cell && !cell.skipped) this.onSelect(cell.name);
    });
  }

  private indexAt(e: MouseEvent): number {
    const rect = this.canvas.getBoundingClientRect();
    const cell = rect.width / this.side;
    const col = Math.floor((e.clientX - rect.left) / cell);
    const row = Math.floor((e.clientY - rect.top) / cell);
    if (col < 0 || row < 0 || col >= this.side || row >= this.side) return -1;
    return row * this.side + col;
  }

  /** False when the features do not fill a square grid (then there is nothing to draw). */
  setData(
    names: string[],
    severities: (number | null)[],
    skipped: string[],
    selected: string | null,
  ): boolean {
    const all = [...names, ...skipped];
    const layout = gridLayout(all);
    this.side = layout?.side ?? 0;
    this.cells = [];
    this.selected = -1;
    if (!layout) return false;
    all.forEach((name, i) => {
      const cell = layout.cellOf[i]!;
      this.cells[cell] = {
        name,
        severity: i < names.length ? (severities[i] ?? null) : null,
        skipped: i >= names.length,
      };
      if (name === selected) this.selected = cell;
    });
    this.draw();
    return true;
  }

  private draw(): void {
    if (!this.side) return;
    const dpr = window.devicePixelRatio || 1;
    const px = this.size;
    this.canvas.width = Math.round(px * dpr);
    this.canvas.height = Math.round(px * dpr);
    this.canvas.style.width = `${px}px`;
    this.canvas.style.height = `${px}px`;
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const size = px / this.side;
    for (let i = 0; i < this.side * this.side; i++) {
      const cell = this.cells[i];
      ctx.fillStyle = cell?.skipped ? '#e4e7ec' : color(cell?.severity ?? null);
      ctx.fillRect((i % this.side) * size, Math.floor(i / this.side) * size, size + 0.5, size + 0.5);
    }
    if (this.selected >= 0) {
      ctx.strokeStyle = '#111827';
      ctx.lineWidth = 2;
      ctx.strokeRect(
        (this.selected % this.side) * size + 1,
        Math.floor(this.selected / this.side) * size + 1,
        size - 2,
        size - 2,
      );
    }
  }
}
