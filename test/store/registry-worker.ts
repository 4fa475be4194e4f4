/**
 * A separate OS process using the registry, started by the registry contract tests with
 * `node --import tsx test/store/registry-worker.ts '<json>'`.
 *
 * - mode "register": registers `count` versions of `model` and prints their numbers as JSON;
 * - mode "hang": registers one version (with an alias) and, inside the transaction just before it
 *   commits, prints IN_TRANSACTION and blocks forever, waiting to be killed.
 */
import { writeSync } from 'node:fs';
import { openRegistry } from '../../src/store/open.js';
import type { RegistryOptions, VersionArtifact } from '../../src/store/registry.js';

interface WorkerConfig {
  mode: 'register' | 'hang';
  uri: string;
  model: string;
  count: number;
  label: string;
  artifacts: VersionArtifact[];
}

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;

const options: RegistryOptions =
  config.mode === 'hang'
    ? {
        hooks: {
          beforeCommit: () => {
            writeSync(1, 'IN_TRANSACTION\n');
            // Blocks the whole process (SQLite's transaction is synchronous, so awaiting is not an option).
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
          },
        },
      }
    : {};

const registry = await openRegistry(config.uri, options);
const versions: number[] = [];
for (let i = 0; i < config.count; i++) {
  const v = await registry.registerVersion(config.model, {
    artifacts: config.artifacts,
    createModel: true,
    metrics: { test_accuracy: i / 100 },
    tags: { worker: config.label, i: String(i) },
    ...(config.mode === 'hang' ? { aliases: ['champion'], reason: 'should never be seen' } : {}),
  });
  versions.push(v.version);
}
await registry.close();
process.stdout.write(`${JSON.stringify(versions)}\n`);
