/**
 * The direct lane (src/serve/http/direct.ts) answers inference POSTs without Fastify; every other
 * request, including an inference POST with a query string, goes through Fastify. Both lanes must give
 * the same answers: the same request is sent both ways here and the responses compared.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { call, fixtureStore, pixels, registerMnist, testServer, type Reply } from './fixtures.js';

const f = await fixtureStore();
await registerMnist(f, 1, { aliases: ['champion'] });
// The inference thread here (the other tests serve on the server's own thread, the default).
const server = await testServer(f, { bodyLimit: 50_000, inferenceThread: 'worker' });

/** What a client sees, minus what differs by nature (date, connection handling). */
function seen(r: Reply) {
  return {
    status: r.status,
    body: r.json ?? r.text,
    contentType: r.headers.get('content-type'),
    version: r.headers.get('x-model-version'),
    requestId: r.headers.get('x-request-id'),
    retryAfter: r.headers.get('retry-after'),
  };
}

async function bothLanes(path: string, body?: unknown, headers: Record<string, string> = {}) {
  const direct = await call(server, 'POST', path, body, headers);
  const fastify = await call(server, 'POST', `${path}?lane=fastify`, body, headers);
  expect(seen(direct)).toEqual(seen(fastify));
  return direct;
}

const INFER = {
  id: 'req-7',
  inputs: [{ name: 'input', shape: [2, 784], datatype: 'FP32', data: [...pixels(1), ...pixels(2)] }],
};

describe('the direct lane and Fastify answer alike', () => {
  it('good requests of both protocols, with request ids', async () => {
    const p = await bothLanes(
      '/v1/models/mnist:predict',
      { instances: [pixels(3)] },
      { 'x-request-id': 'abc' },
    );
    expect(p.status).toBe(200);
    expect(p.headers.get('x-request-id')).toBe('abc');
    expect((await bothLanes('/v1/models/mnist/versions/1:predict', { inputs: [pixels(4)] })).status).toBe(
      200,
    );
    const i = await bothLanes('/v2/models/mnist/infer', INFER);
    expect((i.json as { id: string }).id).toBe('req-7');
    expect(i.headers.get('x-model-version')).toBe('1');
  });

  it('bad requests: malformed JSON, an empty body, a wrong shape, an unknown model or method', async () => {
    expect((await bothLanes('/v1/models/mnist:predict', '{"instances": [[1, 2,')).status).toBe(400);
    const empty = await bothLanes('/v1/models/mnist:predict');
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('the request body is empty');
    expect((await bothLanes('/v1/models/mnist:predict', { instances: [[1, 2, 3]] })).status).toBe(400);
    expect((await bothLanes('/v1/models/nope:predict', { instances: [pixels(1)] })).status).toBe(404);
    expect((await bothLanes('/v2/models/mnist/infer', { inputs: [] })).status).toBe(400);
    expect((await bothLanes('/v1/models/mnist:classify', { examples: [{ x: 1 }] })).status).toBe(400);
  });

  it('a body over the limit, announced by Content-Length: 413 from both', async () => {
    const big = { instances: Array.from({ length: 40 }, (_, k) => pixels(k)) };
    const r = await bothLanes('/v1/models/mnist:predict', big);
    expect(r.status).toBe(413);
    expect(r.text).toContain("larger than the server's limit of 50000 bytes");
  });
});

/** A chunked upload (no Content-Length), written in pieces. */
function chunked(path: string, pieces: string[]): Promise<{ status: number; text: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    // The server may close the connection before the whole upload is written.
    req.on('error', (e) =>
      e.message.includes('EPIPE') || e.message.includes('ECONNRESET') ? undefined : reject(e),
    );
    for (const p of pieces) req.write(p);
    req.end();
  });
}

describe('chunked uploads on the direct lane', () => {
  it('reads a body sent in chunks', async () => {
    const text = JSON.stringify({ instances: [pixels(5)] });
    const r = await chunked('/v1/models/mnist:predict', [
      text.slice(0, 100),
      text.slice(100, 1000),
      text.slice(1000),
    ]);
    expect(r.status, r.text).toBe(200);
    const one = await call(server, 'POST', '/v1/models/mnist:predict', { instances: [pixels(5)] });
    expect(JSON.parse(r.text)).toEqual(one.json);
  });

  it('refuses a chunked body once it passes the limit (413), and keeps serving', async () => {
    const piece = `[${pixels(6).join(',')}],`;
    const r = await chunked('/v1/models/mnist:predict', [
      '{"instances": [',
      ...Array.from({ length: 40 }, () => piece),
      '[0]]}',
    ]);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.text)).toEqual({
      error: "the request body is larger than the server's limit of 50000 bytes (--body-limit)",
    });
    expect((await call(server, 'POST', '/v1/models/mnist:predict', { instances: [pixels(1)] })).status).toBe(
      200,
    );
  });
});
