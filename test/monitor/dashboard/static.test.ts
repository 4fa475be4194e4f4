/**
 * The built page: index.html at / with a strict CSP, hashed assets cached for good, no way out of
 * the dashboard folder, and a clear 503 when the page was never built.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, DEFAULT_DASHBOARD_DIR } from '../../../src/monitor/dashboard/index.js';
import { dashboardServer, tempStores } from './helpers.js';

const { stores } = await tempStores();
const built = mkdtempSync(join(tmpdir(), 'modelauto-dashboard-dist-'));
const empty = mkdtempSync(join(tmpdir(), 'modelauto-dashboard-empty-'));
afterAll(() => {
  rmSync(built, { recursive: true, force: true });
  rmSync(empty, { recursive: true, force: true });
});
mkdirSync(join(built, 'assets'));
writeFileSync(
  join(built, 'index.html'),
  '<!doctype html><title>modelauto</title><script type="module" src="./assets/index-abc123.js"></script>',
);
writeFileSync(join(built, 'assets', 'index-abc123.js'), 'console.log("hi")');
writeFileSync(join(built, 'assets', 'index-abc123.css'), 'body{}');
writeFileSync(join(built, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
writeFileSync(join(built, 'secret.txt'), 'not for the web');

const server = await dashboardServer({ stores, staticDir: built });
const unbuilt = await dashboardServer({ stores, staticDir: empty });

describe('dashboard static files', () => {
  it('serves index.html at / with a strict content security policy', async () => {
    const r = await server.get('/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.text).toContain('<title>modelauto</title>');
    expect(r.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect((await server.get('/index.html')).text).toBe(r.text);
  });

  it('serves hashed assets with their type, cached as immutable', async () => {
    const js = await server.get('/assets/index-abc123.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    expect(js.text).toBe('console.log("hi")');
    expect((await server.get('/assets/index-abc123.css')).headers['content-type']).toBe(
      'text/css; charset=utf-8',
    );
    expect((await server.get('/favicon.svg')).headers['content-type']).toBe('image/svg+xml');
  });

  it('serves nothing outside the built files', async () => {
    for (const path of [
      '/assets/missing.js',
      '/assets/..%2fsecret.txt',
      '/assets/%2e%2e%2fsecret.txt',
      '/assets/../secret.txt',
      '/secret.txt',
      '/assets/.hidden.js',
    ]) {
      const r = await server.get(path);
      expect(r.status, path).toBe(404);
      expect(r.text, path).not.toContain('not for the web');
    }
  });

  it('answers 503 with what to do when the dashboard was never built', async () => {
    const r = await unbuilt.get('/');
    expect(r.status).toBe(503);
    expect(r.text).toMatch(/not built: run `npm run build`/);
    // The API does not depend on the built page.
    expect((await unbuilt.get('/api/info')).status).toBe(200);
  });

  it('finds dist/dashboard from the source tree as from dist/', () => {
    expect(DEFAULT_DASHBOARD_DIR.replace(/\\/g, '/')).toMatch(/\/dist\/dashboard\/$/);
    expect(DEFAULT_DASHBOARD_DIR).not.toContain('/src/');
  });
});
