/**
 * The contract every tracking backend implements (MLflow-style: one abstract store, backends chosen
 * by URI scheme). Every method is async so that a networked backend fits without touching callers,
 * even though the SQLite backend does its work synchronously.
 *
 * Errors are ModelautoError with these codes:
 * - INVALID_ARGUMENT: malformed input (the message names the field and what was expected);
 * - NOT_FOUND: unknown run, artifact or blob;
 * - CONFLICT: changing an immutable value (a param, an artifact name) or finishing a run twice;
 * - STORE: the backend failed or found corrupted data.
 */
import type {
  ArtifactRecord,
  ArtifactSource,
  CreateRunInput,
  JsonValue,
  ListRunsFilter,
  LogArtifactOptions,
  MetricPoint,
  MetricPointInput,
  RunRecord,
  TerminalRunStatus,
} from './types.js';

export interface TrackingStore {
  /** A human-readable location for messages, e.g. `sqlite:/home/me/project/.modelauto`. */
  readonly location: string;

  /** Starts a run with status `running`; params and tags given here follow the same rules as logParams/setTags. */
  createRun(input: CreateRunInput): Promise<RunRecord>;

  /** Params are immutable: a key logged again with an equal JSON value is a no-op, a different value is CONFLICT. All or nothing. */
  logParams(runId: string, params: Record<string, JsonValue>): Promise<void>;

  /** Tags are mutable labels: each key is set to the new value. */
  setTags(runId: string, tags: Record<string, string>): Promise<void>;

  /** Appends one point to the metric's history; `timestamp` defaults to now (epoch ms). */
  logMetric(runId: string, key: string, value: number, step: number, timestamp?: number): Promise<void>;

  /** Appends several points at once, all or nothing. */
  logMetrics(runId: string, points: MetricPointInput[]): Promise<void>;

  /**
   * Stores content once by SHA-256 and records it under `name` on the run. Re-logging a name with the
   * same content returns the existing record; with different content it is CONFLICT.
   */
  logArtifact(runId: string, source: ArtifactSource, options?: LogArtifactOptions): Promise<ArtifactRecord>;

  /** Absolute path of a stored blob (NOT_FOUND when no blob has that digest). Read-only: never write to it. */
  artifactPath(sha256: string): Promise<string>;

  /**
   * A local working folder for the run (created if needed): live files such as TensorBoard logs and
   * checkpoints go there while the run is going; what must be kept is then logged as artifacts.
   */
  runDir(runId: string): Promise<string>;

  /** The artifact's bytes, verified against the recorded SHA-256 (a mismatch is a STORE error). */
  readArtifact(runId: string, name: string): Promise<Buffer>;

  /** Ends a running run; ending a run that is not running is CONFLICT. `error` only goes with failed/interrupted. */
  finishRun(runId: string, status: TerminalRunStatus, error?: string): Promise<RunRecord>;

  getRun(runId: string): Promise<RunRecord>;

  /** A full id or a unique prefix of at least 4 hex characters → the full id. */
  resolveRunId(prefixOrId: string): Promise<string>;

  /** Newest first. */
  listRuns(filter?: ListRunsFilter): Promise<RunRecord[]>;

  /** Every logged point of the key, ordered by step, then timestamp, then logging order; [] for a key never logged. */
  getMetricHistory(runId: string, key: string): Promise<MetricPoint[]>;

  /** Releases the backend; idempotent. Any later call fails with STORE. */
  close(): Promise<void>;
}
