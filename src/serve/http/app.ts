/**
 * The Fastify application: one JSON body parser for every content type (curl -d sends
 * application/x-www-form-urlencoded, and TF Serving clients rely on that working), the body size
 * limit, `{"error": ...}` for every failure including the framework's own, the admin token check on
 * every /admin URL, and the bookkeeping a graceful shutdown needs (requests in flight, refusing new ones).
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { createServer } from 'node:http';
import { RequestTracer } from '../observer.js';
import { authorize, registerAdmin } from './admin.js';
import type { ServerContext } from './context.js';
import { directLane } from './direct.js';
import { HttpError, sendError, shuttingDown } from './errors.js';
import { fastifyTraces, readBody } from './exchange.js';
import { registerOip } from './oip.js';
import { registerTfServing } from './tfserving.js';

export interface AppState {
  closing: boolean;
  /** Requests received and not yet answered. */
  inflight: number;
  /** Requests whose body is still coming in (not parsed yet): batches may wait for them. */
  receiving: number;
  /** Called whenever a request finishes. */
  onIdle: (() => void) | undefined;
}

export function buildApp(ctx: ServerContext, state: AppState): FastifyInstance {
  /** Requests counted in state.receiving. */
  const receiving = new WeakSet<FastifyRequest>();
  const arrived = (request: FastifyRequest) => {
    if (receiving.delete(request)) state.receiving--;
  };
  const tracer = ctx.observer ? new RequestTracer(ctx.observer, ctx.manager, ctx.log) : undefined;

  const direct = directLane(ctx, state, tracer);
  // Time to receive a whole request (slow uploads); handling has its own deadline.
  const requestTimeout = Math.max(ctx.requestTimeoutMs, 30_000);
  const app = Fastify({
    // One node:http server for both lanes: inference POSTs take the direct lane (direct.ts).
    serverFactory: (handler) =>
      createServer({ keepAliveTimeout: 65_000, requestTimeout }, (req, res) => {
        if (!direct(req, res)) handler(req, res);
      }),
    bodyLimit: ctx.bodyLimit,
    logger: false,
    // Closing is handled below, so the 503 body is `{"error": ...}` like every other error.
    return503OnClosing: false,
    requestTimeout,
    keepAliveTimeout: 65_000,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    // The body is in: batches need not wait for this request any longer.
    arrived(request);
    try {
      const bytes = body as Buffer;
      done(null, readBody(request.method, request.url, bytes));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  // One onRequest hook for everything a request needs on arrival (each hook costs every request):
  // refusing while closing, the bookkeeping of requests in flight and still arriving, the admin
  // token, the observer's trace. (Requests in flight are counted, not collected: a Set of the
  // responses, churned at thousands a second, made every young-generation GC copy them and
  // tripled the GC time.)
  app.addHook('onRequest', (request, reply, done) => {
    if (state.closing) {
      sendError(reply, shuttingDown(), ctx.bodyLimit);
      return;
    }
    const res = reply.raw;
    state.inflight++;
    const headers = request.headers;
    if (headers['transfer-encoding'] !== undefined || Number(headers['content-length']) > 0) {
      state.receiving++;
      receiving.add(request);
    }
    res.on('close', () => {
      arrived(request);
      state.inflight--;
      const trace = fastifyTraces.get(request);
      if (trace) {
        fastifyTraces.delete(request);
        tracer?.end(trace, request.url, res.statusCode, res.writableFinished);
      }
      if (state.inflight === 0) state.onIdle?.();
    });
    try {
      if (request.url.startsWith('/admin')) authorize(request, ctx.adminToken);
      const trace = tracer?.begin(request.method, request.url, request.headers, (n, v) => reply.header(n, v));
      if (trace) fastifyTraces.set(request, trace);
    } catch (e) {
      sendError(reply, e, ctx.bodyLimit);
      return;
    }
    done();
  });

  // Answers sent while the server is stopping tell the client not to reuse the connection.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (state.closing) reply.header('connection', 'close');
    done(null, payload);
  });

  app.setErrorHandler((error, _request, reply) => {
    sendError(reply, error, ctx.bodyLimit);
  });

  app.setNotFoundHandler((request, reply) => {
    sendError(
      reply,
      new HttpError(
        404,
        'NOT_FOUND',
        `no route for ${request.method} ${request.url.split('?')[0]}: this server speaks TF Serving REST (/v1/models/...) ` +
          `and the Open Inference Protocol v2 (/v2/...); the admin API is under /admin/models`,
      ),
      ctx.bodyLimit,
    );
  });

  ctx.observer?.setup?.(app, ctx.manager);
  registerTfServing(app, ctx);
  registerOip(app, ctx);
  registerAdmin(app, ctx);
  return app;
}
