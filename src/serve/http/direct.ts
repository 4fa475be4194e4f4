/**
 * The direct lane: inference POSTs (TF Serving's :predict, :classify, :regress and OIP's /infer) go
 * from node:http straight to their handlers, without Fastify's request and reply objects, hooks and
 * content-type parsing. Those cost about as much per request as reading the body's 784 numbers; under
 * load they decide how many requests one thread answers. Everything else goes to Fastify.
 *
 * The lane does for these requests what app.ts does for every other one, with the same messages:
 * refusing while closing, the body limit, the bookkeeping of requests in flight and still arriving,
 * the observer's trace, and `{"error": ...}` answers from describeError.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InferenceTrace, RequestTracer } from '../observer.js';
import type { AppState } from './app.js';
import type { ServerContext } from './context.js';
import { describeError, shuttingDown, tooLarge } from './errors.js';
import { readBody, type Exchange } from './exchange.js';
import { oipPost } from './oip.js';
import { tfServingPost } from './tfserving.js';

type PostHandler = (ctx: ServerContext, ex: Exchange, url: string, body: unknown) => Promise<void>;

/** The handler of an inference POST to `url`, or undefined (Fastify takes it). */
function handlerOf(url: string): PostHandler | undefined {
  if (url.startsWith('/v1/models/')) {
    return url.endsWith(':predict') || url.endsWith(':classify') || url.endsWith(':regress')
      ? tfServingPost
      : undefined;
  }
  return url.startsWith('/v2/models/') && url.endsWith('/infer') ? oipPost : undefined;
}

/** Returns a request listener that answers the requests it takes and returns false for the others. */
export function directLane(
  ctx: ServerContext,
  state: AppState,
  tracer: RequestTracer | undefined,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const handler = handlerOf(url);
    if (!handler) return false;
    new DirectExchange(ctx, state, tracer, req, res, url, handler).start();
    return true;
  };
}

class DirectExchange implements Exchange {
  trace: InferenceTrace | undefined = undefined;
  /** Response headers, as name, value, name, value (writeHead's fastest form). */
  private readonly out: string[] = [];
  /** Counted in state.receiving until the body is in (or the request is gone). */
  private receiving = false;

  constructor(
    private readonly ctx: ServerContext,
    private readonly state: AppState,
    private readonly tracer: RequestTracer | undefined,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly url: string,
    private readonly handler: PostHandler,
  ) {}

  get headers(): IncomingMessage['headers'] {
    return this.req.headers;
  }

  /** Sets (replaces) a response header; names are lower-case. */
  header(name: string, value: string): void {
    const out = this.out;
    for (let i = 0; i < out.length; i += 2) {
      if (out[i] === name) {
        out[i + 1] = value;
        return;
      }
    }
    out.push(name, value);
  }

  send(status: number, json: string): void {
    const res = this.res;
    if (res.headersSent || res.destroyed) return;
    if (this.state.closing) this.header('connection', 'close');
    this.header('content-type', 'application/json; charset=utf-8');
    this.header('content-length', String(Buffer.byteLength(json)));
    res.writeHead(status, this.out);
    res.end(json);
  }

  start(): void {
    const { req, res, state, ctx } = this;
    if (state.closing) {
      this.fail(shuttingDown());
      return;
    }
    state.inflight++;
    const chunked = req.headers['transfer-encoding'] !== undefined;
    const length = Number(req.headers['content-length']);
    if (chunked || length > 0) {
      state.receiving++;
      this.receiving = true;
    }
    res.on('close', () => {
      this.arrived();
      state.inflight--;
      if (this.trace) this.tracer?.end(this.trace, this.url, res.statusCode, res.writableFinished);
      if (state.inflight === 0) state.onIdle?.();
    });
    try {
      this.trace = this.tracer?.begin('POST', this.url, req.headers, (n, v) => this.header(n, v));
    } catch (e) {
      this.fail(e);
      return;
    }
    if (length > ctx.bodyLimit) {
      this.fail(tooLarge(ctx.bodyLimit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > ctx.bodyLimit) {
        refused = true;
        this.arrived();
        this.fail(tooLarge(ctx.bodyLimit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      this.arrived();
      if (refused) return;
      const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
      this.handle(bytes, chunked);
    });
    // An aborted upload: the response's close event does the rest.
    req.on('error', () => this.arrived());
  }

  private handle(bytes: Buffer, chunked: boolean): void {
    let body: unknown;
    try {
      // Like Fastify: a request without a body is not parsed (the handler says it is empty).
      body = bytes.length === 0 && !chunked ? undefined : readBody('POST', this.url, bytes);
    } catch (e) {
      this.fail(e);
      return;
    }
    this.handler(this.ctx, this, this.url, body).catch((e: unknown) => this.fail(e));
  }

  private arrived(): void {
    if (!this.receiving) return;
    this.receiving = false;
    this.state.receiving--;
  }

  private fail(e: unknown): void {
    const { status, message, headers } = describeError(e, this.ctx.bodyLimit);
    for (const [k, v] of Object.entries(headers)) this.header(k, v);
    this.send(status, JSON.stringify({ error: message }));
  }
}
