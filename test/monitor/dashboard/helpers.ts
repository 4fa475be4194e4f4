/**
 * A real Fastify server on 127.0.0.1 with the dashboard's routes over real stores, and plain HTTP
 * calls to it (node:http, so that paths such as `/assets/..%2f` go out exactly as written).
 */
import Fastify from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { registerDashboard, type DashboardDeps } from '../../../src/monitor/dashboard/index.js';
import { openStores, type Stores } from '../../../src/store/open.js';

export interface TestServer {
  url: string;
  get(path: string): Promise<Reply>;
  call(method: string, path: string, body?: string): Promise<Reply>;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

/** A fresh SQLite store in a temp folder, closed and removed after the file's tests. */
export async function tempStores(): Promise<{ dir: string; stores: Stores }> {
  const dir = mkdtempSync(join(tmpdir(), 'modelauto-dashboard-'));
  const stores = await openStores(dir);
  afterAll(async () => {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, stores };
}

export async function dashboardServer(deps: DashboardDeps): Promise<TestServer> {
  const app = Fastify({ logger: false });
  registerDashboard(app, deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  afterAll(() => app.close());
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const call = (method: string, path: string, body?: string): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  return { url: `http://127.0.0.1:${port}`, get: (path) => call('GET', path), call };
}
