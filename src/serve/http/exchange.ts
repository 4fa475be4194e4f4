/**
 * One request and its response as the inference handlers see them. The same handlers answer requests
 * that come through Fastify (every route, and app.inject in tests) and through the direct lane
 * (direct.ts), which takes inference POSTs straight from node:http.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { matchInfer, matchInstances } from '../fast-body.js';
import { parseJsonBody } from '../json.js';
import type { InferenceTrace } from '../observer.js';

export interface Exchange {
  readonly headers: IncomingHttpHeaders;
  /** The observer's trace of this request (only while an observer is installed). */
  readonly trace: InferenceTrace | undefined;
  /** Sets a response header. */
  header(name: string, value: string): void;
  /** Sends `json` (a JSON text) with `status`. */
  send(status: number, json: string): void;
}

/** Traces of the requests that came through Fastify (app.ts sets and ends them). */
export const fastifyTraces = new WeakMap<FastifyRequest, InferenceTrace>();

export function fastifyExchange(request: FastifyRequest, reply: FastifyReply): Exchange {
  return {
    headers: request.headers,
    trace: fastifyTraces.get(request),
    header: (name, value) => void reply.header(name, value),
    send: (status, json) => void reply.code(status).header('content-type', 'application/json').send(json),
  };
}

/**
 * A request body as the handlers take it: the fast lane's typed arrays for the common inference
 * bodies (fast-body.ts), else the parsed JSON (a 400 naming the problem when it is not JSON).
 */
export function readBody(method: string, url: string, bytes: Buffer): unknown {
  if (method === 'POST' && url.indexOf('?') < 0) {
    const fast = url.startsWith('/v1/models/')
      ? url.endsWith(':predict')
        ? matchInstances(bytes)
        : undefined
      : url.startsWith('/v2/models/') && url.endsWith('/infer')
        ? matchInfer(bytes)
        : undefined;
    if (fast) return fast;
  }
  return parseJsonBody(bytes.toString('utf8'));
}
