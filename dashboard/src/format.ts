/** Display formats. Every formatter takes null/undefined (a value JSON could not carry) and shows a dash. */

export const DASH = '—';

type Maybe = number | null | undefined;

const isNum = (v: Maybe): v is number => typeof v === 'number' && Number.isFinite(v);

export function fmtNum(v: Maybe, digits = 3): string {
  if (!isNum(v)) return DASH;
  if (v !== 0 && Math.abs(v) < 10 ** -digits) return v.toExponential(1);
  return v.toLocaleString('en-US', { maximumFractionDigits: digits });
}

export function fmtInt(v: Maybe): string {
  return isNum(v) ? Math.round(v).toLocaleString('en-US') : DASH;
}

/** 0.9731 → 97.31% */
export function fmtPct(v: Maybe, digits = 1): string {
  return isNum(v) ? `${(v * 100).toFixed(digits)}%` : DASH;
}

/** Signed change in percentage points. */
export function fmtDeltaPts(v: Maybe): string {
  if (!isNum(v)) return DASH;
  const pts = v * 100;
  return `${pts > 0 ? '+' : pts < 0 ? '−' : '±'}${Math.abs(pts).toFixed(2)} pts`;
}

export function fmtBytes(v: Maybe): string {
  if (!isNum(v)) return DASH;
  const units = ['B', 'KB', 'MB', 'GB'];
  let x = v;
  let i = 0;
  while (Math.abs(x) >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${i === 0 ? x.toFixed(0) : x.toFixed(x < 10 ? 2 : 1)} ${units[i]}`;
}

/** Seconds → µs / ms / s. */
export function fmtSeconds(v: Maybe): string {
  if (!isNum(v)) return DASH;
  if (v < 1e-3) return `${(v * 1e6).toFixed(0)} µs`;
  if (v < 1) return `${(v * 1e3).toFixed(v < 0.01 ? 2 : 1)} ms`;
  return `${v.toFixed(2)} s`;
}

export function fmtMs(v: Maybe): string {
  return isNum(v) ? fmtSeconds(v / 1000) : DASH;
}

export function fmtRate(v: Maybe): string {
  if (!isNum(v)) return DASH;
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function fmtTime(t: Maybe): string {
  if (!isNum(t)) return DASH;
  return new Date(t).toLocaleTimeString('en-GB', { hour12: false });
}

export function fmtDateTime(t: Maybe): string {
  if (!isNum(t)) return DASH;
  const d = new Date(t);
  return `${d.toLocaleDateString('en-CA')} ${d.toLocaleTimeString('en-GB', { hour12: false, hour: '2-digit', minute: '2-digit' })}`;
}

/** Server clock minus browser clock, set once the server's time is known. */
let skewMs = 0;
export function setServerNow(serverNow: number): void {
  skewMs = serverNow - Date.now();
}
export function serverNow(): number {
  return Date.now() + skewMs;
}

export function fmtAgo(t: Maybe): string {
  if (!isNum(t)) return DASH;
  const s = Math.max(0, Math.round((serverNow() - t) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function fmtDuration(ms: Maybe): string {
  if (!isNum(ms)) return DASH;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** test_f1_macro → F1 macro; val_accuracy → val accuracy */
export function metricLabel(key: string): string {
  const words = key
    .replace(/^test_/, '')
    .split('_')
    .map((w) => (w === 'f1' ? 'F1' : w === 'auc' ? 'AUC' : w === 'roc' ? 'ROC' : w));
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Metrics in [0, 1] read better as percentages. */
export function fmtMetric(key: string, v: Maybe): string {
  if (
    /accuracy|precision|recall|f1|auc|score/.test(key) &&
    !/loss|mae|mse/.test(key) &&
    isNum(v) &&
    v >= 0 &&
    v <= 1
  ) {
    return fmtPct(v, 2);
  }
  return fmtNum(v, 4);
}
