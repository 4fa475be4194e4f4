/**
 * The live monitor's configuration: what `modelauto serve --monitor monitor.yaml` reads and what
 * `startMonitoredServer({ monitor })` takes. Durations are written as in the alert rules (`30s`, `5m`,
 * `7d`, `250ms`; a bare number only for 0). Every section is optional; the defaults are below.
 *
 * ```yaml
 * predictionLog: { sampleRate: 1, maxRows: 100000, maxAge: 7d }
 * traffic: { interval: 5s, keep: 720 }
 * quality: { windowRows: 500, windowAge: null, interval: 10s }
 * drift: { windowRows: 500, windowAge: null, minRows: 100, interval: 30s, compute: thread, topFeatures: 20 }
 * alerts: { interval: 15s, rules: [...] }   # see src/monitor/alerts/rule.ts
 * ```
 */
import { z } from 'zod';
import { DurationSchema } from '../alerts/duration.js';
import { AlertingSchema } from '../alerts/rule.js';
import { DriftOptionsSchema } from '../drift/options.js';

const positiveDuration = (fallback: number) =>
  DurationSchema.default(fallback).refine((ms) => ms > 0, 'expected a duration longer than 0');
const optionalAge = DurationSchema.nullable()
  .default(null)
  .refine((ms) => ms === null || ms > 0, 'expected a duration longer than 0, or null for no age limit');

export const PredictionLogConfigSchema = z.strictObject({
  /** Off: nothing is logged and feedback cannot be joined (live quality needs the log). */
  enabled: z.boolean().default(true),
  /**
   * Where the writes run: `thread` (default), a worker thread with its own store connection, so the
   * server's event loop only encodes records; `inline`, on the server's thread.
   */
  writer: z.enum(['thread', 'inline']).default('thread'),
  /** Share of requests logged, 0..1 (by a hash of the request id, so retries of one id agree). */
  sampleRate: z.number().min(0, 'expected a rate >= 0').max(1, 'expected a rate <= 1').default(1),
  /** Records kept at most (the newest; across models). */
  maxRows: z.int().positive().default(100_000),
  /** Records older than this are dropped. */
  maxAge: positiveDuration(7 * 86_400_000),
  /** How often the retention limits are applied. */
  pruneInterval: positiveDuration(60_000),
  /** Records are written in batches at least this often, off the request path. */
  flushInterval: positiveDuration(250),
  /** Most records per write (one transaction; the event loop runs other work between writes). */
  batchRows: z.int().positive().max(10_000).default(100),
  /** Most records waiting to be written; beyond it new ones are dropped (and counted). */
  maxPending: z.int().positive().default(10_000),
  /** Input tensors with more values than this are stored as a summary (shape, min, max, mean, std). */
  maxInputValues: z.int().positive().default(100_000),
});

export const TrafficConfigSchema = z.strictObject({
  /** Snapshot period of requests/s, latency p50/p99 and error rate. */
  interval: positiveDuration(5_000),
  /** Snapshots kept per model (720 x 5 s = 1 h). */
  keep: z.int().positive().default(720),
  /** Requests remembered per model for windowed figures (alerts on p99 latency, error rate). */
  maxSamples: z.int().positive().default(100_000),
  /** And for at most this long. */
  maxAge: positiveDuration(3_600_000),
});

const windowRefine = (w: { windowRows: number | null; windowAge: number | null }) =>
  w.windowRows !== null || w.windowAge !== null;
const WINDOW_MESSAGE = 'windowRows and windowAge cannot both be null: the window needs a bound';

export const QualityConfigSchema = z
  .strictObject({
    /** Live quality over the last `windowRows` labelled predictions... */
    windowRows: z.int().positive().nullable().default(500),
    /** ...labelled within the last `windowAge` (null: no age limit). */
    windowAge: optionalAge,
    /** How often quality is recomputed from the store (feedback through the API recomputes at once). */
    interval: positiveDuration(10_000),
    /** Points kept per model version. */
    keep: z.int().positive().default(720),
  })
  .refine(windowRefine, { message: WINDOW_MESSAGE, path: ['windowRows'] });

export const DriftConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Drift compares the last `windowRows` input rows of a version... */
    windowRows: z.int().positive().nullable().default(500),
    /** ...received within the last `windowAge` (null: no age limit), with its training profile. */
    windowAge: optionalAge,
    /** Fewer rows than this in the window: no drift report (too little evidence). */
    minRows: z.int().positive().default(100),
    /** How often drift is computed (also on demand through the read model). */
    interval: positiveDuration(30_000),
    /**
     * Where drift is computed: `thread` (default), a worker thread that holds the references, so a
     * drift run (hundreds of ms for a 784-pixel model) never stalls requests; `inline`, on the
     * server's thread.
     */
    compute: z.enum(['thread', 'inline']).default('thread'),
    /** Reports kept per model version (the drift-share history). */
    keep: z.int().positive().default(240),
    /** Per-feature drift series on /metrics: the drifted features first, at most this many. */
    topFeatures: z.int().positive().max(1000).default(20),
    /**
     * For versions trained before modelauto stored a raw reference sample: approximate the reference
     * from the profile's histograms (coarse: only worth it with distance methods). Off by default.
     */
    profileFallback: z.boolean().default(false),
    /** The drift statistics' options (src/monitor/drift/options.ts: methods, thresholds, correction). */
    options: DriftOptionsSchema.prefault({}),
  })
  .refine(windowRefine, { message: WINDOW_MESSAGE, path: ['windowRows'] });

export const MonitorConfigSchema = z.strictObject({
  predictionLog: PredictionLogConfigSchema.prefault({}),
  traffic: TrafficConfigSchema.prefault({}),
  quality: QualityConfigSchema.prefault({}),
  drift: DriftConfigSchema.prefault({}),
  alerts: AlertingSchema.prefault({}),
});

export type MonitorConfigInput = z.input<typeof MonitorConfigSchema>;
export type MonitorConfig = z.output<typeof MonitorConfigSchema>;
export type PredictionLogConfig = MonitorConfig['predictionLog'];
export type TrafficConfig = MonitorConfig['traffic'];
export type QualityConfig = MonitorConfig['quality'];
export type DriftConfig = MonitorConfig['drift'];
