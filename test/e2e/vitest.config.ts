import { defineConfig } from 'vitest/config';

/**
 * Browser end-to-end tests (`npm run test:e2e`, run by .ci/run after the main job): they need
 * Debian's Chromium at /usr/bin/chromium, so they are kept out of `npm test`.
 */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/e2e/build-dashboard.ts'],
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
