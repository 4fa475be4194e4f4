/**
 * Reading a registered version's artifacts by name: the tracking store's content-addressed blobs,
 * checked against their SHA-256 before use (as the server's loader reads model files).
 */
import { readFile } from 'node:fs/promises';
import { ModelautoError } from '../../core/errors.js';
import { sha256 } from '../../core/hash.js';
import type { Stores } from '../../store/open.js';

export interface VersionArtifacts {
  names: string[];
  has(name: string): boolean;
  /** The artifact's bytes; NOT_FOUND when the version has no artifact of that name. */
  read(name: string): Promise<Buffer>;
}

export async function versionArtifacts(
  stores: Stores,
  model: string,
  version: number,
): Promise<VersionArtifacts> {
  const record = await stores.registry.getVersion(model, version);
  const byName = new Map(record.artifacts.map((a) => [a.name, a]));
  const where = `${model}:${version}`;
  return {
    names: [...byName.keys()],
    has: (name) => byName.has(name),
    read: async (name) => {
      const a = byName.get(name);
      if (!a) throw new ModelautoError('NOT_FOUND', `version ${where} has no artifact ${name}`);
      const data = await readFile(await stores.tracking.artifactPath(a.sha256));
      if (sha256(data) !== a.sha256) {
        throw new ModelautoError(
          'INVALID_DATA',
          `artifact ${name} of ${where}: its content does not match the recorded SHA-256 ${a.sha256}`,
        );
      }
      return data;
    },
  };
}
