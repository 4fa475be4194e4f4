import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePipelineStoreContract } from './pipeline-contract.js';

describePipelineStoreContract('sqlite', async () => {
  const root = await mkdtemp(join(tmpdir(), 'modelauto-pipeline-store-'));
  return { uri: `sqlite:${root}`, cleanup: () => rm(root, { recursive: true, force: true }) };
});
