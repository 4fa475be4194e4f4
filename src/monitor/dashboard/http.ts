/**
 * Reply helpers shared by the dashboard's routes. The routes answer errors themselves (rather than
 * through the serving app's error handler) so that `registerDashboard` behaves the same on any
 * Fastify instance: `{"error": "<message>"}` with the status the error code maps to.
 */
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { ModelautoError, toModelautoError } from '../../core/errors.js';
import { formatZodError } from '../../core/zod-error.js';

/** Parses route params or a query string; a bad value is a 400 naming the field. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ModelautoError('INVALID_ARGUMENT', formatZodError(parsed.error, what));
}

/** JSON that is never cached: the dashboard polls it. */
export function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(body));
}

export function sendApiError(reply: FastifyReply, e: unknown): FastifyReply {
  const err = toModelautoError(e);
  const message = err.httpStatus >= 500 ? `internal error (${err.code}): ${err.message}` : err.message;
  return reply
    .code(err.httpStatus)
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send(JSON.stringify({ error: message }));
}

/** Wraps a handler so that anything it throws becomes a JSON error reply. */
export function handle<R>(
  fn: (request: R) => Promise<unknown>,
): (request: R, reply: FastifyReply) => Promise<FastifyReply> {
  return async (request, reply) => {
    try {
      return sendJson(reply, await fn(request));
    } catch (e) {
      return sendApiError(reply, e);
    }
  };
}

/** NaN and ±Infinity become null (JSON cannot carry them). */
export function num(v: number | undefined | null): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function numRecord(values: Record<string, number>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, num(v)]));
}
