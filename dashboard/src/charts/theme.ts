/** Chart colors and fonts (kept in step with the CSS variables in styles.css). */
export const COLORS = {
  accent: '#4f46e5',
  accent2: '#0ea5e9',
  orange: '#f97316',
  green: '#12b76a',
  red: '#f04438',
  amber: '#f79009',
  violet: '#a855f7',
  gray: '#98a2b3',
  grid: '#eef0f4',
  axis: '#667085',
};

export const PALETTE = [
  COLORS.accent,
  COLORS.orange,
  COLORS.accent2,
  COLORS.green,
  COLORS.violet,
  COLORS.red,
];

export const AXIS_FONT = '11px ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/** `#rrggbb` + alpha → rgba() */
export function alpha(hex: string, a: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}
