/**
 * The monitored server over a PostgreSQL store: requests land in the prediction log in the store's
 * schema, feedback joins them there, and an unknown id is still a 404 naming it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMonitoredServer, type MonitoredServer } from '../../../src/monitor/server.js';
import { openStores, type Stores } from '../../../src/store/open.js';
import { call, pixels, registerMnist } from '../../serve/fixtures.js';
import { adminQuery, describePostgres, dropSchema, freshSchemaName, pgStoreUri } from '../../store/pg-env.js';

describePostgres('the monitored server on a PostgreSQL store', () => {
  const schema = freshSchemaName();
  const dir = mkdtempSync(join(tmpdir(), 'modelauto-monitor-pg-'));
  const uri = pgStoreUri(schema, join(dir, 'artifacts'));
  let stores: Stores;
  let server: MonitoredServer;

  beforeAll(async () => {
    stores = await openStores(uri);
    await registerMnist({ dir, stores }, 1, { aliases: ['champion'] });
    server = await startMonitoredServer({ store: uri, port: 0, pollIntervalMs: 0, dashboard: false });
  });

  afterAll(async () => {
    await server?.close();
    await stores?.close();
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs predictions in the store’s schema and joins feedback to them', async () => {
    const infer = {
      id: 'pg-1',
      inputs: [{ name: 'input', shape: [1, 784], datatype: 'UINT8', data: pixels(1) }],
    };
    const r = await call(server, 'POST', '/v2/models/mnist/infer', infer);
    expect(r.status, r.text).toBe(200);
    const scores = (r.json as { outputs: { data: number[] }[] }).outputs[0]?.data ?? [];
    const predicted = String(scores.indexOf(Math.max(...scores)));
    const fb = await call(server, 'POST', '/v1/models/mnist/feedback', {
      labels: [{ request_id: 'pg-1', label: predicted }],
    });
    expect(fb.status, fb.text).toBe(200);
    expect(server.monitor.quality('mnist').at(-1)).toMatchObject({ n: 1, accuracy: 1 });
    const rows = await adminQuery<{ request_id: string; n_rows: number }>(
      `SELECT request_id, n_rows FROM "${schema}".prediction_log`,
    );
    expect(rows).toEqual([{ request_id: 'pg-1', n_rows: 1 }]);
    const missing = await call(server, 'POST', '/v1/models/mnist/feedback', {
      labels: [{ request_id: 'pg-404', label: '1' }],
    });
    expect(missing.status).toBe(404);
    expect((missing.json as { error: string }).error).toContain('"pg-404"');
  });
});
