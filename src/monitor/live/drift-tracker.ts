/**
 * Live drift per served version: a window of its recent raw inputs (input-window.ts) is compared
 * with the version's training reference every `interval` (and on demand). The default window
 * (`windowRows` / `windowAge`) gives the report the dashboard and /metrics show and the drift-share
 * history; alert rules on drift metrics with their own window get a report over that window too,
 * computed at the same times.
 *
 * The reference is read once per version from its registry artifacts; a version without one (saved
 * without a data profile, or a model without preprocessing) gets no reports, which is said once in
 * the log.
 */
import type { DecodedInputs, InferenceEvent, ServedSignature } from '../../serve/index.js';
import type { AlertWindow } from '../alerts/duration.js';
import type { DriftReport } from '../types.js';
import type { DriftConfig } from './config.js';
import { InputWindow, type WindowSlice } from './input-window.js';

/** Without a row bound, a time-bounded window keeps at most this many rows. */
export const MAX_WINDOW_ROWS = 10_000;

/** What the drift statistics need for one version: its reference, loaded once. */
export interface DriftEngine<R> {
  /** The version's reference, or null when it has none (the reason goes to the log). */
  reference(model: string, version: number): Promise<{ reference: R } | { missing: string }>;
  /** One report of the current window against the reference (computed here or elsewhere). */
  detect(reference: R, current: WindowSlice): DriftReport | Promise<DriftReport>;
  /** The version is no longer served: its reference may be freed. */
  forget?(reference: R): void;
  /** Stops what the engine runs (its thread); called once, when the monitor closes. */
  close?(): Promise<void>;
}

interface VersionDrift<R> {
  model: string;
  version: number;
  window: InputWindow;
  reference: Promise<{ reference: R } | { missing: string }> | undefined;
  /** The latest report per window key ('' for the default window). */
  latest: Map<string, DriftReport>;
  history: DriftReport[];
}

export function windowKey(w: AlertWindow | null): string {
  if (w === null) return '';
  return w.kind === 'rows' ? `rows:${w.rows}` : `ms:${w.ms}`;
}

export class DriftTracker<R> {
  private readonly versions = new Map<string, VersionDrift<R>>();
  readonly capacity: number;
  /** The statistics refuse fewer rows than their own minRows: the larger bound decides. */
  private readonly minRows: number;

  constructor(
    private readonly config: DriftConfig,
    private readonly engine: DriftEngine<R>,
    /** Extra windows (alert rules on drift metrics) computed with the default one. */
    private readonly extraWindows: readonly AlertWindow[],
    private readonly report: (line: string) => void,
  ) {
    const rows = [
      config.windowRows ?? MAX_WINDOW_ROWS,
      ...extraWindows.map((w) => (w.kind === 'rows' ? w.rows : 0)),
    ];
    this.capacity = Math.min(Math.max(...rows), 1_000_000);
    this.minRows = Math.max(config.minRows, config.options.minRows);
  }

  /** Takes the rows of an answered request into its version's window. */
  observe(e: InferenceEvent, predicted: readonly string[] | null): void {
    if (!this.config.enabled || e.status !== 200 || !e.inputs || !e.signature || e.version === null) return;
    this.add(e.model, e.version, e.signature, e.inputs, e.rows, e.receivedAt, predicted);
  }

  /** Adds rows to a version's window (live requests, or logged ones replayed at start). */
  add(
    model: string,
    version: number,
    signature: ServedSignature,
    inputs: DecodedInputs,
    rows: number,
    at: number,
    predicted: readonly string[] | null,
  ): void {
    const key = `${model}:${version}`;
    let v = this.versions.get(key);
    if (!v) {
      v = {
        model,
        version,
        window: new InputWindow(signature, this.capacity),
        reference: undefined,
        latest: new Map(),
        history: [],
      };
      this.versions.set(key, v);
    }
    v.window.push(inputs, rows, at, predicted);
  }

  /** Forgets the versions not in `loaded` (unloaded versions: their windows are freed). */
  retain(loaded: ReadonlySet<string>): void {
    for (const [key, v] of this.versions) {
      if (loaded.has(key)) continue;
      this.versions.delete(key);
      void v.reference?.then((r) => {
        if ('reference' in r) this.engine.forget?.(r.reference);
      });
    }
  }

  private async referenceOf(v: VersionDrift<R>): Promise<R | null> {
    if (!v.reference) {
      v.reference = this.engine.reference(v.model, v.version).then(
        (r) => {
          if ('missing' in r) this.report(`monitor: no drift for ${v.model}:${v.version}: ${r.missing}`);
          return r;
        },
        (e: unknown) => {
          const missing = `cannot read its drift reference: ${e instanceof Error ? e.message : String(e)}`;
          this.report(`monitor: no drift for ${v.model}:${v.version}: ${missing}`);
          return { missing };
        },
      );
    }
    const r = await v.reference;
    return 'missing' in r ? null : r.reference;
  }

  private slice(v: VersionDrift<R>, w: AlertWindow | null, now: number): WindowSlice {
    if (w === null) {
      const age = this.config.windowAge;
      return v.window.slice(this.config.windowRows, age === null ? null : now - age);
    }
    return w.kind === 'rows' ? v.window.slice(w.rows, null) : v.window.slice(null, now - w.ms);
  }

  /**
   * Computes the reports of every version (or of `model`'s) whose window holds at least `minRows`
   * rows; returns the default-window reports made. A failing computation is logged, not thrown.
   */
  async run(now: number, model?: string): Promise<DriftReport[]> {
    const made: DriftReport[] = [];
    for (const v of [...this.versions.values()]) {
      if (model !== undefined && v.model !== model) continue;
      if (v.window.rows < this.minRows) continue;
      const reference = await this.referenceOf(v);
      if (reference === null) continue;
      for (const w of [null, ...this.extraWindows]) {
        const current = this.slice(v, w, now);
        if (current.data.rows < this.minRows) continue;
        let report: DriftReport;
        try {
          report = {
            ...(await this.engine.detect(reference, current)),
            model: v.model,
            version: v.version,
            windowStart: current.start,
            windowEnd: current.end,
            computedAt: now,
          };
        } catch (e) {
          this.report(
            `monitor: drift of ${v.model}:${v.version} failed: ${e instanceof Error ? e.message : String(e)}`,
          );
          continue;
        }
        v.latest.set(windowKey(w), report);
        if (w === null) {
          v.history.push(report);
          if (v.history.length > this.config.keep) v.history.splice(0, v.history.length - this.config.keep);
          made.push(report);
        }
      }
    }
    return made;
  }

  /** The latest report of a version over a window (null: the default window). */
  latest(model: string, version: number, w: AlertWindow | null = null): DriftReport | null {
    return this.versions.get(`${model}:${version}`)?.latest.get(windowKey(w)) ?? null;
  }

  history(model: string, version: number): DriftReport[] {
    return [...(this.versions.get(`${model}:${version}`)?.history ?? [])];
  }

  /** Rows in a version's window now. */
  rows(model: string, version: number): number {
    return this.versions.get(`${model}:${version}`)?.window.rows ?? 0;
  }
}
