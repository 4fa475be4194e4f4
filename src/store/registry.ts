/**
 * The model registry contract (MLflow-style registered models): a model is a name; its versions are
 * immutable snapshots (artifacts by SHA-256, source run, data fingerprint, metrics, params, parent
 * model, description, created by/at) numbered 1, 2, ... in registration order; only a version's
 * status and tags change afterwards. Aliases (`mnist@champion`) point at versions and move; every
 * move is kept in an append-only history (who, when, from which version, why).
 *
 * The registry lives in the same database as the tracking store (its tables next to the runs), and
 * version artifacts are the tracking store's content-addressed blobs.
 *
 * Errors are ModelautoError with the tracking store's codes: INVALID_ARGUMENT (the message names the
 * field), NOT_FOUND, CONFLICT (an existing model, an alias on an archived version, ...), STORE.
 */
import { z } from 'zod';
import {
  ArtifactNameSchema,
  JsonValueSchema,
  MetricValueSchema,
  RunIdSchema,
  Sha256Schema,
} from './types.js';

export const MODEL_NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
export const ALIAS_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;

export const ModelNameSchema = z
  .string()
  .regex(
    MODEL_NAME_PATTERN,
    'expected a model name of 1-64 characters: lowercase letters, digits, "_", "." or "-", starting with a letter or digit',
  )
  // Names may become folder names (exports, serving): no "..", whatever the position.
  .refine((n) => !n.includes('..'), 'expected a model name without ".."');

export const AliasSchema = z
  .string()
  .regex(
    ALIAS_PATTERN,
    'expected an alias of 1-64 characters: lowercase letters, digits, "_" or "-", starting with a letter',
  );

export const VersionNumberSchema = z.int('expected an integer version').positive('expected a version >= 1');

/**
 * - ready: usable; `mnist` (no version) resolves to the latest ready version;
 * - deprecated: still resolvable by number or alias, no longer the default;
 * - archived: kept for the record; no alias may point at it.
 */
export const MODEL_VERSION_STATUSES = ['ready', 'deprecated', 'archived'] as const;
export const ModelVersionStatusSchema = z.enum(MODEL_VERSION_STATUSES);
export type ModelVersionStatus = z.infer<typeof ModelVersionStatusSchema>;

const KeySchema = z
  .string()
  .min(1, 'expected a non-empty key')
  .max(250, 'expected a key of at most 250 characters')
  .refine((k) => !k.includes('\0'), 'expected a key without NUL characters');
const TextSchema = z
  .string()
  .min(1, 'expected a non-empty string')
  .max(10_000, 'expected at most 10000 characters')
  .refine((k) => !k.includes('\0'), 'expected text without NUL characters');

export const RegistryTagsSchema = z.record(
  KeySchema,
  z.string().refine((v) => !v.includes('\0'), 'expected a value without NUL characters'),
);
export const RegistryMetricsSchema = z.record(KeySchema, MetricValueSchema);
export const RegistryParamsSchema = z.record(KeySchema, JsonValueSchema);

export const VersionArtifactSchema = z.strictObject({
  name: ArtifactNameSchema,
  sha256: Sha256Schema,
  size: z.int('expected an integer size').nonnegative('expected a size >= 0'),
});
export type VersionArtifact = z.infer<typeof VersionArtifactSchema>;

export const ModelVersionRefSchema = z.strictObject({ name: ModelNameSchema, version: VersionNumberSchema });
export type ModelVersionRef = z.infer<typeof ModelVersionRefSchema>;

export const ModelRecordSchema = z.object({
  name: ModelNameSchema,
  description: z.string().nullable(),
  tags: z.record(z.string(), z.string()),
  /** Highest version number; null before the first registration. */
  latestVersion: z.int().nullable(),
  versionCount: z.int().nonnegative(),
  /** Alias → version. */
  aliases: z.record(z.string(), z.int()),
  /** Epoch milliseconds. */
  createdAt: z.int(),
  /** Epoch milliseconds of the last registration or tag change. */
  updatedAt: z.int(),
});
export type ModelRecord = z.infer<typeof ModelRecordSchema>;

export const ModelVersionRecordSchema = z.object({
  model: ModelNameSchema,
  version: z.int().positive(),
  status: ModelVersionStatusSchema,
  description: z.string().nullable(),
  sourceRunId: RunIdSchema.nullable(),
  dataFingerprint: z.string().nullable(),
  /** Ordered by name. */
  artifacts: z.array(VersionArtifactSchema),
  /** NaN and ±Infinity allowed, as for run metrics. */
  metrics: z.record(z.string(), MetricValueSchema),
  params: z.record(z.string(), JsonValueSchema),
  /** The version this one was derived from (an optimized model's original). */
  parentModel: ModelVersionRefSchema.nullable(),
  tags: z.record(z.string(), z.string()),
  /** Aliases pointing at this version, sorted. */
  aliases: z.array(z.string()),
  createdAt: z.int(),
  createdBy: z.string(),
});
export type ModelVersionRecord = z.infer<typeof ModelVersionRecordSchema>;

export const ALIAS_ACTIONS = ['set', 'delete', 'rollback'] as const;

export const AliasMoveSchema = z.object({
  /** Increasing with time across the whole registry. */
  id: z.int().positive(),
  model: ModelNameSchema,
  alias: z.string(),
  action: z.enum(ALIAS_ACTIONS),
  /** null when the alias did not exist before this move. */
  fromVersion: z.int().nullable(),
  /** null when the move deleted the alias. */
  toVersion: z.int().nullable(),
  actor: z.string(),
  /** Epoch milliseconds. */
  time: z.int(),
  reason: z.string().nullable(),
  /** For a rollback: the id of the move it undid. */
  undoes: z.int().nullable(),
});
export type AliasMove = z.infer<typeof AliasMoveSchema>;

