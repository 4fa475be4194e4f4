/**
 * `startDashboard(options)`: the dashboard on its own, without a model server — for watching pipeline
 * runs, a distributed search's queue and the registry from any machine that reaches the store
 * (`modelauto dashboard`). Without a live monitor the traffic, drift and alert pages say so.
 */
import Fastify from 'fastify';
import { ModelautoError } from '../../core/errors.js';
import { openPipelineStore } from '../../store/pipeline-open.js';
import { defaultStoreLocation, openStores } from '../../store/open.js';
import { registerDashboard, type QueueReadModel } from './index.js';

export interface StartDashboardOptions {
  /** Store URI (default: $MODELAUTO_STORE, else ./.modelauto). */
  store?: string;
  /** Default 127.0.0.1: the dashboard has no login; widen it on purpose. */
  host?: string;
  /** Default 8600; 0 picks a free port. */
  port?: number;
  /** A queue to watch (the pipeline layer's `openQueueMonitor()`); not closed by close(). */
  queue?: QueueReadModel;
  staticDir?: string;
  refreshMs?: number;
}

export interface RunningDashboard {
  url: string;
  close(): Promise<void>;
}

export const DEFAULT_DASHBOARD_PORT = 8600;

export async function startDashboard(options: StartDashboardOptions = {}): Promise<RunningDashboard> {
  const port = options.port ?? DEFAULT_DASHBOARD_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ModelautoError('USAGE', `expected a port in 0-65535, got ${port}`, {
      location: { path: 'port' },
    });
  }
  const uri = options.store ?? defaultStoreLocation();
  const stores = await openStores(uri);
  const pipelines = await openPipelineStore(uri).catch(async (e: unknown) => {
    await stores.close();
    throw e;
  });
  const app = Fastify({ logger: false });
  registerDashboard(app, {
    stores,
    pipelines,
    ...(options.queue ? { queue: options.queue } : {}),
    ...(options.staticDir ? { staticDir: options.staticDir } : {}),
    ...(options.refreshMs ? { refreshMs: options.refreshMs } : {}),
  });
  const closeAll = async () => {
    await app.close().catch(() => undefined);
    await pipelines.close().catch(() => undefined);
    await stores.close().catch(() => undefined);
  };
  let address: string;
  try {
    address = await app.listen({ host: options.host ?? '127.0.0.1', port });
  } catch (e) {
    await closeAll();
    throw new ModelautoError(
      'UNAVAILABLE',
      `cannot listen on ${options.host ?? '127.0.0.1'}:${port}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  let closing: Promise<void> | undefined;
  return { url: address, close: () => (closing ??= closeAll()) };
}
