/**
 * The web dashboard: the built page at `/` and a read-only JSON API under `/api/` over the registry,
 * the tracking store and (when the server runs one) the live monitor. Every route is a GET; nothing
 * needs or reveals the admin token, and the store's location (a database URI may hold a password) is
 * never sent.
 */
import type { FastifyInstance } from 'fastify';
import type { Stores } from '../../store/open.js';
import type { PipelineStore } from '../../store/pipeline-types.js';
import { VERSION } from '../../version.js';
import type { MonitorReadModel } from '../types.js';
import type { InfoResponse } from './api-types.js';
import { handle } from './http.js';
import { registerLiveRoutes } from './live-routes.js';
import { registerPipelineRoutes, type QueueReadModel } from './pipelines-routes.js';
import { registerRegistryRoutes } from './registry-routes.js';
import { registerRunsRoutes } from './runs-routes.js';
import { DEFAULT_DASHBOARD_DIR, registerStaticFiles } from './static-files.js';

export type * from './api-types.js';
export { DEFAULT_DASHBOARD_DIR, CONTENT_SECURITY_POLICY } from './static-files.js';
export type { QueueReadModel } from './pipelines-routes.js';

export const DEFAULT_REFRESH_MS = 3000;

const API_ROUTES = [
  '/api/info',
  '/api/models',
  '/api/models/{name}',
  '/api/models/{name}/versions/{version}',
  '/api/runs?kind=&status=&limit=',
  '/api/runs/{id}',
  '/api/live',
  '/api/live/{model}',
  '/api/drift/{model}?top=',
  '/api/drift/{model}/feature?name=',
  '/api/alerts?limit=',
  '/api/pipelines?status=&name=&limit=',
  '/api/pipelines/{id}',
  '/api/pipelines/{id}/logs?step=&after=&limit=',
  '/api/queue',
];

export interface DashboardDeps {
  stores: Stores;
  /** The live monitor; without it the registry and run pages work and the live ones say so. */
  monitor?: MonitorReadModel;
  /** Pipeline runs to show (default: none; `startMonitoredServer` opens the store's). */
  pipelines?: PipelineStore;
  /** The distributed executor's queue to show (the pipeline layer's `openQueueMonitor()`). */
  queue?: QueueReadModel;
  /** Where the built page is (default: `dist/dashboard` of this package). */
  staticDir?: string;
  /** How often the page polls the API (default 3000 ms). */
  refreshMs?: number;
}

/** Adds the dashboard's routes to `app` (before it listens). */
export function registerDashboard(app: FastifyInstance, deps: DashboardDeps): void {
  const refreshMs = deps.refreshMs ?? DEFAULT_REFRESH_MS;
  app.get(
    '/api/info',
    handle(async (): Promise<InfoResponse> => ({
      name: 'modelauto',
      version: VERSION,
      monitor: deps.monitor !== undefined,
      pipelines: deps.pipelines !== undefined,
      queue: deps.queue !== undefined,
      refreshMs,
      now: Date.now(),
    })),
  );
  registerRegistryRoutes(app, deps.stores, deps.monitor);
  registerRunsRoutes(app, deps.stores);
  registerLiveRoutes(app, deps.monitor);
  registerPipelineRoutes(app, {
    tracking: deps.stores.tracking,
    ...(deps.pipelines ? { pipelines: deps.pipelines } : {}),
    ...(deps.queue ? { queue: deps.queue } : {}),
  });
  registerStaticFiles(app, deps.staticDir ?? DEFAULT_DASHBOARD_DIR);
  app.get('/api/*', (request, reply) =>
    reply
      .code(404)
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(
        JSON.stringify({
          error: `no dashboard API route ${request.url.split('?')[0]}; routes: ${API_ROUTES.join(', ')}`,
        }),
      ),
  );
}
