/**
 * What the route handlers share, and the one inference path both protocols take: route to a version,
 * decode against its signature, check the batch, run it through the batcher within the request's
 * deadline, answer, then (shadow mode) let the challenger answer a copy for the record.
 */
import { ModelautoError } from '../../core/errors.js';
import type { DecodedRequest } from '../decode-tf.js';
import type { ModelManager, Routed } from '../manager.js';
import { adoptRequestId, REQUEST_ID_HEADER, type ServeObserver } from '../observer.js';
import type { ServedOutputs, ServedVersion } from '../served-version.js';
import type { ShadowRecorder } from '../shadow.js';
import type { ServedSignature } from '../signature.js';
import type { Deadlines } from './deadlines.js';
import type { Exchange } from './exchange.js';
import type { ModelTarget } from './paths.js';

export interface ServerContext {
  manager: ModelManager;
  shadow: ShadowRecorder;
  /** Most rows one request may carry. */
  maxRequestRows: number;
  requestTimeoutMs: number;
  /** The per-request deadlines (requestTimeoutMs). */
  deadlines: Deadlines;
  bodyLimit: number;
  adminToken: string | undefined;
  log: (line: string) => void;
  /** Sees every inference request (see observer.ts); undefined: nothing is traced. */
  observer?: ServeObserver;
}

/** The header that tells which version answered (both protocols; OIP also has model_version). */
export const VERSION_HEADER = 'x-model-version';

/** The parsed body of a request that must have one. */
export function bodyOf(body: unknown): unknown {
  if (body === undefined || body === null) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      'malformed JSON: the request body is empty; expected a JSON object',
    );
  }
  return body;
}

/**
 * `clientId`: the id the request body carries (OIP's `id`); `respond` gets the request's id (that one,
 * else the `x-request-id` header, else a generated one when an observer is installed).
 */
export async function runInference(
  ctx: ServerContext,
  ex: Exchange,
  target: ModelTarget,
  decode: (sig: ServedSignature) => DecodedRequest,
  respond: (out: ServedOutputs, version: ServedVersion, requestId: string | undefined) => string,
  clientId?: string,
): Promise<void> {
  const trace = ex.trace;
  let requestId: string | undefined;
  if (trace) {
    if (clientId !== undefined) adoptRequestId(trace, ex, clientId);
    requestId = trace.requestId;
  } else {
    const header = ex.headers[REQUEST_ID_HEADER];
    requestId = clientId ?? (typeof header === 'string' ? header : undefined);
    if (typeof header === 'string') ex.header(REQUEST_ID_HEADER, header);
  }
  const routed = ctx.manager.route(target.model, {
    ...(target.version !== undefined ? { version: target.version } : {}),
    ...(target.label !== undefined ? { label: target.label } : {}),
  });
  const version = routed.version;
  if (trace) {
    trace.model = version.model;
    trace.version = version.version;
    trace.signature = version.signature;
  }
  let body: string;
  const started = performance.now();
  let out: ServedOutputs;
  try {
    const req = decode(version.signature);
    if (req.rows > ctx.maxRequestRows) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `the batch has ${req.rows} rows; the server takes at most ${ctx.maxRequestRows} per request: split it`,
      );
    }
    if (trace) {
      trace.rows = req.rows;
      trace.inputs = req.inputs;
    }
    const inferStarted = performance.now();
    out = await inferWithin(ctx, version, req);
    if (trace) {
      trace.inferenceSeconds = (performance.now() - inferStarted) / 1000;
      trace.outputs = out;
    }
    body = respond(out, version, requestId);
  } finally {
    version.release();
  }
  const ms = performance.now() - started;
  ex.header(VERSION_HEADER, String(version.version));
  ex.send(200, body);
  const shadow = ctx.manager.shadowFor(target.model, routed);
  if (shadow) void runShadow(ctx, shadow, routed, decode, out, ms);
}

/** Runs a decoded request through the version within the request's deadline (504 past it). */
async function inferWithin(
  ctx: ServerContext,
  version: ServedVersion,
  req: DecodedRequest,
): Promise<ServedOutputs> {
  const deadline = ctx.deadlines.start(version.batcher);
  try {
    return await version.infer(req.inputs, req.rows, req.rowName, deadline.ticket);
  } finally {
    ctx.deadlines.stop(deadline);
  }
}

async function runShadow(
  ctx: ServerContext,
  shadow: ServedVersion,
  primary: Routed,
  decode: (sig: ServedSignature) => DecodedRequest,
  primaryOut: ServedOutputs,
  primaryMs: number,
): Promise<void> {
  const started = performance.now();
  const base = {
    model: shadow.model,
    primaryVersion: primary.version.version,
    shadowVersion: shadow.version,
    primary: primaryOut,
    primaryMs,
    classification: shadow.signature.task === 'classification',
  };
  try {
    const out = await inferWithin(ctx, shadow, decode(shadow.signature));
    ctx.shadow.record({ ...base, shadow: out, shadowMs: performance.now() - started, error: null });
  } catch (e) {
    ctx.shadow.record({
      ...base,
      shadow: null,
      shadowMs: null,
      error: e instanceof Error ? e.message : String(e),
    });
  } finally {
    shadow.release();
  }
}
