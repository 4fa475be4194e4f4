/**
 * The server's observer hook, with a plain observer (no monitor): one event per answered inference
 * request with the raw decoded inputs, the outputs and the status; batch events; extra routes; and
 * nothing at all (no generated ids) without an observer.
 */
import { describe, expect, it } from 'vitest';
import type { BatchEvent, InferenceEvent, ServeObserver } from '../../src/serve/observer.js';
import { call, fixtureStore, pixels, registerHalfPlusThree, registerMnist, testServer } from './fixtures.js';

const f = await fixtureStore();
await registerMnist(f, 1, { aliases: ['champion'] });
await registerHalfPlusThree(f, { aliases: ['champion'] });

const events: InferenceEvent[] = [];
const batches: BatchEvent[] = [];
let clock = 5_000;
const observer: ServeObserver = {
  setup(app, manager) {
    app.get('/extra', async () => ({ models: manager.modelNames }));
  },
  onInference: (e) => events.push(e),
  onBatch: (e) => batches.push(e),
  now: () => clock,
};
const observed = await testServer(f, { observer });
const plain = await testServer(f);

/** The events of the requests made by `work`. */
async function observe(work: () => Promise<unknown>): Promise<InferenceEvent[]> {
  const from = events.length;
  await work();
  // onResponse runs after the response is written: give it its turn.
  await new Promise((r) => setTimeout(r, 20));
  return events.slice(from);
}

describe('serve observer', () => {
  it('sees a successful request: ids, version, protocol, raw inputs, outputs, durations', async () => {
    clock = 7_000;
    const [e] = await observe(() =>
      call(observed, 'POST', '/v2/models/mnist/infer', {
        id: 'obs-1',
        inputs: [{ name: 'input', shape: [2, 784], datatype: 'UINT8', data: [...pixels(1), ...pixels(2)] }],
      }),
    );
    expect(e).toMatchObject({
      requestId: 'obs-1',
      model: 'mnist',
      version: 1,
      protocol: 'oip',
      status: 200,
      rows: 2,
      receivedAt: 7_000,
    });
    // The inputs as the client sent them, before the saved scaling to 0..1.
    const input = e?.inputs?.get('input');
    expect(input?.role).toBe('tensor');
    expect(Array.from(input?.role === 'tensor' ? input.data : [])).toEqual([...pixels(1), ...pixels(2)]);
    expect(e?.outputs?.rows).toBe(2);
    expect(e?.outputs?.tensors.get('output')?.data.length).toBeGreaterThanOrEqual(20);
    expect(e?.signature?.labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(e?.totalSeconds).toBeGreaterThan(0);
    expect(e?.inferenceSeconds).toBeGreaterThan(0);
    expect(e?.totalSeconds).toBeGreaterThanOrEqual(e?.inferenceSeconds ?? Infinity);
    expect(batches.some((b) => b.model === 'mnist' && b.version === 1 && b.rows === 2)).toBe(true);
  });

  it('sees failures with their status; requests for models not served are not reported', async () => {
    const seen = await observe(async () => {
      await call(observed, 'POST', '/v1/models/half_plus_three:predict', '{"instances": [1.0, "x"]}');
      await call(observed, 'POST', '/v1/models/half_plus_three:predict', '{not json');
      await call(observed, 'POST', '/v1/models/unknown:predict', '{"instances": [1.0]}');
      await call(observed, 'GET', '/v1/models/half_plus_three');
    });
    expect(seen.map((e) => [e.model, e.protocol, e.status, e.version, e.rows])).toEqual([
      // Decoded (2 rows), then refused by the saved preprocessing: "x" is not a number.
      ['half_plus_three', 'tfserving', 400, 1, 2],
      // Not even JSON: no version was chosen.
      ['half_plus_three', 'tfserving', 400, null, 0],
    ]);
    expect(seen.every((e) => e.outputs === null && e.inferenceSeconds === null)).toBe(true);
  });

  it('adds the observer’s routes', async () => {
    const r = await call(observed, 'GET', '/extra');
    expect(r.json).toEqual({ models: ['half_plus_three', 'mnist'] });
    expect((await call(plain, 'GET', '/extra')).status).toBe(404);
  });

  it('without an observer: no ids are made up, a client’s id is echoed', async () => {
    const none = await call(plain, 'POST', '/v2/models/mnist/infer', {
      inputs: [{ name: 'input', shape: [1, 784], datatype: 'UINT8', data: pixels(3) }],
    });
    expect(none.status).toBe(200);
    expect(none.headers.get('x-request-id')).toBeNull();
    expect(Object.keys(none.json as object)).not.toContain('id');
    const given = await call(
      plain,
      'POST',
      '/v1/models/half_plus_three:predict',
      { instances: [1] },
      { 'x-request-id': 'client-9' },
    );
    expect(given.headers.get('x-request-id')).toBe('client-9');
  });
});
