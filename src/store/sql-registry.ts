/**
 * The model registry over SQL, shared by the SQLite and PostgreSQL backends (they differ only in the
 * driver). Every write is one transaction that first locks the model's row (PostgreSQL; a SQLite
 * write holds the database lock anyway), so writes to one model are serialised: version numbers
 * come from the model's counter bumped inside the registering transaction, alias moves read the
 * alias and record the move without another writer in between.
 */
import { stat } from 'node:fs/promises';
import { ModelautoError } from '../core/errors.js';
import { moveToUndo } from './alias-rollback.js';
import type { ArtifactBlobs } from './artifact-blobs.js';
import { canonicalJson } from './canonical-json.js';
import {
  AliasOptionsSchema,
  AliasSchema,
  CreateModelInputSchema,
  defaultActor,
  ListVersionsFilterSchema,
  ModelNameSchema,
  ModelVersionStatusSchema,
  RegisterVersionInputSchema,
  RegistryTagsSchema,
  VersionNumberSchema,
  type AliasMove,
  type AliasOptions,
  type CreateModelInput,
  type ListVersionsFilter,
  type ModelRecord,
  type ModelRegistry,
  type ModelVersionRecord,
  type ModelVersionStatus,
  type RegisterVersionInput,
  type RegistryHooks,
  type RegistryOptions,
} from './registry.js';
import { parseModelReference } from './registry-refs.js';
import {
  aliasMoveFromRow,
  loadAliasHistory,
  loadModels,
  loadVersions,
  type AliasMoveRow,
} from './registry-rows.js';
import { all, get, run, type SqlArg, type SqlDriver, type SqlScript } from './sql-script.js';
import { parseInput } from './validate.js';

interface MoveSpec {
  model: string;
  alias: string;
  to: number | null;
  action: AliasMove['action'];
  actor: string;
  reason: string | null;
  time: number;
  undoes: number | null;
}

export class SqlModelRegistry implements ModelRegistry {
  readonly location: string;
  private readonly hooks: RegistryHooks;

  protected constructor(
    private readonly db: SqlDriver,
    private readonly blobs: ArtifactBlobs,
    options: RegistryOptions = {},
  ) {
    this.location = db.location;
    this.hooks = options.hooks ?? {};
  }

  async createModel(name: string, input: CreateModelInput = {}): Promise<ModelRecord> {
    const n = parseInput(ModelNameSchema, name, 'createModel.name');
    const spec = parseInput(CreateModelInputSchema, input, 'createModel');
    const now = Date.now();
    const where = this.location;
    return this.db.write('createModel', function* (): SqlScript<ModelRecord> {
      const inserted = yield* run(
        `INSERT INTO registered_models (name, description, last_version, created_at, updated_at)
         VALUES (?, ?, 0, ?, ?) ON CONFLICT (name) DO NOTHING`,
        n,
        spec.description ?? null,
        now,
        now,
      );
      if (inserted === 0) {
        throw new ModelautoError('CONFLICT', `model "${n}" already exists in ${where}`, {
          location: { path: 'createModel.name' },
        });
      }
      yield* upsertModelTags(n, spec.tags ?? {});
      return yield* requireModel(where, n, 'createModel.name');
    });
  }

  async getModel(name: string): Promise<ModelRecord> {
    const n = parseInput(ModelNameSchema, name, 'getModel.name');
    const where = this.location;
    return this.db.read('getModel', () => requireModel(where, n, 'getModel.name'));
  }

  async listModels(): Promise<ModelRecord[]> {
    return this.db.read('listModels', () => loadModels());
  }

