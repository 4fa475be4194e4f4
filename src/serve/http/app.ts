/**
 * The Fastify application: one JSON body parser for every content type (curl -d sends
 * application/x-www-form-urlencoded, and TF Serving clients rely on that working), the body size
 * limit, `{"error": ...}` for every failure including the framework's own, the admin token check on
 * every /admin URL, and the bookkeeping a graceful shutdown needs (requests in flight, refusing new ones).
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { parseJsonBody } from '../json.js';
import { authorize, registerAdmin } from './admin.js';
import type { ServerContext } from './context.js';
import { HttpError, sendError } from './errors.js';
import { installObserver } from '../observer.js';
import { registerOip } from './oip.js';
import { registerTfServing } from './tfserving.js';

export interface AppState {
  closing: boolean;
  /** Requests received and not yet answered. */
  inflight: number;
  /** Requests received whose handler has not started (body still coming in): batches may wait for them. */
  receiving: number;
  /** Called whenever a request finishes. */
  onIdle: (() => void) | undefined;
}

export function buildApp(ctx: ServerContext, state: AppState): FastifyInstance {
  const arrivals = new WeakMap<FastifyRequest, boolean>();
  const arrived = (request: FastifyRequest) => {
    if (arrivals.get(request) === false) {
      arrivals.set(request, true);
      state.receiving--;
    }
  };

  const app = Fastify({
    bodyLimit: ctx.bodyLimit,
    logger: false,
    // Closing is handled below, so the 503 body is `{"error": ...}` like every other error.
    return503OnClosing: false,
    // Time to receive a whole request (slow uploads); handling has its own deadline.
    requestTimeout: Math.max(ctx.requestTimeoutMs, 30_000),
    keepAliveTimeout: 65_000,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  app.addHook('onRequest', (request, reply, done) => {
    if (state.closing) {
      reply.header('connection', 'close').header('retry-after', '1');
      sendError(
        reply,
        new HttpError(503, 'UNAVAILABLE', 'the server is shutting down; retry on another instance'),
        ctx.bodyLimit,
      );
      return;
    }
    state.inflight++;
    state.receiving++;
    arrivals.set(request, false);
    reply.raw.once('close', () => {
      arrived(request);
      state.inflight--;
      if (state.inflight === 0) state.onIdle?.();
    });
    if (request.url.startsWith('/admin')) {
      try {
        authorize(request, ctx.adminToken);
      } catch (e) {
        sendError(reply, e, ctx.bodyLimit);
        return;
      }
    }
    done();
  });

  app.addHook('preHandler', (request, _reply, done) => {
    arrived(request);
    done();
  });

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

  if (ctx.observer) installObserver(app, ctx.observer, ctx.manager, ctx.log);
  registerTfServing(app, ctx);
  registerOip(app, ctx);
  registerAdmin(app, ctx);
  return app;
}
