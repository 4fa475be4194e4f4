/**
 * What a webhook receives: the JSON body Alertmanager's webhook receiver sends (version 4, one alert
 * per notification), so existing receivers (Slack bridges, PagerDuty adapters, alertmanager-webhook
 * loggers) can take modelauto alerts as they are. modelauto adds `value`, `threshold` and `eventId`
 * (the same id in the `X-Modelauto-Event` header; receivers can use it to drop duplicates after a
 * retry whose first answer was lost).
 */
import { createHash } from 'node:crypto';
import type { AlertEventRecord } from '../../store/alert-events.js';
import type { AlertRule } from './rule.js';

/** Alertmanager's `endsAt` for an alert that has not ended. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
  value: number;
  threshold: number;
}

export interface AlertWebhookPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: 0;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: [WebhookAlert];
  eventId: string;
  rule: string;
  model: string | null;
  value: number;
  threshold: number;
}

/** The labels identifying an alert: the rule's own plus those the engine sets (they win, see RESERVED_LABELS). */
export function alertLabels(event: AlertEventRecord): Record<string, string> {
  return {
    ...event.labels,
    alertname: event.rule,
    severity: event.severity,
    metric: event.metric,
    ...(event.model !== null ? { model: event.model } : {}),
    ...(event.feature !== null ? { feature: event.feature } : {}),
  };
}

export function webhookPayload(
  event: AlertEventRecord,
  rule: Pick<AlertRule, 'annotations'> | undefined,
  externalUrl = '',
): AlertWebhookPayload {
  const labels = alertLabels(event);
  const annotations = { summary: event.message, ...(rule?.annotations ?? {}) };
  const alert: WebhookAlert = {
    status: event.kind,
    labels,
    annotations,
    startsAt: new Date(event.startsAt).toISOString(),
    endsAt: event.kind === 'resolved' ? new Date(event.at).toISOString() : ZERO_TIME,
    generatorURL: externalUrl,
    fingerprint: fingerprint(labels),
    value: event.value,
    threshold: event.threshold,
  };
  return {
    version: '4',
    groupKey: `{}:{alertname=${JSON.stringify(event.rule)}}`,
    truncatedAlerts: 0,
    status: event.kind,
    receiver: 'modelauto',
    groupLabels: { alertname: event.rule },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: externalUrl,
    alerts: [alert],
    eventId: event.id,
    rule: event.rule,
    model: event.model,
    value: event.value,
    threshold: event.threshold,
  };
}

/** 16 hex digits identifying the label set, stable across firing and resolved (as Alertmanager's). */
export function fingerprint(labels: Record<string, string>): string {
  const canonical = Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k] ?? ''}`)
    .join('\u0001');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
