/**
 * Builds the dashboard (dashboard/ → dist/dashboard). `npm run build` runs it after tsc; the server
 * serves the output at `/`. For work on the page, `npm run dashboard:dev` serves it with hot reload
 * and forwards /api to a running `modelauto serve` (MODELAUTO_DASHBOARD_API, default http://127.0.0.1:8501).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  // Relative asset URLs: the page works behind a path prefix too.
  base: './',
  publicDir: 'public',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // uPlot is most of the bundle; it is small enough as one file.
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: { '/api': process.env['MODELAUTO_DASHBOARD_API'] ?? 'http://127.0.0.1:8501' },
  },
});
