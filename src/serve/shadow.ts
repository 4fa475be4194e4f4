/**
 * Shadow mode records: the challenger answers a copy of live requests, its answers go nowhere but
 * here, next to the champion's, so the two can be compared before the challenger takes traffic.
 */
import { appendFile } from 'node:fs/promises';
import type { ServedOutputs } from './served-version.js';

export interface ShadowRecord {
  time: number;
  model: string;
  primaryVersion: number;
  shadowVersion: number;
  rows: number;
  /** Classification: rows whose top class is the same in both answers; null for other outputs. */
  agreeingRows: number | null;
  /** Largest absolute difference between the two answers' values. */
  maxAbsDiff: number | null;
  primaryMs: number;
  shadowMs: number | null;
  /** Both answers, by output name (row-major values). */
  primary: Record<string, number[]>;
  shadow: Record<string, number[]> | null;
  error: string | null;
}

export interface ShadowSummary {
  requests: number;
  rows: number;
  errors: number;
  /** Share of classified rows with the same top class; null before any. */
  agreement: number | null;
  meanMaxAbsDiff: number | null;
}

export class ShadowRecorder {
  private readonly recent: ShadowRecord[] = [];
  private readonly totals = new Map<
    string,
    {
      requests: number;
      rows: number;
      errors: number;
      agree: number;
      classified: number;
      diffSum: number;
      diffs: number;
    }
  >();
  private writes: Promise<void> = Promise.resolve();

  /** `file`: a JSON Lines file that every record is appended to; `keep`: records kept in memory per server. */
  constructor(
    private readonly file: string | undefined,
    private readonly keep = 200,
  ) {}

  record(input: {
    model: string;
    primaryVersion: number;
    shadowVersion: number;
    primary: ServedOutputs;
    primaryMs: number;
    shadow: ServedOutputs | null;
    shadowMs: number | null;
    error: string | null;
    classification: boolean;
  }): ShadowRecord {
    const primary = plain(input.primary);
    const shadow = input.shadow ? plain(input.shadow) : null;
    let agreeing: number | null = null;
    let maxAbsDiff: number | null = null;
    if (shadow) {
      maxAbsDiff = 0;
      for (const [name, values] of Object.entries(primary)) {
        const other = shadow[name];
        if (!other || other.length !== values.length) {
          maxAbsDiff = null;
          break;
        }
        for (let i = 0; i < values.length; i++)
          maxAbsDiff = Math.max(maxAbsDiff, Math.abs((values[i] as number) - (other[i] as number)));
      }
      if (input.classification) agreeing = agreeingRows(primary, shadow, input.primary.rows);
    }
    const rec: ShadowRecord = {
      time: Date.now(),
      model: input.model,
      primaryVersion: input.primaryVersion,
      shadowVersion: input.shadowVersion,
      rows: input.primary.rows,
      agreeingRows: agreeing,
      maxAbsDiff,
      primaryMs: input.primaryMs,
      shadowMs: input.shadowMs,
      primary,
      shadow,
      error: input.error,
    };
    const t = this.totals.get(input.model) ?? {
      requests: 0,
      rows: 0,
      errors: 0,
      agree: 0,
      classified: 0,
      diffSum: 0,
      diffs: 0,
    };
    t.requests++;
    t.rows += rec.rows;
    if (rec.error) t.errors++;
    if (agreeing !== null) {
      t.agree += agreeing;
      t.classified += rec.rows;
    }
    if (maxAbsDiff !== null) {
      t.diffSum += maxAbsDiff;
      t.diffs++;
    }
    this.totals.set(input.model, t);
    this.recent.push(rec);
    if (this.recent.length > this.keep) this.recent.shift();
    if (this.file) {
      const file = this.file;
      const line = JSON.stringify(rec) + '\n';
      // Appends in order, one at a time; a failing disk must not fail the live request.
      this.writes = this.writes.then(() => appendFile(file, line)).catch(() => undefined);
    }
    return rec;
  }

  summary(model: string): ShadowSummary {
    const t = this.totals.get(model);
    if (!t) return { requests: 0, rows: 0, errors: 0, agreement: null, meanMaxAbsDiff: null };
    return {
      requests: t.requests,
      rows: t.rows,
      errors: t.errors,
      agreement: t.classified > 0 ? t.agree / t.classified : null,
      meanMaxAbsDiff: t.diffs > 0 ? t.diffSum / t.diffs : null,
    };
  }

  records(model: string): ShadowRecord[] {
    return this.recent.filter((r) => r.model === model);
  }

  /** Waits for pending file appends. */
  async flush(): Promise<void> {
    await this.writes;
  }
}

function plain(out: ServedOutputs): Record<string, number[]> {
  const o: Record<string, number[]> = {};
  for (const [name, t] of out.tensors) {
    const size = t.sampleShape.reduce((a, b) => a * b, 1);
    o[name] = Array.from(t.data.subarray(0, out.rows * size));
  }
  return o;
}

function agreeingRows(a: Record<string, number[]>, b: Record<string, number[]>, rows: number): number | null {
  const [name] = Object.keys(a);
  if (name === undefined) return null;
  const x = a[name] as number[];
  const y = b[name];
  if (!y || y.length !== x.length || rows === 0) return null;
  const width = x.length / rows;
  let agree = 0;
  for (let r = 0; r < rows; r++) if (argmax(x, r * width, width) === argmax(y, r * width, width)) agree++;
  return agree;
}

function argmax(v: number[], offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if ((v[offset + i] as number) > (v[offset + best] as number)) best = i;
  return best;
}