export const CreateModelInputSchema = z.strictObject({
  description: TextSchema.optional(),
  tags: RegistryTagsSchema.optional(),
});
export type CreateModelInput = z.input<typeof CreateModelInputSchema>;

const ActorSchema = z.string().min(1, 'expected a non-empty actor').max(256).optional();

export const RegisterVersionInputSchema = z.strictObject({
  artifacts: z
    .array(VersionArtifactSchema)
    .min(1, 'expected at least one artifact (a version without files cannot be served)')
    .refine(
      (list) => new Set(list.map((a) => a.name)).size === list.length,
      'expected distinct artifact names',
    ),
  sourceRunId: RunIdSchema.optional(),
  dataFingerprint: TextSchema.optional(),
  metrics: RegistryMetricsSchema.optional(),
  params: RegistryParamsSchema.optional(),
  parentModel: ModelVersionRefSchema.optional(),
  tags: RegistryTagsSchema.optional(),
  description: TextSchema.optional(),
  /** Default `ready`. */
  status: ModelVersionStatusSchema.optional(),
  /** Create the model when it does not exist yet (default false: an unknown model is NOT_FOUND). */
  createModel: z.boolean().optional(),
  /** Aliases to point at the new version in the same transaction (each recorded as a move). */
  aliases: z.array(AliasSchema).optional(),
  /** Who registers; default $USER, else "unknown". Also the actor of the alias moves. */
  actor: ActorSchema,
  /** Recorded with the alias moves. */
  reason: TextSchema.optional(),
});
export type RegisterVersionInput = z.input<typeof RegisterVersionInputSchema>;

export const AliasOptionsSchema = z.strictObject({
  /** Default $USER, else "unknown". */
  actor: ActorSchema,
  reason: TextSchema.optional(),
});
export type AliasOptions = z.input<typeof AliasOptionsSchema>;

export const ListVersionsFilterSchema = z.strictObject({
  status: ModelVersionStatusSchema.optional(),
});
export type ListVersionsFilter = z.input<typeof ListVersionsFilterSchema>;

/** Called inside the registering transaction just before it commits; lets tests inject crashes there. */
export interface RegistryHooks {
  beforeCommit?: (event: { operation: 'registerVersion'; model: string; version: number }) => void;
}

export interface RegistryOptions {
  hooks?: RegistryHooks;
}

export interface ModelRegistry {
  /** Human-readable location, the same as the tracking store's. */
  readonly location: string;

  /** CONFLICT when the name is taken. */
  createModel(name: string, input?: CreateModelInput): Promise<ModelRecord>;

  getModel(name: string): Promise<ModelRecord>;

  /** Ordered by name. */
  listModels(): Promise<ModelRecord[]>;

  /**
   * Writes the next version (1, 2, ...) with everything it refers to, in one transaction: the
   * artifacts' blobs must be in the store (size checked), the source run and the parent version must
   * exist. Concurrent registrations get distinct numbers; a crash leaves no partial version.
   */
  registerVersion(name: string, input: RegisterVersionInput): Promise<ModelVersionRecord>;

  getVersion(name: string, version: number): Promise<ModelVersionRecord>;

  /** Newest first. */
  listVersions(name: string, filter?: ListVersionsFilter): Promise<ModelVersionRecord[]>;

  /** Sets (adds or overwrites) model tags. */
  setModelTags(name: string, tags: Record<string, string>): Promise<ModelRecord>;

  /** Sets (adds or overwrites) version tags; tags are the only mutable data of a version besides its status. */
  setVersionTags(name: string, version: number, tags: Record<string, string>): Promise<ModelVersionRecord>;

  /** CONFLICT when archiving a version an alias points at (move the alias first). */
  setVersionStatus(name: string, version: number, status: ModelVersionStatus): Promise<ModelVersionRecord>;

  /**
   * Points `alias` at `version`, recording the move; null (and nothing recorded) when it already
   * points there. CONFLICT for an archived version.
   */
  setAlias(name: string, alias: string, version: number, options?: AliasOptions): Promise<AliasMove | null>;

  /** Removes the alias, recording the move (toVersion null). NOT_FOUND when the alias is not set. */
  deleteAlias(name: string, alias: string, options?: AliasOptions): Promise<AliasMove>;

  /**
   * Undoes the alias's latest move that is not itself a rollback or already undone: the alias goes
   * back where it was before it (re-created when that move deleted it), recorded as a `rollback` move.
   * Repeated rollbacks walk further back. CONFLICT when there is nothing to go back to.
   */
  rollbackAlias(name: string, alias: string, options?: AliasOptions): Promise<AliasMove>;

  /** `model@alias`, `model:version` or `model` (its latest ready version). */
  resolve(ref: string): Promise<ModelVersionRecord>;

  /** Every move of the model's aliases (or of one alias), oldest first. */
  aliasHistory(name: string, alias?: string): Promise<AliasMove[]>;

  /** Idempotent; later calls fail with STORE. */
  close(): Promise<void>;
}

export type ModelReference =
  | { name: string; kind: 'latest' }
  | { name: string; kind: 'version'; version: number }
  | { name: string; kind: 'alias'; alias: string };

/** The actor recorded when the caller names none. */
export function defaultActor(): string {
  return process.env['USER']?.trim() || 'unknown';
}
