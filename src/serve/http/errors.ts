/**
 * Every error leaves the server as `{"error": "<message>"}` (the body both protocols define) with the
 * status its cause deserves: the ModelautoError code's status, or the few HTTP-only cases below.
 */
import type { FastifyReply } from 'fastify';
import { ModelautoError, type ErrorCode } from '../../core/errors.js';
import { QueueFullError } from '../batcher.js';

/** A ModelautoError with an HTTP status its code does not map to (401, 403, 405, 413, 504). */
export class HttpError extends ModelautoError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
  }

  override get httpStatus(): number {
    return this.status;
  }
}

/** The 503 a server that is shutting down answers (either lane). */
export function shuttingDown(): HttpError {
  return new HttpError(503, 'UNAVAILABLE', 'the server is shutting down; retry on another instance', {
    connection: 'close',
    'retry-after': '1',
  });
}

/** The 413 of a body over the limit; the connection is closed rather than read to its end. */
export function tooLarge(bodyLimit: number): HttpError {
  return new HttpError(
    413,
    'INVALID_ARGUMENT',
    `the request body is larger than the server's limit of ${bodyLimit} bytes (--body-limit)`,
    { connection: 'close' },
  );
}

interface FrameworkError {
  statusCode?: number;
  code?: string;
  message?: string;
}

function frameworkMessage(e: FrameworkError, bodyLimit: number): string {
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return tooLarge(bodyLimit).message;
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'malformed JSON: the request body is empty; expected a JSON object';
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'the request body does not match its Content-Length header';
    default:
      return e.message ?? 'bad request';
  }
}

/** Status, headers and message for anything a handler or the framework threw. */
export function describeError(
  e: unknown,
  bodyLimit: number,
): { status: number; message: string; headers: Record<string, string> } {
  if (e instanceof QueueFullError) {
    return { status: 503, message: e.message, headers: { 'retry-after': String(e.retryAfterSeconds) } };
  }
  if (e instanceof HttpError) return { status: e.status, message: e.message, headers: e.headers };
  if (e instanceof ModelautoError) return { status: e.httpStatus, message: e.message, headers: {} };
  const f = (typeof e === 'object' && e !== null ? e : {}) as FrameworkError;
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    return { status: f.statusCode, message: frameworkMessage(f, bodyLimit), headers: {} };
  }
  return {
    status: 500,
    message: `internal error: ${e instanceof Error ? e.message : String(e)}`,
    headers: {},
  };
}

export function sendError(reply: FastifyReply, e: unknown, bodyLimit: number): FastifyReply {
  const { status, message, headers } = describeError(e, bodyLimit);
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  return reply
    .code(status)
    .header('content-type', 'application/json')
    .send(JSON.stringify({ error: message }));
}
