/**
 * The alert event log over SQL, written once for SQLite and PostgreSQL (they differ only in the
 * driver and the migrations, see alert-events-schema.ts and alert-events-open.ts).
 */
import { ModelautoError } from '../core/errors.js';
import {
  AlertEventQuerySchema,
  AlertEventRecordSchema,
  WebhookDeliveryRecordSchema,
  type AlertEventQuery,
  type AlertEventRecord,
  type AlertEventStore,
  type WebhookDeliveryRecord,
} from './alert-events.js';
import { all, get, run, type SqlArg, type SqlDriver, type SqlScript } from './sql-script.js';
import { parseInput } from './validate.js';

interface EventRow {
  id: string;
  rule: string;
  kind: AlertEventRecord['kind'];
  model: string | null;
  metric: string;
  feature: string | null;
  op: string;
  value: number;
  threshold: number;
  severity: string;
  labels_json: string;
  message: string;
  at: number;
  starts_at: number;
}

interface DeliveryRow {
  event_id: string;
  webhook: number;
  url: string;
  status: WebhookDeliveryRecord['status'];
  attempts: number;
  http_status: number | null;
  error: string | null;
  updated_at: number;
}

const EVENT_COLUMNS =
  'id, rule, kind, model, metric, feature, op, value, threshold, severity, labels_json, message, at, starts_at';

export class SqlAlertEventStore implements AlertEventStore {
  readonly location: string;

  protected constructor(private readonly db: SqlDriver) {
    this.location = db.location;
  }

  async appendEvent(event: AlertEventRecord): Promise<void> {
    const e = parseInput(AlertEventRecordSchema, event, 'appendEvent');
    const where = this.location;
    await this.db.write('appendEvent', function* (): SqlScript<void> {
      const existing = yield* get<{ id: string }>('SELECT id FROM alert_events WHERE id = ?', e.id);
      if (existing) {
        throw new ModelautoError('CONFLICT', `alert event ${e.id} is already recorded in ${where}`, {
          location: { path: 'appendEvent.id' },
        });
      }
      yield* run(
        `INSERT INTO alert_events (${EVENT_COLUMNS}, model_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        e.id,
        e.rule,
        e.kind,
        e.model,
        e.metric,
        e.feature,
        e.op,
        e.value,
        e.threshold,
        e.severity,
        JSON.stringify(e.labels),
        e.message,
        e.at,
        e.startsAt,
        e.model ?? '',
      );
    });
  }

  async recentEvents(query: AlertEventQuery = {}): Promise<AlertEventRecord[]> {
    const q = parseInput(AlertEventQuerySchema, query, 'recentEvents');
    const filters: string[] = [];
    const args: SqlArg[] = [];
    if (q.rule !== undefined) {
      filters.push('rule = ?');
      args.push(q.rule);
    }
    if (q.model !== undefined) {
      filters.push('model = ?');
      args.push(q.model);
    }
    if (q.before !== undefined) {
      filters.push('at < ?');
      args.push(q.before);
    }
    const where = filters.length > 0 ? `WHERE ${filters.join(' AND ')}` : '';
    const rows = await this.db.read('recentEvents', function* (): SqlScript<EventRow[]> {
      return yield* all<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM alert_events ${where} ORDER BY at DESC, seq DESC LIMIT ?`,
        ...args,
        q.limit,
      );
    });
    return rows.map(eventFromRow);
  }

  async openFiring(): Promise<AlertEventRecord[]> {
    const rows = await this.db.read('openFiring', function* (): SqlScript<EventRow[]> {
      return yield* all<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM alert_events e
          WHERE e.kind = 'firing'
            AND e.seq = (SELECT MAX(x.seq) FROM alert_events x WHERE x.rule = e.rule AND x.model_key = e.model_key)
          ORDER BY e.seq`,
      );
    });
    return rows.map(eventFromRow);
  }

  async recordDelivery(delivery: WebhookDeliveryRecord): Promise<void> {
    const d = parseInput(WebhookDeliveryRecordSchema, delivery, 'recordDelivery');
    const where = this.location;
    await this.db.write('recordDelivery', function* (): SqlScript<void> {
      const event = yield* get<{ id: string }>('SELECT id FROM alert_events WHERE id = ?', d.eventId);
      if (!event) {
        throw new ModelautoError('NOT_FOUND', `no alert event with id ${d.eventId} in ${where}`, {
          location: { path: 'recordDelivery.eventId' },
        });
      }
      yield* run(
        `INSERT INTO alert_deliveries (event_id, webhook, url, status, attempts, http_status, error, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (event_id, webhook) DO UPDATE SET url = excluded.url, status = excluded.status,
           attempts = excluded.attempts, http_status = excluded.http_status, error = excluded.error,
           updated_at = excluded.updated_at`,
        d.eventId,
        d.webhook,
        d.url,
        d.status,
        d.attempts,
        d.httpStatus,
        d.error,
        d.updatedAt,
      );
    });
  }

  async deliveries(eventId: string): Promise<WebhookDeliveryRecord[]> {
    const id = parseInput(AlertEventRecordSchema.shape.id, eventId, 'deliveries.eventId');
    const rows = await this.db.read('deliveries', function* (): SqlScript<DeliveryRow[]> {
      return yield* all<DeliveryRow>(
        `SELECT event_id, webhook, url, status, attempts, http_status, error, updated_at
           FROM alert_deliveries WHERE event_id = ? ORDER BY webhook`,
        id,
      );
    });
    return rows.map((r) => ({
      eventId: r.event_id,
      webhook: r.webhook,
      url: r.url,
      status: r.status,
      attempts: r.attempts,
      httpStatus: r.http_status,
      error: r.error,
      updatedAt: r.updated_at,
    }));
  }

  async deleteEventsBefore(time: number): Promise<number> {
    const t = parseInput(AlertEventRecordSchema.shape.at, time, 'deleteEventsBefore.time');
    return this.db.write('deleteEventsBefore', function* (): SqlScript<number> {
      // Deliveries go with their events (ON DELETE CASCADE).
      return yield* run('DELETE FROM alert_events WHERE at < ?', t);
    });
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

function eventFromRow(r: EventRow): AlertEventRecord {
  return {
    id: r.id,
    rule: r.rule,
    kind: r.kind,
    model: r.model,
    metric: r.metric,
    feature: r.feature,
    op: r.op,
    value: r.value,
    threshold: r.threshold,
    severity: r.severity,
    labels: JSON.parse(r.labels_json) as Record<string, string>,
    message: r.message,
    at: r.at,
    startsAt: r.starts_at,
  };
}
