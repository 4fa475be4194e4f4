import { resolve } from 'node:path';
import { build } from 'vite';

/** Vitest global setup: the page under test is the current source, built into dist/dashboard (about a second). */
export default async function setup(): Promise<void> {
  await build({ configFile: resolve('dashboard/vite.config.ts'), logLevel: 'warn' });
}
