/**
 * The server over a PostgreSQL store: the same registry contract, so the same serving; an alias moved
 * from another connection is followed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openRegistry, openStores, type Stores } from '../../src/store/open.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { describePostgres, dropSchema, freshSchemaName, pgStoreUri } from '../store/pg-env.js';
import { call, pixels, registerMnist } from './fixtures.js';

describePostgres('serving from a PostgreSQL store', () => {
  const schema = freshSchemaName();
  const dir = mkdtempSync(join(tmpdir(), 'modelauto-serve-pg-'));
  const uri = pgStoreUri(schema, join(dir, 'artifacts'));
  let stores: Stores;
  let server: RunningServer;

  beforeAll(async () => {
    stores = await openStores(uri);
    await registerMnist({ dir, stores }, 1, { aliases: ['champion'] });
    await registerMnist({ dir, stores }, 2);
    server = await startServer({ store: uri, port: 0, pollIntervalMs: 50, models: ['mnist'] });
  });

  afterAll(async () => {
    await server?.close();
    await stores?.close();
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  it('predicts, and follows an alias moved from another connection', async () => {
    const infer = { inputs: [{ name: 'input', shape: [1, 784], datatype: 'UINT8', data: pixels(1) }] };
    const first = await call(server, 'POST', '/v2/models/mnist/infer', infer);
    expect(first.status, first.text).toBe(200);
    expect((first.json as { model_version: string }).model_version).toBe('1');
    const registry = await openRegistry(uri);
    await registry.setAlias('mnist', 'champion', 2, { actor: 'test' });
    await registry.close();
    let version = '1';
    for (let i = 0; i < 200 && version !== '2'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      version = (
        (await call(server, 'POST', '/v2/models/mnist/infer', infer)).json as { model_version: string }
      ).model_version;
    }
    expect(version).toBe('2');
  });
});
