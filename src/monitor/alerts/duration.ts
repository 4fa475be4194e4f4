/**
 * Durations and windows as rules write them, Prometheus style: `30s`, `5m`, `1h30m`, `250ms`, `0`;
 * row windows as `500 rows`. A bare number is refused (except 0) because it is ambiguous: seconds
 * to a Prometheus user, milliseconds to a JavaScript one.
 */
import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
type Unit = keyof typeof UNIT_MS;

const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;
const ROWS = /^(\d+)\s*rows?$/;

export const DURATION_HINT = 'a duration like 30s, 5m, 1h30m or 250ms';

/** Milliseconds of a duration string, or undefined when `text` is not one. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  if (!DURATION.test(s)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of s.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit as Unit];
  return Math.round(ms);
}

/** `90000` → `1m30s`: how durations are echoed in messages. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * UNIT_MS[unit];
    }
  }
  return out;
}

/** A duration in the input, milliseconds in the output. */
export const DurationSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = typeof v === 'number' ? (v === 0 ? 0 : undefined) : parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message:
        typeof v === 'number'
          ? `expected ${DURATION_HINT} (a bare number is ambiguous; only 0 may be written without a unit)`
          : `expected ${DURATION_HINT}, got ${JSON.stringify(v)}`,
    });
    return z.NEVER;
  }
  return ms;
});

/** The data a windowed metric is computed over: the last `ms` of traffic or the last `rows` requests. */
export type AlertWindow = { kind: 'duration'; ms: number } | { kind: 'rows'; rows: number };

export const WINDOW_HINT = 'a duration like 5m or a row count like 500 rows';

export function parseWindow(text: string): AlertWindow | undefined {
  const rows = ROWS.exec(text.trim());
  if (rows) return { kind: 'rows', rows: Number(rows[1]) };
  const ms = parseDuration(text);
  return ms === undefined ? undefined : { kind: 'duration', ms };
}

export function formatWindow(w: AlertWindow): string {
  return w.kind === 'rows' ? `${w.rows} rows` : formatDuration(w.ms);
}

export const WindowSchema = z.union([z.string(), z.number()]).transform((v, ctx): AlertWindow => {
  const w = typeof v === 'string' ? parseWindow(v) : undefined;
  if (w === undefined || (w.kind === 'rows' ? w.rows : w.ms) <= 0) {
    ctx.addIssue({ code: 'custom', message: `expected ${WINDOW_HINT}, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return w;
});
