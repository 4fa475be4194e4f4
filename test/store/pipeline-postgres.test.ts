import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePipelineStoreContract } from './pipeline-contract.js';
import { describePostgres, dropSchema, freshSchemaName, pgStoreUri } from './pg-env.js';

describePostgres('PostgreSQL pipeline store', () => {
  describePipelineStoreContract('postgres', async () => {
    const schema = freshSchemaName();
    const artifacts = await mkdtemp(join(tmpdir(), 'modelauto-pg-pipeline-'));
    return {
      uri: pgStoreUri(schema, artifacts),
      cleanup: async () => {
        await dropSchema(schema);
        await rm(artifacts, { recursive: true, force: true });
      },
    };
  });
});
