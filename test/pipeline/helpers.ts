import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openTrackingStore } from '../../src/store/open.js';
import type { TrackingStore } from '../../src/store/tracking-store.js';

/** A fresh SQLite store in a temp folder, removed after the file's tests. */
export async function tempStore(): Promise<{ store: TrackingStore; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'modelauto-test-'));
  const store = await openTrackingStore(dir);
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, dir };
}

export const IRIS_SPEC = {
  name: 'iris-test',
  data: { source: 'iris' as const, split: { validation: 0.2, test: 0.2, seed: 1 } },
  model: {
    seed: 3,
    layers: [
      { type: 'dense' as const, units: 16, activation: 'relu' as const },
      { type: 'dense' as const, units: 3, activation: 'softmax' as const },
    ],
  },
  train: {
    epochs: 40,
    batchSize: 16,
    optimizer: { type: 'adam' as const, learningRate: 0.02 },
    metrics: ['accuracy' as const],
  },
};
