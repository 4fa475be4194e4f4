/**
 * The three stores a pipeline uses, opened together from one URI: runs, the registry, and the
 * pipeline tables (same database).
 */
import { openStores } from '../../store/open.js';
import { openPipelineStore } from '../../store/pipeline-open.js';
import type { StepStores } from './steps/types.js';

export interface OpenedStores extends StepStores {
  close(): Promise<void>;
}

export async function openPipelineStores(uri: string): Promise<OpenedStores> {
  const stores = await openStores(uri);
  try {
    const pipelines = await openPipelineStore(uri);
    return {
      uri,
      tracking: stores.tracking,
      registry: stores.registry,
      pipelines,
      close: async () => {
        await pipelines.close();
        await stores.close();
      },
    };
  } catch (e) {
    await stores.close();
    throw e;
  }
}

/** Opens the stores, runs `fn`, closes them. */
export async function withPipelineStores<T>(uri: string, fn: (s: OpenedStores) => Promise<T>): Promise<T> {
  const s = await openPipelineStores(uri);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
