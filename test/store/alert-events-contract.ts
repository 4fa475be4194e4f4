/**
 * The behaviour every AlertEventStore backend must have. A backend's test file calls
 * describeAlertEventStoreContract with a factory that makes a fresh, empty store and returns its
 * URI; the suite opens it through openAlertEventStore, so the URI wiring is tested too.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAlertEventStore } from '../../src/store/alert-events-open.js';
import { ALERT_SCHEMA_VERSION } from '../../src/store/alert-events-schema.js';
import type {
  AlertEventRecord,
  AlertEventStore,
  WebhookDeliveryRecord,
} from '../../src/store/alert-events.js';
import { openStores } from '../../src/store/open.js';
import { expectError } from './contract.js';

export interface AlertEventStoreFixture {
  /** URI of a fresh, empty store. */
  uri: string;
  /** Raw SQL on the store's database, to look under the API. */
  rawQuery: (sql: string) => Promise<Record<string, unknown>[]>;
  cleanup: () => Promise<void>;
}

let counter = 0;

function event(overrides: Partial<AlertEventRecord> = {}): AlertEventRecord {
  counter++;
  return {
    id: `evt-${counter}-${Math.random().toString(36).slice(2, 10)}`,
    rule: 'drift-high',
    kind: 'firing',
    model: 'mnist',
    metric: 'drift_share',
    feature: null,
    op: '>',
    value: 0.625,
    threshold: 0.5,
    severity: 'critical',
    labels: { team: 'vision', note: 'é ✓' },
    message: 'drift_share of mnist is 0.625, > 0.5',
    at: 1_700_000_000_000,
    startsAt: 1_700_000_000_000,
    ...overrides,
  };
}

function delivery(eventId: string, overrides: Partial<WebhookDeliveryRecord> = {}): WebhookDeliveryRecord {
  return {
    eventId,
    webhook: 0,
    url: 'http://127.0.0.1:9/hook',
    status: 'pending',
    attempts: 0,
    httpStatus: null,
    error: null,
    updatedAt: 1_700_000_000_500,
    ...overrides,
  };
}

