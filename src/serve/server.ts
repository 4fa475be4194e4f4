/**
 * `startServer(options)`: opens the store, loads the served models (warmed up), listens, and returns
 * the URL and a `close()` that shuts down gracefully: new requests get 503 with Connection: close,
 * requests in flight finish (up to drainTimeoutMs), then the models are unloaded and the store closed.
 */
import { ModelautoError } from '../core/errors.js';
import { formatZodError } from '../core/zod-error.js';
import { openStores, type Stores } from '../store/open.js';
import { ADMIN_TOKEN_ENV, MIN_ADMIN_TOKEN_LENGTH } from './http/admin.js';
import { buildApp, type AppState } from './http/app.js';
import type { ServerContext } from './http/context.js';
import { Deadlines } from './http/deadlines.js';
import { ModelManager } from './manager.js';
import type { ServeObserver } from './observer.js';
import { ServeOptionsSchema, type ServeOptions, type ServeOptionsInput } from './options.js';
import { ShadowRecorder } from './shadow.js';

export interface StartServerOptions extends ServeOptionsInput {
  /** Open stores to use instead of `store` (they are not closed by `close()`). */
  stores?: Stores;
  /** Status lines (loads, swaps, shutdown); default silent. */
  log?: (line: string) => void;
  /** Watches requests and batches, adds routes (the monitor); see observer.ts. */
  observer?: ServeObserver;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:8501 */
  url: string;
  host: string;
  port: number;
  manager: ModelManager;
  options: ServeOptions;
  /** Graceful shutdown; idempotent. */
  close(): Promise<void>;
}

export async function startServer(input: StartServerOptions = {}): Promise<RunningServer> {
  const { stores: given, log: logOption, observer, ...rest } = input;
  const parsed = ServeOptionsSchema.safeParse(rest);
  if (!parsed.success) throw new ModelautoError('USAGE', formatZodError(parsed.error, 'serve'));
  const options = parsed.data;
  const log = logOption ?? (() => undefined);
  const adminToken = options.adminToken ?? (process.env[ADMIN_TOKEN_ENV] || undefined);
  if (adminToken !== undefined && adminToken.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new ModelautoError(
      'USAGE',
      `${ADMIN_TOKEN_ENV}: the admin token must have at least ${MIN_ADMIN_TOKEN_LENGTH} characters (e.g. \`openssl rand -hex 32\`)`,
    );
  }
  const stores = given ?? (await openStores(options.store));
  const shadow = new ShadowRecorder(options.shadowLog);
  const state: AppState = { closing: false, inflight: 0, receiving: 0, onIdle: undefined };
  const deadlines = new Deadlines(options.requestTimeoutMs);
  const manager = new ModelManager({
    stores,
    models: options.models,
    load: {
      runtime: options.runtime,
      precision: options.precision,
      threads: options.threads,
      inferenceThread: options.inferenceThread,
    },
    batching: {
      maxBatch: options.maxBatch,
      maxDelayMs: options.maxDelayMs,
      queueRows: options.queue,
      arriving: () => state.receiving,
    },
    pollIntervalMs: options.pollIntervalMs,
    defaultAlias: options.defaultAlias,
    challengerAlias: options.challengerAlias,
    shadow,
    log,
    ...(observer ? { observer } : {}),
  });
  const ctx: ServerContext = {
    manager,
    shadow,
    maxRequestRows: options.maxRequestRows ?? options.queue,
    requestTimeoutMs: options.requestTimeoutMs,
    deadlines,
    bodyLimit: options.bodyLimit,
    adminToken,
    log,
    ...(observer ? { observer } : {}),
  };
  const app = buildApp(ctx, state);
  try {
    await manager.start();
    await app.listen({ host: options.host, port: options.port }).catch((e: unknown) => {
      const code = (e as { code?: string }).code;
      throw new ModelautoError(
        'UNAVAILABLE',
        `cannot listen on ${options.host}:${options.port}: ${code === 'EADDRINUSE' ? 'the port is in use (pick another with --port, or 0 for any free port)' : e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    });
  } catch (e) {
    await app.close().catch(() => undefined);
    deadlines.close();
    await manager.close().catch(() => undefined);
    if (!given) await stores.close();
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}`;
  log(
    `serving ${manager.modelNames.join(', ') || '(no models yet)'} on ${url} (TF Serving REST /v1, Open Inference Protocol /v2)`,
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      log('shutting down: finishing the requests in flight');
      state.closing = true;
      const closed = app.close();
      if (state.inflight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, options.drainTimeoutMs);
          state.onIdle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      // Keep-alive connections would hold close() open; every response has been sent by now.
      app.server.closeAllConnections();
      await closed;
      deadlines.close();
      await manager.close();
      await shadow.flush();
      if (!given) await stores.close();
      log('stopped');
    })();
    return closing;
  };
  return { url, host: options.host, port, manager, options, close };
}
