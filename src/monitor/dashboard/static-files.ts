/**
 * The built dashboard (Vite's output in `dist/dashboard`): `index.html` at `/`, content-hashed files
 * under `/assets/`. The folder is found relative to this module, which sits at the same depth in
 * `src/` (tsx) and `dist/` (compiled), so both resolve to `<package>/dist/dashboard`.
 *
 * The page gets a strict Content-Security-Policy: scripts, styles and data from this server only,
 * no inline script, no framing.
 */
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../../dist/dashboard/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Flat file names only: Vite writes `assets/<name>-<hash>.<ext>`; no separators, no dot-dot. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/;

const NOT_BUILT =
  'The modelauto dashboard is not built: run `npm run build` (it builds the page into dist/dashboard), then reload.\n';

function isMissing(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

export function registerStaticFiles(app: FastifyInstance, dir: string = DEFAULT_DASHBOARD_DIR): void {
  const sendIndex = async (_request: unknown, reply: FastifyReply): Promise<FastifyReply> => {
    let html: Buffer;
    try {
      html = await readFile(join(dir, 'index.html'));
    } catch (e) {
      if (!isMissing(e)) throw e;
      return securityHeaders(reply)
        .code(503)
        .header('cache-control', 'no-store')
        .type('text/plain; charset=utf-8')
        .send(NOT_BUILT);
    }
    return securityHeaders(reply)
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('cache-control', 'no-cache')
      .type(CONTENT_TYPES['.html']!)
      .send(html);
  };

  const sendFile = async (file: string, reply: FastifyReply, immutable: boolean): Promise<FastifyReply> => {
    const type = CONTENT_TYPES[extname(file)];
    let body: Buffer | undefined;
    if (type) {
      try {
        body = await readFile(join(dir, file));
      } catch (e) {
        if (!isMissing(e)) throw e;
      }
    }
    if (!type || !body) {
      return securityHeaders(reply)
        .code(404)
        .header('cache-control', 'no-store')
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ error: `no dashboard file /${file}` }));
    }
    return securityHeaders(reply)
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .type(type)
      .send(body);
  };

  app.get('/', sendIndex);
  app.get('/index.html', sendIndex);
  app.get('/favicon.svg', (_request, reply) => sendFile('favicon.svg', reply, false));
  app.get('/assets/:file', (request, reply) => {
    const file = (request.params as { file?: string }).file ?? '';
    if (!ASSET_NAME.test(file)) {
      return securityHeaders(reply)
        .code(404)
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ error: 'no such dashboard file' }));
    }
    return sendFile(`assets/${file}`, reply, true);
  });
}
