/**
 * The registry operations the CLI offers, as library calls: each opens the store named by `store`
 * (or uses the Stores given), does one thing and closes what it opened.
 */
import { ModelautoError } from '../core/errors.js';
import { openStores, type Stores } from './open.js';
import { registerRun, type RegisterRunOptions } from './register-run.js';
import type {
  AliasMove,
  ListVersionsFilter,
  ModelRecord,
  ModelVersionRecord,
  ModelVersionStatus,
} from './registry.js';
import { parseModelReference } from './registry-refs.js';

export interface RegistryStoreOption {
  /** Open stores, or a store URI (default: $MODELAUTO_STORE or ./.modelauto). */
  store?: Stores | string | undefined;
}

export async function withStores<T>(
  option: RegistryStoreOption,
  fn: (stores: Stores) => Promise<T>,
): Promise<T> {
  if (option.store && typeof option.store !== 'string') return fn(option.store);
  const stores = await openStores(option.store);
  try {
    return await fn(stores);
  } finally {
    await stores.close();
  }
}

/** `modelauto registry register <run> --name <model>`. */
export async function registerModelFromRun(
  runRef: string,
  modelName: string,
  options: RegistryStoreOption & RegisterRunOptions = {},
): Promise<ModelVersionRecord> {
  const { store, ...rest } = options;
  return withStores({ store }, (s) => registerRun(s.tracking, s.registry, runRef, modelName, rest));
}

/** Every model, by name. */
export async function listRegisteredModels(options: RegistryStoreOption = {}): Promise<ModelRecord[]> {
  return withStores(options, (s) => s.registry.listModels());
}

/** A model's versions, newest first. */
export async function listModelVersions(
  modelName: string,
  options: RegistryStoreOption & ListVersionsFilter = {},
): Promise<ModelVersionRecord[]> {
  const { store, ...filter } = options;
  return withStores({ store }, (s) => s.registry.listVersions(modelName, filter));
}

export type RegistryEntry =
  | { kind: 'model'; model: ModelRecord; versions: ModelVersionRecord[] }
  | { kind: 'version'; version: ModelVersionRecord };

/** `mnist` → the model with its versions; `mnist:3` or `mnist@champion` → that version. */
export async function showRegistered(ref: string, options: RegistryStoreOption = {}): Promise<RegistryEntry> {
  const parsed = parseModelReference(ref);
  return withStores(options, async (s) => {
    if (parsed.kind !== 'latest') return { kind: 'version', version: await s.registry.resolve(ref) };
    const model = await s.registry.getModel(parsed.name);
    return { kind: 'model', model, versions: await s.registry.listVersions(parsed.name) };
  });
}

export interface AliasChange {
  model: string;
  alias: string;
  version: number;
  /** null when the alias already pointed at the version (nothing recorded). */
  move: AliasMove | null;
}

export async function setRegistryAlias(
  modelName: string,
  alias: string,
  version: number,
  options: RegistryStoreOption & { reason?: string; actor?: string } = {},
): Promise<AliasChange> {
  const { store, ...opts } = options;
  return withStores({ store }, async (s) => ({
    model: modelName,
    alias,
    version,
    move: await s.registry.setAlias(modelName, alias, version, opts),
  }));
}

export async function deleteRegistryAlias(
  modelName: string,
  alias: string,
  options: RegistryStoreOption & { reason?: string; actor?: string } = {},
): Promise<AliasMove> {
  const { store, ...opts } = options;
  return withStores({ store }, (s) => s.registry.deleteAlias(modelName, alias, opts));
}

export async function rollbackRegistryAlias(
  modelName: string,
  alias: string,
  options: RegistryStoreOption & { reason?: string; actor?: string } = {},
): Promise<AliasMove> {
  const { store, ...opts } = options;
  return withStores({ store }, (s) => s.registry.rollbackAlias(modelName, alias, opts));
}

/** `mnist` → model tags; `mnist:3` or `mnist@champion` → that version's tags. */
export async function tagRegistered(
  ref: string,
  tags: Record<string, string>,
  options: RegistryStoreOption = {},
): Promise<RegistryEntry> {
  const parsed = parseModelReference(ref);
  return withStores(options, async (s) => {
    if (parsed.kind === 'latest') {
      const model = await s.registry.setModelTags(parsed.name, tags);
      return { kind: 'model', model, versions: await s.registry.listVersions(parsed.name) };
    }
    const target = await s.registry.resolve(ref);
    return { kind: 'version', version: await s.registry.setVersionTags(target.model, target.version, tags) };
  });
}

export async function setRegisteredStatus(
  ref: string,
  status: ModelVersionStatus,
  options: RegistryStoreOption = {},
): Promise<ModelVersionRecord> {
  return withStores(options, async (s) => {
    const target = await s.registry.resolve(ref);
    return s.registry.setVersionStatus(target.model, target.version, status);
  });
}

export async function registryAliasHistory(
  modelName: string,
  options: RegistryStoreOption & { alias?: string } = {},
): Promise<AliasMove[]> {
  const { store, alias } = options;
  return withStores({ store }, (s) => s.registry.aliasHistory(modelName, alias));
}

/** `k=v` arguments → tags; the value may contain "=" and may be empty. */
export function parseTagAssignments(items: readonly string[], what = 'tag'): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) {
      throw new ModelautoError('USAGE', `${what} ${JSON.stringify(item)}: expected key=value`);
    }
    tags[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return tags;
}
