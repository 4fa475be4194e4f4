/**
 * The server following the registry under load: alias moves swap versions with zero failed requests,
 * rollback goes back, canary and shadow traffic, the admin token, a full queue, deadlines, shutdown.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRegistry } from '../../src/store/open.js';
import { registerRun } from '../../src/store/register-run.js';
import { rollbackRegistryAlias } from '../../src/store/registry-api.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import {
  call,
  fixtureStore,
  pixels,
  registerHalfPlusThree,
  registerMnist,
  TEST_TOKEN,
  testServer,
} from './fixtures.js';

const f = await fixtureStore();
const v1 = await registerMnist(f, 1, { aliases: ['champion'] });
await registerMnist(f, 2);
await registerMnist(f, 3);
await registerHalfPlusThree(f, { aliases: ['champion'] });
const shadowLog = join(f.dir, 'shadow.jsonl');
const server = await testServer(f, { pollIntervalMs: 50, shadowLog, models: ['mnist'] });
const admin = { authorization: `Bearer ${TEST_TOKEN}` };

const INFER = { inputs: [{ name: 'input', shape: [1, 784], datatype: 'UINT8', data: pixels(5) }] };

interface Sample {
  status: number;
  version: string | null;
  at: number;
}

/** `concurrency` clients sending requests back to back until `until()` holds. */
async function underLoad(
  s: RunningServer,
  concurrency: number,
  until: () => boolean,
  path = '/v2/models/mnist/infer',
): Promise<Sample[]> {
  const samples: Sample[] = [];
  const client = async () => {
    while (!until()) {
      const r = await call(s, 'POST', path, INFER);
      samples.push({ status: r.status, version: r.headers.get('x-model-version'), at: performance.now() });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return samples;
}

/** Runs load while `action` happens, until the answering version is `version` for 200 ms. */
async function swapUnderLoad(action: () => Promise<unknown>, version: string): Promise<Sample[]> {
  let switchedAt = Infinity;
  let acted = false;
  const deadline = performance.now() + 15_000;
  const samples = underLoad(server, 6, () => performance.now() > Math.min(deadline, switchedAt + 200));
  const watcher = (async () => {
    await new Promise((r) => setTimeout(r, 150));
    await action();
    acted = true;
    while (performance.now() < deadline) {
      const r = await call(server, 'POST', '/v2/models/mnist/infer', INFER);
      if (r.headers.get('x-model-version') === version) {
        switchedAt = performance.now();
        return;
      }
      await new Promise((res) => setTimeout(res, 10));
    }
  })();
  const [result] = await Promise.all([samples, watcher]);
  expect(acted).toBe(true);
  expect(switchedAt).toBeLessThan(Infinity);
  return result;
}

describe('hot swap and rollback', () => {
  it('moving @champion from another registry connection (as the CLI does) swaps under load with zero failed requests', async () => {
    const registry = await openRegistry(f.dir);
    const samples = await swapUnderLoad(
      () => registry.setAlias('mnist', 'champion', 2, { actor: 'cli-test' }),
      '2',
    );
    await registry.close();
    expect(samples.filter((s) => s.status !== 200)).toEqual([]);
    expect(new Set(samples.map((s) => s.version))).toEqual(new Set(['1', '2']));
    const lastOld = Math.max(...samples.filter((s) => s.version === '1').map((s) => s.at));
    const firstNew = Math.min(...samples.filter((s) => s.version === '2').map((s) => s.at));
    // Version 1 only answers requests that were already running when the table switched.
    expect(lastOld - firstNew).toBeLessThan(100);
    const status = await call(server, 'GET', '/v1/models/mnist');
    expect(status.json).toEqual({
      model_version_status: [
        { version: '2', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
      ],
    });
  });

  it('rollback is one command: the alias goes back and the server follows, again with zero failures', async () => {
    const samples = await swapUnderLoad(
      () => rollbackRegistryAlias('mnist', 'champion', { store: f.dir, reason: 'bad metrics' }),
      '1',
    );
    expect(samples.filter((s) => s.status !== 200)).toEqual([]);
    const history = await f.stores.registry.aliasHistory('mnist', 'champion');
    expect(history.map((m) => [m.action, m.fromVersion, m.toVersion])).toEqual([
      ['set', null, 1],
      ['set', 1, 2],
      ['rollback', 2, 1],
    ]);
  });

  it('the admin API moves and rolls back aliases, answering once the server has switched', async () => {
    const set = await call(
      server,
      'PUT',
      '/admin/models/mnist/aliases/champion',
      { version: 3, reason: 'try v3' },
      admin,
    );
    expect(set.status, set.text).toBe(200);
    expect((set.json as { model: { answering: number } }).model.answering).toBe(3);
    expect((await call(server, 'POST', '/v2/models/mnist/infer', INFER)).headers.get('x-model-version')).toBe(
      '3',
    );
    const back = await call(server, 'POST', '/admin/models/mnist/aliases/champion/rollback', {}, admin);
    expect((back.json as { move: { action: string; toVersion: number } }).move).toMatchObject({
      action: 'rollback',
      toVersion: 1,
    });
    expect((await call(server, 'POST', '/v2/models/mnist/infer', INFER)).headers.get('x-model-version')).toBe(
      '1',
    );
    const history = await f.stores.registry.aliasHistory('mnist', 'champion');
    expect(history.at(-2)).toMatchObject({
      toVersion: 3,
      actor: 'modelauto serve (admin API)',
      reason: 'try v3',
    });
  });
});

describe('a version that does not load', () => {
  it('leaves the answering version in place and says why in the status', async () => {
    // Version 4: version 3's artifacts, but its ONNX file is not the one its manifest hashed.
    const v3 = await f.stores.registry.getVersion('mnist', 3);
    const run = await f.stores.tracking.createRun({ kind: 'test' });
    const bogus = await f.stores.tracking.logArtifact(run.id, {
      name: 'export/onnx/float/model.onnx',
      data: 'not a model',
    });
    await f.stores.tracking.finishRun(run.id, 'finished');
    const v4 = await f.stores.registry.registerVersion('mnist', {
      artifacts: v3.artifacts.map((a) =>
        a.name === bogus.name ? { name: a.name, sha256: bogus.sha256, size: bogus.size } : a,
      ),
    });
    const set = await call(
      server,
      'PUT',
      '/admin/models/mnist/aliases/champion',
      { version: v4.version },
      admin,
    );
    expect(set.status, set.text).toBe(200);
    const state = (set.json as { model: { answering: number; failures: Record<string, string> } }).model;
    expect(state.answering).toBe(1);
    expect(state.failures[String(v4.version)]).toContain('does not match the recorded');
    const r = await call(server, 'POST', '/v2/models/mnist/infer', INFER);
    expect([r.status, r.headers.get('x-model-version')]).toEqual([200, '1']);
    const status = (await call(server, 'GET', '/v1/models/mnist')).json as {
      model_version_status: {
        version: string;
        state: string;
        status: { error_code: string; error_message: string };
      }[];
    };
    const failed = status.model_version_status.find((v) => v.version === String(v4.version));
    expect(failed?.state).toBe('END');
    expect(failed?.status.error_code).toBe('UNKNOWN');
    expect(failed?.status.error_message).toContain('refusing to serve it');
    expect((await call(server, 'POST', `/v2/models/mnist/versions/${v4.version}/infer`, INFER)).status).toBe(
      503,
    );
    // Back to version 1 for the following tests.
    expect(
      (await call(server, 'PUT', '/admin/models/mnist/aliases/champion', { version: 1 }, admin)).status,
    ).toBe(200);
  });
});

describe('canary and shadow', () => {
  it('sends the canary share to @challenger: within 5 points over 1,000 requests', async () => {
    expect((await call(server, 'PUT', '/admin/models/mnist/canary', { percent: 10 }, admin)).status).toBe(
      409,
    );
    expect(
      (await call(server, 'PUT', '/admin/models/mnist/aliases/challenger', { version: 2 }, admin)).status,
    ).toBe(200);
    const set = await call(server, 'PUT', '/admin/models/mnist/canary', { percent: 10 }, admin);
    expect(set.status, set.text).toBe(200);
    let sent = 0;
    const samples = await underLoad(server, 8, () => sent++ >= 1000);
    expect(samples.length).toBe(1000);
    expect(samples.every((s) => s.status === 200)).toBe(true);
    const share = (samples.filter((s) => s.version === '2').length / samples.length) * 100;
    expect(Math.abs(share - 10)).toBeLessThanOrEqual(5);
    expect(samples.filter((s) => s.version !== '2').every((s) => s.version === '1')).toBe(true);
    // Explicit versions are never diverted.
    const pinned = await underLoad(server, 2, () => sent++ >= 1040, '/v2/models/mnist/versions/1/infer');
    expect(pinned.every((s) => s.version === '1')).toBe(true);
    await call(server, 'DELETE', '/admin/models/mnist/canary', undefined, admin);
    const after = await underLoad(server, 4, () => sent++ >= 1100);
    expect(after.every((s) => s.version === '1')).toBe(true);
  });

  it('shadow mode: the challenger answers a copy, the client gets the champion, both are recorded', async () => {
    expect(
      (await call(server, 'PUT', '/admin/models/mnist/canary', { percent: 0, shadow: true }, admin)).status,
    ).toBe(200);
    let sent = 0;
    const samples = await underLoad(server, 4, () => sent++ >= 20);
    expect(samples.every((s) => s.status === 200 && s.version === '1')).toBe(true);
    let shadow:
      | {
          summary: { requests: number; errors: number; agreement: number | null };
          records: {
            primaryVersion: number;
            shadowVersion: number;
            primary: { output: number[] };
            shadow: { output: number[] } | null;
          }[];
        }
      | undefined;
    for (let i = 0; i < 100; i++) {
      shadow = (await call(server, 'GET', '/admin/models/mnist/shadow', undefined, admin))
        .json as typeof shadow;
      if ((shadow?.summary.requests ?? 0) >= 20) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(shadow?.summary).toMatchObject({ requests: 20, errors: 0 });
    expect(shadow?.summary.agreement).not.toBeNull();
    const rec = shadow!.records[0]!;
    expect([rec.primaryVersion, rec.shadowVersion]).toEqual([1, 2]);
    expect(rec.primary.output).toHaveLength(10);
    expect(rec.shadow?.output).toHaveLength(10);
    expect(rec.shadow?.output).not.toEqual(rec.primary.output);
    await call(server, 'DELETE', '/admin/models/mnist/canary', undefined, admin);
    await server.manager.describe('mnist');
    for (let i = 0; i < 50 && !existsSync(shadowLog); i++) await new Promise((r) => setTimeout(r, 20));
    expect(readFileSync(shadowLog, 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(1);
  });
});

describe('admin API', () => {
  const routes: [string, string, unknown?][] = [
    ['GET', '/admin/models'],
    ['GET', '/admin/models/mnist'],
    ['POST', '/admin/models/mnist/load', { version: 3 }],
    ['POST', '/admin/models/mnist/unload', {}],
    ['PUT', '/admin/models/mnist/aliases/champion', { version: 2 }],
    ['DELETE', '/admin/models/mnist/aliases/challenger'],
    ['POST', '/admin/models/mnist/aliases/champion/rollback', {}],
    ['PUT', '/admin/models/mnist/canary', { percent: 50 }],
    ['DELETE', '/admin/models/mnist/canary'],
    ['GET', '/admin/models/mnist/shadow'],
    ['GET', '/admin/not-a-route'],
  ];

  it('refuses every admin endpoint without the token, or with a wrong one, and changes nothing', async () => {
    const before = await f.stores.registry.getModel('mnist');
    for (const [method, path, body] of routes) {
      const none = await call(server, method, path, body);
      expect(none.status, `${method} ${path}`).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(Object.keys(none.json as object)).toEqual(['error']);
      const wrong = await call(server, method, path, body, {
        authorization: 'Bearer not-the-token-0123456789',
      });
      expect(wrong.status, `${method} ${path}`).toBe(401);
      const basic = await call(server, method, path, body, { authorization: `Basic ${TEST_TOKEN}` });
      expect(basic.status).toBe(401);
    }
    expect(await f.stores.registry.getModel('mnist')).toEqual(before);
    expect(server.manager.describe('mnist').answering).toBe(1);
  });

  it('is off (403) when the server has no token', async () => {
    const saved = process.env['MODELAUTO_ADMIN_TOKEN'];
    delete process.env['MODELAUTO_ADMIN_TOKEN'];
    const open = await startServer({ stores: f.stores, port: 0, pollIntervalMs: 0, models: ['mnist'] });
    try {
      for (const [method, path, body] of routes) {
        const r = await call(open, method, path, body, admin);
        expect(r.status, `${method} ${path}`).toBe(403);
        expect((r.json as { error: string }).error).toContain('MODELAUTO_ADMIN_TOKEN');
      }
    } finally {
      await open.close();
      if (saved !== undefined) process.env['MODELAUTO_ADMIN_TOKEN'] = saved;
    }
  });

  it('loads and unloads versions; an aliased version cannot be unloaded', async () => {
    expect((await call(server, 'POST', '/v2/models/mnist/versions/3/infer', INFER)).status).toBe(404);
    const load = await call(server, 'POST', '/admin/models/mnist/load', { version: 3 }, admin);
    expect(load.status, load.text).toBe(200);
    expect((await call(server, 'POST', '/v2/models/mnist/versions/3/infer', INFER)).status).toBe(200);
    expect((await call(server, 'POST', '/admin/models/mnist/unload', { version: 1 }, admin)).status).toBe(
      409,
    );
    expect((await call(server, 'POST', '/admin/models/mnist/unload', { version: 3 }, admin)).status).toBe(
      200,
    );
    expect((await call(server, 'POST', '/v2/models/mnist/versions/3/infer', INFER)).status).toBe(404);
    const bad = await call(server, 'POST', '/admin/models/mnist/load', { version: 'three' }, admin);
    expect(bad.status).toBe(400);
    expect((bad.json as { error: string }).error).toContain('body.version');
    expect((await call(server, 'POST', '/admin/models/mnist/load', { version: 99 }, admin)).status).toBe(404);
  });

  it('serves a model registered later, following its latest ready version', async () => {
    await registerRun(f.stores.tracking, f.stores.registry, v1.sourceRunId as string, 'digits');
    expect((await call(server, 'POST', '/admin/models/digits/load', {}, admin)).status).toBe(200);
    expect(
      (await call(server, 'POST', '/v2/models/digits/infer', INFER)).headers.get('x-model-version'),
    ).toBe('1');
    await registerRun(f.stores.tracking, f.stores.registry, v1.sourceRunId as string, 'digits');
    let version: string | null = null;
    for (let i = 0; i < 100 && version !== '2'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      version = (await call(server, 'POST', '/v2/models/digits/infer', INFER)).headers.get('x-model-version');
    }
    expect(version).toBe('2');
  });
});

describe('limits and shutdown', () => {
  // half_plus_three with one row per batch: a request of thousands of rows keeps the version busy for
  // thousands of turns of the event loop, long enough to be overtaken by the next request.
  const rows = (n: number) => ({ instances: Array.from({ length: n }, (_, i) => i % 100) });
  const queued = async (s: RunningServer) => {
    for (let i = 0; i < 2000; i++) {
      if ((s.manager.describe('half_plus_three').versions[0]?.queuedRows ?? 0) > 0) return;
      await new Promise((r) => setTimeout(r, 1));
    }
    throw new Error('the long request never got queued');
  };

  it('a full queue answers 503 with Retry-After and the server keeps serving', async () => {
    const s = await startServer({
      stores: f.stores,
      port: 0,
      pollIntervalMs: 0,
      models: ['half_plus_three'],
      maxBatch: 1,
      queue: 4096,
      requestTimeoutMs: 60_000,
    });
    try {
      const long = call(s, 'POST', '/v1/models/half_plus_three:predict', rows(4000));
      await queued(s);
      const full = await call(s, 'POST', '/v1/models/half_plus_three:predict', rows(1000));
      expect(full.status, full.text).toBe(503);
      expect(full.headers.get('retry-after')).toBe('1');
      expect((full.json as { error: string }).error).toContain('the queue is full');
      expect((await long).status).toBe(200);
      const ok = await call(s, 'POST', '/v1/models/half_plus_three:predict', { instances: [1, 2] });
      expect(ok.text).toBe('{"predictions":[3.5,4.0]}');
    } finally {
      await s.close();
    }
  });

  it('a request past its deadline answers 504, leaves nothing queued, and the server keeps serving', async () => {
    // 4000 one-row runs cannot finish within 1 ms (one onnxruntime call alone takes tens of microseconds).
    const s = await startServer({
      stores: f.stores,
      port: 0,
      pollIntervalMs: 0,
      models: ['half_plus_three'],
      maxBatch: 1,
      queue: 4096,
      requestTimeoutMs: 1,
    });
    try {
      const late = await call(s, 'POST', '/v1/models/half_plus_three:predict', rows(4000));
      expect(late.status, late.text).toBe(504);
      expect((late.json as { error: string }).error).toContain('did not finish within 1 ms');
      expect(s.manager.describe('half_plus_three').versions[0]?.queuedRows).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('refuses to start on a port in use, and on bad options, naming the option', async () => {
    await expect(
      startServer({ stores: f.stores, port: server.port, models: ['mnist'], pollIntervalMs: 0 }),
    ).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+: the port is in use/);
    await expect(startServer({ stores: f.stores, port: 0, maxBatch: 128, queue: 64 })).rejects.toThrow(
      'maxBatch: must not exceed queue',
    );
    await expect(startServer({ stores: f.stores, port: 0, adminToken: 'short' })).rejects.toThrow(
      'at least 16 characters',
    );
    await expect(startServer({ stores: f.stores, port: 0, models: ['Bad/Name'] })).rejects.toThrow(
      'serve.models[0]',
    );
  });

  it('graceful shutdown: requests in flight finish, new ones are refused, then everything is unloaded', async () => {
    const s = await startServer({
      stores: f.stores,
      port: 0,
      pollIntervalMs: 0,
      models: ['half_plus_three'],
      maxBatch: 1,
      queue: 4096,
    });
    const long = call(s, 'POST', '/v1/models/half_plus_three:predict', rows(3000));
    await queued(s);
    const closing = s.close();
    const refused = await call(s, 'POST', '/v1/models/half_plus_three:predict', { instances: [1] }).catch(
      (e: unknown) => e,
    );
    const done = await long;
    await closing;
    expect(done.status).toBe(200);
    // Answered during the shutdown: the client is told not to reuse the connection.
    expect(done.headers.get('connection')).toBe('close');
    expect((done.json as { predictions: number[] }).predictions).toHaveLength(3000);
    expect((done.json as { predictions: number[] }).predictions[99]).toBe(52.5);
    if (refused instanceof Error) expect(refused.message).toMatch(/ECONNREFUSED|ECONNRESET|socket hang up/);
    else expect((refused as { status: number; text: string }).status).toBe(503);
    expect(s.manager.modelNames).toEqual(['half_plus_three']);
    await expect(fetch(`${s.url}/v2/health/live`)).rejects.toThrow();
  });
});
