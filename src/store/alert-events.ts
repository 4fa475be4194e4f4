/**
 * The alert event log: firing and resolved events of the monitor's alert rules and the outcome of
 * each webhook delivery, kept in the store's database next to the registry (SQLite or PostgreSQL).
 * Events are append-only; a delivery's row is updated as its attempts go on.
 */
import { z } from 'zod';

export const ALERT_EVENT_KINDS = ['firing', 'resolved'] as const;
export type AlertEventKind = (typeof ALERT_EVENT_KINDS)[number];

const finite = (what: string) =>
  z.number().refine((v) => Number.isFinite(v), `expected a finite ${what} (no data is not an event)`);
const epochMs = z.int('expected an integer time in epoch milliseconds').nonnegative();

export const AlertEventRecordSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected an id of 1-64 letters, digits, "_" or "-"'),
  rule: z.string().min(1).max(128),
  kind: z.enum(ALERT_EVENT_KINDS),
  /** The model the alert is about; null for alerts not tied to one. */
  model: z.string().min(1).nullable(),
  metric: z.string().min(1),
  feature: z.string().min(1).nullable(),
  op: z.string().min(1).max(2),
  value: finite('value'),
  threshold: finite('threshold'),
  severity: z.string().min(1),
  /** The rule's own labels (the engine adds alertname, severity, model, metric, feature when sending). */
  labels: z.record(z.string(), z.string()),
  message: z.string(),
  /** When this event happened. */
  at: epochMs,
  /** When the alert started firing (a resolved event keeps the time its firing began). */
  startsAt: epochMs,
});
export type AlertEventRecord = z.infer<typeof AlertEventRecordSchema>;

export const ALERT_EVENT_QUERY_MAX = 10_000;

export const AlertEventQuerySchema = z.strictObject({
  /** Most events returned, newest first; default 100. */
  limit: z.int().min(1).max(ALERT_EVENT_QUERY_MAX).default(100),
  rule: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  /** Only events strictly before this time (epoch ms), to page back through the log. */
  before: epochMs.optional(),
});
export type AlertEventQuery = z.input<typeof AlertEventQuerySchema>;

/**
 * - pending: queued or being retried;
 * - delivered: a 2xx answer;
 * - failed: gave up (a 4xx other than 408/429, or every attempt failed);
 * - abandoned: still pending at shutdown when the flush deadline passed, or dropped from a full queue.
 */
export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'abandoned'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

export const WebhookDeliveryRecordSchema = z.strictObject({
  eventId: AlertEventRecordSchema.shape.id,
  /** Position of the webhook in the rule's list (two webhooks may share a redacted URL). */
  webhook: z.int().nonnegative(),
  /** The URL without credentials, query or fragment, which may hold secrets. */
  url: z.string().min(1),
  status: z.enum(WEBHOOK_DELIVERY_STATUSES),
  attempts: z.int().nonnegative(),
  /** Status of the last answer; null when none came (refused, timed out, not tried yet). */
  httpStatus: z.int().min(100).max(599).nullable(),
  /** Why the last attempt failed; null when it did not. */
  error: z.string().nullable(),
  updatedAt: epochMs,
});
export type WebhookDeliveryRecord = z.infer<typeof WebhookDeliveryRecordSchema>;

export interface AlertEventStore {
  /** Where the events are kept (no password). */
  readonly location: string;
  /** Records an event; CONFLICT when its id is already there. */
  appendEvent(event: AlertEventRecord): Promise<void>;
  /** Events newest first (by time, then by order of recording). */
  recentEvents(query?: AlertEventQuery): Promise<AlertEventRecord[]>;
  /** The alerts firing now as far as the log knows: per rule and model, the last event when it is `firing`. */
  openFiring(): Promise<AlertEventRecord[]>;
  /** Records (or updates) the outcome of delivering an event to one webhook; NOT_FOUND for an unknown event. */
  recordDelivery(delivery: WebhookDeliveryRecord): Promise<void>;
  /** The deliveries of an event, by webhook position. */
  deliveries(eventId: string): Promise<WebhookDeliveryRecord[]>;
  /** Retention: deletes the events before `time` (epoch ms) and their deliveries; returns how many events. */
  deleteEventsBefore(time: number): Promise<number>;
  close(): Promise<void>;
}

/** `https://user:token@hooks.example/x?key=secret` → `https://hooks.example/x`: what may be stored and logged. */
export function redactWebhookUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
