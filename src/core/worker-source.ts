/**
 * How modelauto starts its worker threads (the monitor's log writer and drift computation, the
 * server's inference threads): the compiled .js next to the calling module, or, when running from
 * TypeScript sources (tests, tsx), the .ts through tsx's loader registered inside the worker.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** Starts the worker module `name` (without extension) that sits next to the module `here`. */
export function startWorker(here: string, name: string, options: WorkerOptions = {}): Worker {
  if (!here.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, here), options);
  const api = createRequire(here)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs');
  const entry = new URL(`./${name}.ts`, here).href;
  return new Worker(
    `import(${JSON.stringify(pathToFileURL(api).href)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`,
    { ...options, eval: true },
  );
}
