/**
 * Records kept by the tracking store. Types are derived from the schemas so that what a backend
 * returns, what the HTTP server serialises and what callers validate are the same shapes.
 */
import { z } from 'zod';

export const RUN_STATUSES = ['running', 'finished', 'failed', 'interrupted'] as const;
export const RunStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatusSchema>;

/** The statuses a run may end in; `running` is only ever set by createRun. */
export const TerminalRunStatusSchema = z.enum(['finished', 'failed', 'interrupted']);
export type TerminalRunStatus = z.infer<typeof TerminalRunStatusSchema>;

export const RunIdSchema = z
  .string()
  .regex(/^[0-9a-f]{32}$/, 'expected a run id of 32 lowercase hex characters');
export type RunId = z.infer<typeof RunIdSchema>;

export const Sha256Schema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 digest of 64 lowercase hex characters');

/** Any JSON value; NaN and Infinity are not JSON and are refused (use a metric for those). */
export const JsonValueSchema = z.json();
export type JsonValue = z.infer<typeof JsonValueSchema>;

const KeySchema = z
  .string()
  .min(1, 'expected a non-empty key')
  .max(250, 'expected a key of at most 250 characters')
  .refine((k) => !k.includes('\0'), 'expected a key without NUL characters');

export const ParamsSchema = z.record(KeySchema, JsonValueSchema);
export type Params = z.infer<typeof ParamsSchema>;

export const TagsSchema = z.record(KeySchema, z.string());
export type Tags = z.infer<typeof TagsSchema>;

/** Metrics are measurements, not JSON: NaN and ±Infinity are legitimate values (a diverged loss). */
export const MetricValueSchema = z.custom<number>(
  (v) => typeof v === 'number',
  'expected a number (NaN and ±Infinity are allowed)',
);

export const MetricPointSchema = z.object({
  key: KeySchema,
  value: MetricValueSchema,
  step: z.int('expected an integer step'),
  /** Epoch milliseconds. */
  timestamp: z.int('expected an integer timestamp in epoch milliseconds'),
});
export type MetricPoint = z.infer<typeof MetricPointSchema>;

/** A point to log; the timestamp defaults to the time of logging. */
export const MetricPointInputSchema = z.strictObject({
  key: KeySchema,
  value: MetricValueSchema,
  step: z.int('expected an integer step'),
  timestamp: z.int('expected an integer timestamp in epoch milliseconds').optional(),
});
export type MetricPointInput = z.input<typeof MetricPointInputSchema>;

export const ArtifactNameSchema = z
  .string()
  .min(1, 'expected a non-empty artifact name')
  .max(1024, 'expected an artifact name of at most 1024 characters')
  .refine((k) => !k.includes('\0'), 'expected an artifact name without NUL characters');

export const ArtifactRecordSchema = z.object({
  name: ArtifactNameSchema,
  sha256: Sha256Schema,
  size: z.int().nonnegative(),
  contentType: z.string().min(1),
  /** Epoch milliseconds of the first time this name was logged on the run. */
  createdAt: z.int(),
});
export type ArtifactRecord = z.infer<typeof ArtifactRecordSchema>;

export const RunRecordSchema = z.object({
  id: RunIdSchema,
  name: z.string().min(1),
  /** Free-form: 'train', 'evaluate', 'optimize', ... */
  kind: z.string().min(1),
  status: RunStatusSchema,
  /** Why the run failed or was interrupted; null otherwise. */
  error: z.string().nullable(),
  params: ParamsSchema,
  tags: TagsSchema,
  /** Latest point per metric key: highest step, then latest timestamp, then last logged. */
  metrics: z.record(z.string(), MetricPointSchema),
  /** Ordered by name. */
  artifacts: z.array(ArtifactRecordSchema),
  dataFingerprint: z.string().nullable(),
  gitCommit: z.string().nullable(),
  parentRunId: RunIdSchema.nullable(),
  /** Epoch milliseconds. */
  startTime: z.int(),
  /** Epoch milliseconds; null while running. */
  endTime: z.int().nullable(),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

const OptionalText = z.string().min(1, 'expected a non-empty string').max(1024).optional();

export const CreateRunInputSchema = z.strictObject({
  /** Defaults to `<kind>-<first 8 characters of the id>`. */
  name: z.string().min(1, 'expected a non-empty run name').max(256).optional(),
  kind: z.string().min(1, 'expected a non-empty run kind').max(64),
  params: ParamsSchema.optional(),
  tags: TagsSchema.optional(),
  parentRunId: RunIdSchema.optional(),
  dataFingerprint: OptionalText,
  gitCommit: OptionalText,
});
export type CreateRunInput = z.input<typeof CreateRunInputSchema>;

export const ListRunsFilterSchema = z.strictObject({
  kind: z.string().min(1).optional(),
  status: RunStatusSchema.optional(),
  /** Exact run name. */
  name: z.string().min(1).optional(),
  /** Default: no limit. */
  limit: z.int().positive('expected a positive limit').optional(),
  offset: z.int().nonnegative('expected a non-negative offset').optional(),
});
export type ListRunsFilter = z.input<typeof ListRunsFilterSchema>;

/** Artifact content either copied from a file or given in memory (strings are stored as UTF-8). */
export const ArtifactSourceSchema = z.union(
  [
    z.strictObject({ name: ArtifactNameSchema, path: z.string().min(1, 'expected a non-empty file path') }),
    z.strictObject({ name: ArtifactNameSchema, data: z.union([z.instanceof(Uint8Array), z.string()]) }),
  ],
  {
    error:
      'expected {name, path} (a file to copy) or {name, data} (a Uint8Array or a string), exactly one of path and data',
  },
);
export type ArtifactSource = z.input<typeof ArtifactSourceSchema>;

export const LogArtifactOptionsSchema = z.strictObject({
  /** Default: guessed from the name's extension, else application/octet-stream. */
  contentType: z.string().min(1, 'expected a non-empty content type').optional(),
});
export type LogArtifactOptions = z.input<typeof LogArtifactOptionsSchema>;
