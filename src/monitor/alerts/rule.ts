/**
 * Alert rules as written under `alerts:` in the monitor config. Each rule compares one monitored
 * metric with a threshold; the engine (engine.ts) evaluates it every `interval` and moves it through
 * inactive → pending → firing (Prometheus semantics). Schemas first; the types are their outputs.
 *
 * ```yaml
 * alerts:
 *   interval: 15s
 *   rules:
 *     - name: mnist-drift
 *       metric: drift_share
 *       model: mnist
 *       op: '>'            # quote the symbols in YAML ('>' starts a folded block); or gt, gte, lt, lte
 *       threshold: 0.5
 *       window: 500 rows
 *       for: 2m
 *       severity: critical
 *       labels: { team: vision }
 *       webhooks: [http://127.0.0.1:9093/hook]
 *       run: { pipeline: pipelines/retrain.yaml, args: { epochs: 3 } }
 * ```
 */
import { z } from 'zod';
import { ModelNameSchema } from '../../store/registry.js';
import { DurationSchema, formatWindow, WindowSchema, type AlertWindow } from './duration.js';

interface MetricInfo {
  /** What the metric source returns, for docs and messages. */
  description: string;
  /** The window kinds the metric can be computed over. */
  windows: readonly AlertWindow['kind'][];
  /** Values lie in [min, max]; thresholds outside could never (or always) fire. */
  range: readonly [number, number];
}

/**
 * The metrics a rule can watch, with what the live monitor's AlertMetricSource must return for each.
 * A rule's `window` (or, without one, the monitor's default window of the metric) says over which
 * data the value is computed.
 */
export const ALERT_METRICS = {
  drift_share: {
    description: 'fraction of input features that drifted in the latest drift window (0..1)',
    windows: ['rows', 'duration'],
    range: [0, 1],
  },
  dataset_drift: {
    description: '1 when the latest drift window shows dataset drift (drift share >= its threshold), else 0',
    windows: ['rows', 'duration'],
    range: [0, 1],
  },
  feature_drift: {
    description:
      "the `feature`'s drift score in the latest drift window: the p-value for statistical tests " +
      '(KS, chi-square, z: drift is a small value, use < or <=), the distance otherwise ' +
      '(Wasserstein, Jensen-Shannon: drift is a large value, use > or >=)',
    windows: ['rows', 'duration'],
    range: [0, Infinity],
  },
  live_accuracy: {
    description: 'accuracy of the labelled predictions (feedback) in the window (0..1)',
    windows: ['rows', 'duration'],
    range: [0, 1],
  },
  live_f1: {
    description: 'macro F1 of the labelled predictions (feedback) in the window (0..1)',
    windows: ['rows', 'duration'],
    range: [0, 1],
  },
  p99_latency_seconds: {
    description: '99th percentile of request duration in seconds over the window',
    windows: ['duration'],
    range: [0, Infinity],
  },
  error_rate: {
    description: 'fraction of requests that failed over the window (0..1)',
    windows: ['duration'],
    range: [0, 1],
  },
  requests_per_second: {
    description: 'request rate over the window',
    windows: ['duration'],
    range: [0, Infinity],
  },
} as const satisfies Record<string, MetricInfo>;

export type AlertMetric = keyof typeof ALERT_METRICS;
export const ALERT_METRIC_NAMES = Object.keys(ALERT_METRICS) as AlertMetric[];

export const ALERT_OPS = ['>', '>=', '<', '<='] as const;
export type AlertOp = (typeof ALERT_OPS)[number];

/** Words for the symbols, because an unquoted `>` in YAML starts a folded block scalar. */
const OP_SPELLINGS: Record<string, AlertOp> = {
  '>': '>',
  '>=': '>=',
  '<': '<',
  '<=': '<=',
  gt: '>',
  gte: '>=',
  ge: '>=',
  lt: '<',
  lte: '<=',
  le: '<=',
};

const OpSchema = z.string().transform((v, ctx): AlertOp => {
  const op = OP_SPELLINGS[v.trim()];
  if (op === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected one of ">", ">=", "<", "<=" (or gt, gte, lt, lte), got ${JSON.stringify(v)}; quote the symbols in YAML`,
    });
    return z.NEVER;
  }
  return op;
});

/** True when `value op threshold` holds. */
export function compare(value: number, op: AlertOp, threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
  }
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Labels the engine sets on every alert itself; a rule cannot override them. */
export const RESERVED_LABELS = ['alertname', 'severity', 'model', 'metric', 'feature'] as const;

const LabelMapSchema = z.record(z.string(), z.string()).superRefine((labels, ctx) => {
  for (const key of Object.keys(labels)) {
    if (!LABEL_NAME.test(key)) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: 'expected a label name of letters, digits and "_", not starting with a digit',
      });
    }
  }
});

const WebhookUrlSchema = z.string().superRefine((v, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(v);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    ctx.addIssue({
      code: 'custom',
      message: `expected an http:// or https:// URL, got ${JSON.stringify(v)}`,
    });
  }
});

export const AlertRunSchema = z.strictObject({
  /** Pipeline file to run when the alert fires (the pipeline layer starts it). */
  pipeline: z.string().min(1, 'expected a pipeline file'),
  args: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
});
export type AlertRun = z.output<typeof AlertRunSchema>;

const NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,127}$/;