  async registerVersion(name: string, input: RegisterVersionInput): Promise<ModelVersionRecord> {
    const n = parseInput(ModelNameSchema, name, 'registerVersion.name');
    const spec = parseInput(RegisterVersionInputSchema, input, 'registerVersion');
    // Blobs are files: checked before the transaction, and never deleted, so the check stays true.
    for (const [i, artifact] of spec.artifacts.entries()) {
      await this.checkBlob(artifact.sha256, artifact.size, `registerVersion.artifacts.${i}`);
    }
    const where = this.location;
    const lock = this.db.forUpdate;
    const hooks = this.hooks;
    const actor = spec.actor ?? defaultActor();
    const now = Date.now();
    const status = spec.status ?? 'ready';
    return this.db.write('registerVersion', function* (): SqlScript<ModelVersionRecord> {
      if (!(yield* lockModel(n, lock))) {
        if (!spec.createModel) {
          throw new ModelautoError(
            'NOT_FOUND',
            `no model "${n}" in ${where}; create it first, or register with createModel: true`,
            { location: { path: 'registerVersion.name' } },
          );
        }
        // DO NOTHING: a concurrent registration may create it first; then both lock the same row.
        yield* run(
          `INSERT INTO registered_models (name, description, last_version, created_at, updated_at)
           VALUES (?, NULL, 0, ?, ?) ON CONFLICT (name) DO NOTHING`,
          n,
          now,
          now,
        );
        yield* lockModel(n, lock);
      }
      if (spec.sourceRunId !== undefined) {
        const found = yield* get('SELECT id FROM runs WHERE id = ?', spec.sourceRunId);
        if (!found) {
          throw new ModelautoError('NOT_FOUND', `no run with id ${spec.sourceRunId} in ${where}`, {
            location: { path: 'registerVersion.sourceRunId' },
          });
        }
      }
      if (spec.parentModel !== undefined) {
        const p = spec.parentModel;
        const found = yield* get(
          'SELECT version FROM model_versions WHERE model = ? AND version = ?',
          p.name,
          p.version,
        );
        if (!found) {
          throw new ModelautoError('NOT_FOUND', `no version ${p.name}:${p.version} in ${where}`, {
            location: { path: 'registerVersion.parentModel' },
          });
        }
      }
      if (status === 'archived' && spec.aliases?.length) {
        throw new ModelautoError(
          'CONFLICT',
          `an archived version cannot take aliases (${spec.aliases.join(', ')})`,
          {
            location: { path: 'registerVersion.aliases' },
          },
        );
      }
      const bumped = yield* get<{ last_version: number }>(
        'UPDATE registered_models SET last_version = last_version + 1, updated_at = ? WHERE name = ? RETURNING last_version',
        now,
        n,
      );
      const version = (bumped as { last_version: number }).last_version;
      yield* run(
        `INSERT INTO model_versions (model, version, status, description, source_run_id, data_fingerprint,
           params_json, parent_model, parent_version, created_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        n,
        version,
        status,
        spec.description ?? null,
        spec.sourceRunId ?? null,
        spec.dataFingerprint ?? null,
        canonicalJson(spec.params ?? {}),
        spec.parentModel?.name ?? null,
        spec.parentModel?.version ?? null,
        now,
        actor,
      );
      yield* insertRows(
        'model_version_artifacts (model, version, name, sha256, size)',
        spec.artifacts.map((a) => [n, version, a.name, a.sha256, a.size]),
      );
      yield* insertRows(
        'model_version_metrics (model, version, key, value)',
        Object.entries(spec.metrics ?? {}).map(([k, v]) => [n, version, k, v]),
      );
      yield* insertRows(
        'model_version_tags (model, version, key, value)',
        Object.entries(spec.tags ?? {}).map(([k, v]) => [n, version, k, v]),
      );
      for (const alias of new Set(spec.aliases ?? [])) {
        yield* moveAlias({
          model: n,
          alias,
          to: version,
          action: 'set',
          actor,
          reason: spec.reason ?? null,
          time: now,
          undoes: null,
        });
      }
      hooks.beforeCommit?.({ operation: 'registerVersion', model: n, version });
      return yield* requireVersion(where, n, version, 'registerVersion');
    });
  }

  async getVersion(name: string, version: number): Promise<ModelVersionRecord> {
    const n = parseInput(ModelNameSchema, name, 'getVersion.name');
    const v = parseInput(VersionNumberSchema, version, 'getVersion.version');
    const where = this.location;
    return this.db.read('getVersion', function* (): SqlScript<ModelVersionRecord> {
      yield* requireModel(where, n, 'getVersion.name');
      return yield* requireVersion(where, n, v, 'getVersion.version');
    });
  }

  async listVersions(name: string, filter: ListVersionsFilter = {}): Promise<ModelVersionRecord[]> {
    const n = parseInput(ModelNameSchema, name, 'listVersions.name');
    const f = parseInput(ListVersionsFilterSchema, filter, 'listVersions');
    const where = this.location;
    return this.db.read('listVersions', function* (): SqlScript<ModelVersionRecord[]> {
      yield* requireModel(where, n, 'listVersions.name');
      return yield* loadVersions(n, f.status === undefined ? {} : { status: f.status });
    });
  }

  async setModelTags(name: string, tags: Record<string, string>): Promise<ModelRecord> {
    const n = parseInput(ModelNameSchema, name, 'setModelTags.name');
    const values = parseInput(RegistryTagsSchema, tags, 'setModelTags.tags');
    const where = this.location;
    const lock = this.db.forUpdate;
    const now = Date.now();
    return this.db.write('setModelTags', function* (): SqlScript<ModelRecord> {
      yield* lockExistingModel(where, n, lock, 'setModelTags.name', now);
      yield* upsertModelTags(n, values);
      return yield* requireModel(where, n, 'setModelTags.name');
    });
  }

  async setVersionTags(
    name: string,
    version: number,
    tags: Record<string, string>,
  ): Promise<ModelVersionRecord> {
    const n = parseInput(ModelNameSchema, name, 'setVersionTags.name');
    const v = parseInput(VersionNumberSchema, version, 'setVersionTags.version');
    const values = parseInput(RegistryTagsSchema, tags, 'setVersionTags.tags');
    const where = this.location;
    const lock = this.db.forUpdate;
    const now = Date.now();
    return this.db.write('setVersionTags', function* (): SqlScript<ModelVersionRecord> {
      yield* lockExistingModel(where, n, lock, 'setVersionTags.name', now);
      yield* requireVersion(where, n, v, 'setVersionTags.version');
      for (const [key, value] of Object.entries(values)) {
        yield* run(
          `INSERT INTO model_version_tags (model, version, key, value) VALUES (?, ?, ?, ?)
           ON CONFLICT (model, version, key) DO UPDATE SET value = excluded.value`,
          n,
          v,
          key,
          value,
        );
      }
      return yield* requireVersion(where, n, v, 'setVersionTags.version');
    });
  }

  async setVersionStatus(
    name: string,
    version: number,
    status: ModelVersionStatus,
  ): Promise<ModelVersionRecord> {
    const n = parseInput(ModelNameSchema, name, 'setVersionStatus.name');
    const v = parseInput(VersionNumberSchema, version, 'setVersionStatus.version');
    const s = parseInput(ModelVersionStatusSchema, status, 'setVersionStatus.status');
    const where = this.location;
    const lock = this.db.forUpdate;
    const now = Date.now();
    return this.db.write('setVersionStatus', function* (): SqlScript<ModelVersionRecord> {
      yield* lockExistingModel(where, n, lock, 'setVersionStatus.name', now);
      const current = yield* requireVersion(where, n, v, 'setVersionStatus.version');
      if (s === 'archived' && current.aliases.length > 0) {
        throw new ModelautoError(
          'CONFLICT',
          `cannot archive ${n}:${v}: ${current.aliases.map((a) => `@${a}`).join(', ')} point(s) at it; move or delete the alias first`,
          { location: { path: 'setVersionStatus.status' } },
        );
      }
      yield* run('UPDATE model_versions SET status = ? WHERE model = ? AND version = ?', s, n, v);
      return yield* requireVersion(where, n, v, 'setVersionStatus.version');
    });
  }

  async setAlias(
    name: string,
    alias: string,
    version: number,
    options: AliasOptions = {},
  ): Promise<AliasMove | null> {
    const n = parseInput(ModelNameSchema, name, 'setAlias.name');
    const a = parseInput(AliasSchema, alias, 'setAlias.alias');
    const v = parseInput(VersionNumberSchema, version, 'setAlias.version');
    const opts = parseInput(AliasOptionsSchema, options, 'setAlias.options');
    const where = this.location;
    const lock = this.db.forUpdate;
    const now = Date.now();
    return this.db.write('setAlias', function* (): SqlScript<AliasMove | null> {
      yield* lockExistingModel(where, n, lock, 'setAlias.name', now);
      yield* requireAliasableVersion(where, n, v, 'setAlias.version');
      return yield* moveAlias({
        model: n,
        alias: a,
        to: v,
        action: 'set',
        actor: opts.actor ?? defaultActor(),
        reason: opts.reason ?? null,
        time: now,
        undoes: null,
      });
    });
  }

  async deleteAlias(name: string, alias: string, options: AliasOptions = {}): Promise<AliasMove> {
    const n = parseInput(ModelNameSchema, name, 'deleteAlias.name');
    const a = parseInput(AliasSchema, alias, 'deleteAlias.alias');
    const opts = parseInput(AliasOptionsSchema, options, 'deleteAlias.options');
    const where = this.location;
    const lock = this.db.forUpdate;
    const now = Date.now();
    return this.db.write('deleteAlias', function* (): SqlScript<AliasMove> {
      yield* lockExistingModel(where, n, lock, 'deleteAlias.name', now);
      yield* requireAlias(n, a, 'deleteAlias.alias');
      const move = yield* moveAlias({
        model: n,
        alias: a,
        to: null,
        action: 'delete',
        actor: opts.actor ?? defaultActor(),
        reason: opts.reason ?? null,
        time: now,
        undoes: null,
      });
      return move as AliasMove;
    });
  }

  async rollbackAlias(name: string, alias: string, options: AliasOptions = {}): Promise<AliasMove> {
    const n = parseInput(ModelNameSchema, name, 'rollbackAlias.name');
    const a = parseInput(AliasSchema, alias, 'rollbackAlias.alias');
    const opts = parseInput(AliasOptionsSchema, options, 'rollbackAlias.options');
    const where = this.location;
    const lock = this.db.forUpdate;
    const now = Date.now();
    return this.db.write('rollbackAlias', function* (): SqlScript<AliasMove> {
      yield* lockExistingModel(where, n, lock, 'rollbackAlias.name', now);
      const history = yield* loadAliasHistory(n, a);
      if (history.length === 0) {
        throw new ModelautoError('NOT_FOUND', `alias @${a} of model "${n}" has never been set`, {
          location: { path: 'rollbackAlias.alias' },
        });
      }
      const target = moveToUndo(history);
      if (!target || target.fromVersion === null) {
        const created = target ? ` (it was created pointing at version ${target.toVersion})` : '';
        throw new ModelautoError(
          'CONFLICT',
          `alias @${a} of model "${n}" has no earlier version to roll back to${created}; use deleteAlias to remove it`,
          { location: { path: 'rollbackAlias.alias' } },
        );
      }
      yield* requireAliasableVersion(where, n, target.fromVersion, 'rollbackAlias.alias');
      const move = yield* moveAlias({
        model: n,
        alias: a,
        to: target.fromVersion,
        action: 'rollback',
        actor: opts.actor ?? defaultActor(),
        reason: opts.reason ?? null,
        time: now,
        undoes: target.id,
      });
      return move as AliasMove;
    });
  }

  async resolve(ref: string): Promise<ModelVersionRecord> {
    const r = parseModelReference(ref, 'resolve.ref');
    const where = this.location;
    return this.db.read('resolve', function* (): SqlScript<ModelVersionRecord> {
      yield* requireModel(where, r.name, 'resolve.ref');
      if (r.kind === 'version') return yield* requireVersion(where, r.name, r.version, 'resolve.ref');
      if (r.kind === 'alias') {
        const version = yield* requireAlias(r.name, r.alias, 'resolve.ref');
        return yield* requireVersion(where, r.name, version, 'resolve.ref');
      }
      const latest = yield* get<{ v: number | null }>(
        `SELECT MAX(version) AS v FROM model_versions WHERE model = ? AND status = 'ready'`,
        r.name,
      );
      if (latest?.v === null || latest?.v === undefined) {
        throw new ModelautoError(
          'NOT_FOUND',
          `model "${r.name}" has no version with status "ready"; name a version (${r.name}:<n>) or an alias (${r.name}@<alias>)`,
          { location: { path: 'resolve.ref' } },
        );
      }
      return yield* requireVersion(where, r.name, latest.v, 'resolve.ref');
    });
  }

  async aliasHistory(name: string, alias?: string): Promise<AliasMove[]> {
    const n = parseInput(ModelNameSchema, name, 'aliasHistory.name');
    const a = alias === undefined ? undefined : parseInput(AliasSchema, alias, 'aliasHistory.alias');
    const where = this.location;
    return this.db.read('aliasHistory', function* (): SqlScript<AliasMove[]> {
      yield* requireModel(where, n, 'aliasHistory.name');
      return yield* loadAliasHistory(n, a);
    });
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  private async checkBlob(digest: string, size: number, path: string): Promise<void> {
    let actual: number | undefined;
    try {
      const s = await stat(this.blobs.pathFor(digest));
      if (s.isFile()) actual = s.size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (actual === undefined) {
      throw new ModelautoError(
        'NOT_FOUND',
        `no artifact blob with sha256 ${digest} in ${this.blobs.root}; log the file as a run artifact first`,
        { location: { path: `${path}.sha256` } },
      );
    }
    if (actual !== size) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `the blob with sha256 ${digest} has ${actual} bytes, not ${size}`,
        { location: { path: `${path}.size` } },
      );
    }
  }
}

function* lockModel(name: string, lock: string): SqlScript<boolean> {
  return (yield* get(`SELECT name FROM registered_models WHERE name = ?${lock}`, name)) !== undefined;
}

/** Locks the model's row (serialising writers of the model) and marks it changed. */
function* lockExistingModel(
  where: string,
  name: string,
  lock: string,
  path: string,
  now: number,
): SqlScript<void> {
  if (!(yield* lockModel(name, lock))) throw modelNotFound(where, name, path);
  yield* run('UPDATE registered_models SET updated_at = ? WHERE name = ?', now, name);
}

function* requireModel(where: string, name: string, path: string): SqlScript<ModelRecord> {
  const [model] = yield* loadModels(name);
  if (!model) throw modelNotFound(where, name, path);
  return model;
}

function* requireVersion(
  where: string,
  name: string,
  version: number,
  path: string,
): SqlScript<ModelVersionRecord> {
  const [record] = yield* loadVersions(name, { version });
  if (record) return record;
  const latest = yield* get<{ v: number | null }>(
    'SELECT MAX(version) AS v FROM model_versions WHERE model = ?',
    name,
  );
  const has = latest?.v ? `it has versions 1 to ${latest.v}` : 'it has no versions yet';
  throw new ModelautoError('NOT_FOUND', `model "${name}" has no version ${version} in ${where}; ${has}`, {
    location: { path },
  });
}

function* requireAliasableVersion(
  where: string,
  name: string,
  version: number,
  path: string,
): SqlScript<void> {
  const record = yield* requireVersion(where, name, version, path);
  if (record.status === 'archived') {
    throw new ModelautoError(
      'CONFLICT',
      `${name}:${version} is archived; an alias cannot point at it (set its status to "ready" first)`,
      { location: { path } },
    );
  }
}

function* requireAlias(name: string, alias: string, path: string): SqlScript<number> {
  const row = yield* get<{ version: number }>(
    'SELECT version FROM model_aliases WHERE model = ? AND alias = ?',
    name,
    alias,
  );
  if (row) return row.version;
  const known = (yield* all<{ alias: string }>(
    'SELECT alias FROM model_aliases WHERE model = ? ORDER BY alias',
    name,
  )).map((r) => `@${r.alias}`);
  throw new ModelautoError(
    'NOT_FOUND',
    `model "${name}" has no alias @${alias}; ${known.length ? `it has ${known.join(', ')}` : 'it has no aliases'}`,
    { location: { path } },
  );
}

/** Points the alias at `to` (null: removes it) and appends the move; null when nothing changes. */
function* moveAlias(m: MoveSpec): SqlScript<AliasMove | null> {
  const current = yield* get<{ version: number }>(
    'SELECT version FROM model_aliases WHERE model = ? AND alias = ?',
    m.model,
    m.alias,
  );
  const from = current?.version ?? null;
  if (from === m.to) return null;
  if (m.to === null) {
    yield* run('DELETE FROM model_aliases WHERE model = ? AND alias = ?', m.model, m.alias);
  } else {
    yield* run(
      `INSERT INTO model_aliases (model, alias, version, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
      m.model,
      m.alias,
      m.to,
      m.time,
    );
  }
  const [row] = yield* all<AliasMoveRow>(
    `INSERT INTO model_alias_history (model, alias, action, from_version, to_version, actor, time, reason, undoes)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     RETURNING id, model, alias, action, from_version, to_version, actor, time, reason, undoes`,
    m.model,
    m.alias,
    m.action,
    from,
    m.to,
    m.actor,
    m.time,
    m.reason,
    m.undoes,
  );
  return aliasMoveFromRow(row as AliasMoveRow);
}

function* upsertModelTags(name: string, tags: Record<string, string>): SqlScript<void> {
  for (const [key, value] of Object.entries(tags)) {
    yield* run(
      `INSERT INTO registered_model_tags (model, key, value) VALUES (?, ?, ?)
       ON CONFLICT (model, key) DO UPDATE SET value = excluded.value`,
      name,
      key,
      value,
    );
  }
}

/** Multi-row INSERTs, at most 200 rows each (well under both databases' bind-parameter limits). */
function* insertRows(target: string, rows: SqlArg[][]): SqlScript<void> {
  for (let i = 0; i < rows.length; i += 200) {
    const chunk = rows.slice(i, i + 200);
    const width = chunk[0]?.length ?? 0;
    const tuple = `(${Array.from({ length: width }, () => '?').join(', ')})`;
    yield* run(`INSERT INTO ${target} VALUES ${chunk.map(() => tuple).join(', ')}`, ...chunk.flat());
  }
}

function modelNotFound(where: string, name: string, path: string): ModelautoError {
  return new ModelautoError('NOT_FOUND', `no model "${name}" in ${where}`, { location: { path } });
}