export function describeAlertEventStoreContract(
  name: string,
  makeFixture: () => Promise<AlertEventStoreFixture>,
): void {
  describe(`AlertEventStore contract: ${name}`, () => {
    let fx: AlertEventStoreFixture;
    let store: AlertEventStore;
    beforeEach(async () => {
      fx = await makeFixture();
      store = await openAlertEventStore(fx.uri);
    });
    afterEach(async () => {
      await store.close();
      await fx.cleanup();
    });

    it('records events and returns them newest first, field for field', async () => {
      const a = event({ at: 1000, startsAt: 1000 });
      const b = event({
        kind: 'resolved',
        at: 3000,
        startsAt: 1000,
        value: -0.25,
        model: null,
        feature: 'px_3',
      });
      const c = event({
        rule: 'latency',
        metric: 'p99_latency_seconds',
        at: 2000,
        startsAt: 2000,
        labels: {},
      });
      for (const e of [a, b, c]) await store.appendEvent(e);
      expect(await store.recentEvents()).toEqual([b, c, a]);
      expect(await store.recentEvents({ limit: 2 })).toEqual([b, c]);
    });

    it('orders events of the same time by the order they were recorded', async () => {
      const first = event({ at: 5000 });
      const second = event({ at: 5000 });
      await store.appendEvent(first);
      await store.appendEvent(second);
      expect((await store.recentEvents()).map((e) => e.id)).toEqual([second.id, first.id]);
    });

    it('filters by rule, model and time', async () => {
      const a = event({ rule: 'r1', model: 'm1', at: 100 });
      const b = event({ rule: 'r1', model: 'm2', at: 200 });
      const c = event({ rule: 'r2', model: 'm1', at: 300 });
      for (const e of [a, b, c]) await store.appendEvent(e);
      expect((await store.recentEvents({ rule: 'r1' })).map((e) => e.id)).toEqual([b.id, a.id]);
      expect((await store.recentEvents({ model: 'm1' })).map((e) => e.id)).toEqual([c.id, a.id]);
      expect((await store.recentEvents({ before: 300 })).map((e) => e.id)).toEqual([b.id, a.id]);
      expect(await store.recentEvents({ rule: 'r2', model: 'm2' })).toEqual([]);
    });

    it('refuses a duplicate id and invalid events, naming the field', async () => {
      const e = event();
      await store.appendEvent(e);
      await expectError(store.appendEvent({ ...e, at: 9 }), 'CONFLICT', /already recorded/);
      const nan = await expectError(store.appendEvent(event({ value: Number.NaN })), 'INVALID_ARGUMENT');
      expect(nan.location?.path).toBe('appendEvent.value');
      await expectError(
        store.appendEvent({ ...event(), kind: 'pending' as 'firing' }),
        'INVALID_ARGUMENT',
        /appendEvent\.kind/,
      );
      await expectError(store.recentEvents({ limit: 0 }), 'INVALID_ARGUMENT', /recentEvents\.limit/);
      expect(await store.recentEvents()).toEqual([e]);
    });

    it('lists the alerts still firing: per rule and model, the last event when it fires', async () => {
      const t = (at: number) => ({ at, startsAt: at });
      const fired = event({ rule: 'a', model: 'm1', ...t(1) });
      await store.appendEvent(fired);
      await store.appendEvent(event({ rule: 'a', model: 'm1', kind: 'resolved', ...t(2) }));
      const refired = event({ rule: 'a', model: 'm1', ...t(3) });
      await store.appendEvent(refired);
      const other = event({ rule: 'a', model: 'm2', ...t(4) });
      await store.appendEvent(other);
      await store.appendEvent(event({ rule: 'b', model: 'm1', ...t(5) }));
      await store.appendEvent(event({ rule: 'b', model: 'm1', kind: 'resolved', ...t(6) }));
      const noModel = event({ rule: 'c', model: null, ...t(7) });
      await store.appendEvent(noModel);
      // A resolved event of another series (model m1 of rule c) does not close the model-less one.
      await store.appendEvent(event({ rule: 'c', model: 'm1', kind: 'resolved', ...t(8) }));
      expect((await store.openFiring()).map((e) => e.id)).toEqual([refired.id, other.id, noModel.id]);
    });

    it('records delivery outcomes, updating a delivery as its attempts go on', async () => {
      const e = event();
      await store.appendEvent(e);
      await store.recordDelivery(delivery(e.id, { webhook: 1, url: 'https://hooks.example/b' }));
      await store.recordDelivery(delivery(e.id));
      await store.recordDelivery(
        delivery(e.id, { status: 'pending', attempts: 2, httpStatus: 500, error: 'HTTP 500', updatedAt: 2 }),
      );
      await store.recordDelivery(
        delivery(e.id, { status: 'delivered', attempts: 3, httpStatus: 200, updatedAt: 3 }),
      );
      expect(await store.deliveries(e.id)).toEqual([
        delivery(e.id, { status: 'delivered', attempts: 3, httpStatus: 200, updatedAt: 3 }),
        delivery(e.id, { webhook: 1, url: 'https://hooks.example/b' }),
      ]);
      expect(await store.deliveries('unknown-event')).toEqual([]);
      await expectError(store.recordDelivery(delivery('unknown-event')), 'NOT_FOUND', /no alert event/);
      await expectError(
        store.recordDelivery(delivery(e.id, { status: 'lost' as 'failed' })),
        'INVALID_ARGUMENT',
        /recordDelivery\.status/,
      );
    });

    it('deletes old events with their deliveries (retention)', async () => {
      const old = event({ at: 100, startsAt: 100 });
      const kept = event({ at: 200, startsAt: 200 });
      await store.appendEvent(old);
      await store.appendEvent(kept);
      await store.recordDelivery(delivery(old.id));
      await store.recordDelivery(delivery(kept.id));
      expect(await store.deleteEventsBefore(200)).toBe(1);
      expect(await store.recentEvents()).toEqual([kept]);
      expect(await store.deliveries(old.id)).toEqual([]);
      expect(await store.deliveries(kept.id)).toHaveLength(1);
      expect(await fx.rawQuery('SELECT event_id FROM alert_deliveries')).toEqual([{ event_id: kept.id }]);
    });

    it('keeps events across reopening, in the same database as the runs and the registry', async () => {
      const e = event();
      await store.appendEvent(e);
      await store.close();
      const stores = await openStores(fx.uri);
      try {
        const run = await stores.tracking.createRun({ kind: 'train' });
        expect(run.status).toBe('running');
        expect(await stores.registry.listModels()).toEqual([]);
      } finally {
        await stores.close();
      }
      store = await openAlertEventStore(fx.uri);
      expect(await store.recentEvents()).toEqual([e]);
      const runs = await fx.rawQuery('SELECT COUNT(*) AS n FROM runs');
      expect(Number(runs[0]?.['n'])).toBe(1);
    });

    it('applies its migrations once, however many stores open at the same time', async () => {
      const more = await Promise.all([openAlertEventStore(fx.uri), openAlertEventStore(fx.uri)]);
      await Promise.all(more.map((s) => s.close()));
      const ledger = await fx.rawQuery('SELECT version FROM alert_schema_migrations ORDER BY version');
      expect(ledger.map((r) => Number(r['version']))).toEqual(
        Array.from({ length: ALERT_SCHEMA_VERSION }, (_, i) => i + 1),
      );
    });

    it('keeps events append-only in the database itself', async () => {
      await store.appendEvent(event());
      await expect(fx.rawQuery(`UPDATE alert_events SET value = 0`)).rejects.toThrow(/append-only/);
    });
  });
}