const RuleFieldsSchema = z.strictObject({
  name: z
    .string()
    .regex(NAME, 'expected a rule name of letters, digits, ".", "_" and "-", starting with a letter'),
  metric: z.enum(ALERT_METRIC_NAMES as [AlertMetric, ...AlertMetric[]]),
  /** feature_drift only: the input feature (column) to watch. */
  feature: z.string().min(1).optional(),
  /** Default: every monitored model, each its own alert. */
  model: ModelNameSchema.optional(),
  /** Default for dataset_drift: `>=`; required otherwise. */
  op: OpSchema.optional(),
  /** Default for dataset_drift: 1; required otherwise. */
  threshold: z.number().optional(),
  /** Default: the monitor's window for the metric. */
  window: WindowSchema.optional(),
  /** How long the condition must hold before the alert fires; 0 fires at the first evaluation. */
  for: DurationSchema.default(0),
  /** How long a firing alert stays firing after its condition stopped holding (damps flapping). */
  keepFiringFor: DurationSchema.default(0),
  severity: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'expected a severity such as critical, warning or info')
    .default('warning'),
  labels: LabelMapSchema.default({}),
  /** Free text sent with the alert; `summary` defaults to the event's message. */
  annotations: LabelMapSchema.default({}),
  webhooks: z.array(WebhookUrlSchema).default([]),
  run: AlertRunSchema.optional(),
});

export const AlertRuleSchema = RuleFieldsSchema.superRefine((r, ctx) => {
  const info = ALERT_METRICS[r.metric];
  if (r.metric === 'feature_drift' && r.feature === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['feature'],
      message: 'required for feature_drift (the feature to watch)',
    });
  }
  if (r.metric !== 'feature_drift' && r.feature !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['feature'],
      message: `only feature_drift takes a feature, not ${r.metric}`,
    });
  }
  if (r.metric !== 'dataset_drift') {
    if (r.op === undefined) {
      ctx.addIssue({ code: 'custom', path: ['op'], message: 'required: one of ">", ">=", "<", "<="' });
    }
    if (r.threshold === undefined) {
      ctx.addIssue({ code: 'custom', path: ['threshold'], message: 'required: the value to compare with' });
    }
  }
  const [min, max] = info.range;
  if (r.threshold !== undefined && (r.threshold < min || r.threshold > max)) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    ctx.addIssue({
      code: 'custom',
      path: ['threshold'],
      message: `${r.metric} is ${range} (${info.description}), so ${r.threshold} could never be crossed`,
    });
  }
  if (r.window !== undefined && !(info.windows as readonly string[]).includes(r.window.kind)) {
    ctx.addIssue({
      code: 'custom',
      path: ['window'],
      message: `${r.metric} is computed over time: expected a duration like 5m, not ${formatWindow(r.window)}`,
    });
  }
}).transform((r) => ({
  name: r.name,
  metric: r.metric,
  feature: r.feature ?? null,
  model: r.model ?? null,
  op: r.op ?? ('>=' as AlertOp),
  threshold: r.threshold ?? 1,
  window: r.window ?? null,
  forMs: r.for,
  keepFiringForMs: r.keepFiringFor,
  severity: r.severity,
  labels: r.labels,
  annotations: r.annotations,
  webhooks: r.webhooks,
  run: r.run ?? null,
}));

export type AlertRuleInput = z.input<typeof AlertRuleSchema>;
/** A validated rule: durations in milliseconds, defaults filled in, absent options null. */
export type AlertRule = z.output<typeof AlertRuleSchema>;

export const WebhookDeliverySchema = z
  .strictObject({
    /** Attempts per webhook and event, the first included. */
    attempts: z.int().min(1).max(20).default(5),
    /** Deadline of one attempt (connect, send, response). */
    timeout: DurationSchema.default(5000).refine((ms) => ms > 0, 'expected a timeout longer than 0'),
    /** Delay before the first retry; doubles each retry, with jitter. */
    backoff: DurationSchema.default(500),
    maxBackoff: DurationSchema.default(30_000),
    /** On shutdown, how long pending deliveries may still take before they are abandoned. */
    flushTimeout: DurationSchema.default(5000),
    /** Most deliveries waiting per webhook; beyond it the oldest are abandoned. */
    queueLimit: z.int().positive().default(1000),
  })
  .refine((d) => d.maxBackoff >= d.backoff, {
    path: ['maxBackoff'],
    message: 'expected a maxBackoff at least as long as backoff',
  })
  .transform((d) => ({
    attempts: d.attempts,
    timeoutMs: d.timeout,
    backoffMs: d.backoff,
    maxBackoffMs: d.maxBackoff,
    flushTimeoutMs: d.flushTimeout,
    queueLimit: d.queueLimit,
  }));
export type WebhookDelivery = z.output<typeof WebhookDeliverySchema>;

/** What goes under `alerts:` in the monitor config. */
export const AlertingSchema = z.strictObject({
  /** How often every rule is evaluated. */
  interval: DurationSchema.default(15_000).refine((ms) => ms > 0, 'expected an interval longer than 0'),
  delivery: WebhookDeliverySchema.prefault({}),
  rules: z
    .array(AlertRuleSchema)
    .default([])
    .superRefine((rules, ctx) => {
      const seen = new Map<string, number>();
      rules.forEach((r, i) => {
        const first = seen.get(r.name);
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `duplicate rule name "${r.name}" (also rules[${first}])`,
          });
        } else {
          seen.set(r.name, i);
        }
      });
    }),
});

export type AlertingInput = z.input<typeof AlertingSchema>;
export type AlertingConfig = z.output<typeof AlertingSchema>;
