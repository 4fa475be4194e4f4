/**
 * Registering a tracked run as a model version: the version points at the run's artifacts (their
 * content-addressed blobs, nothing is copied), and takes the run's test metrics, params and data
 * fingerprint.
 */
import { z } from 'zod';
import { ModelautoError } from '../core/errors.js';
import {
  AliasSchema,
  ModelVersionRefSchema,
  ModelVersionStatusSchema,
  RegistryTagsSchema,
  type ModelRegistry,
  type ModelVersionRecord,
} from './registry.js';
import type { TrackingStore } from './tracking-store.js';
import { parseInput } from './validate.js';

export const TEST_METRIC_PREFIX = 'test_';

export const RegisterRunOptionsSchema = z.strictObject({
  description: z.string().min(1, 'expected a non-empty description').optional(),
  tags: RegistryTagsSchema.optional(),
  /** Pointed at the new version in the registering transaction. */
  aliases: z.array(AliasSchema).optional(),
  status: ModelVersionStatusSchema.optional(),
  parentModel: ModelVersionRefSchema.optional(),
  actor: z.string().min(1).optional(),
  reason: z.string().min(1).optional(),
  /** Default true: the first registration creates the model. */
  createModel: z.boolean().optional(),
  /** Which of the run's latest metrics the version keeps, by key prefix (default `test_`, the test-split scores). */
  metricPrefix: z.string().optional(),
});
export type RegisterRunOptions = z.input<typeof RegisterRunOptionsSchema>;

/**
 * Registers run `runRef` (an id or a unique prefix) of `tracking` as the next version of `modelName`.
 * The run must be finished and have artifacts; `tracking` and `registry` must be the same store.
 */
export async function registerRun(
  tracking: TrackingStore,
  registry: ModelRegistry,
  runRef: string,
  modelName: string,
  options: RegisterRunOptions = {},
): Promise<ModelVersionRecord> {
  const opts = parseInput(RegisterRunOptionsSchema, options, 'registerRun.options');
  if (tracking.location !== registry.location) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `the run's store (${tracking.location}) and the registry (${registry.location}) differ; ` +
        'a version can only point at a run and artifacts of its own store',
      { location: { path: 'registerRun.registry' } },
    );
  }
  const run = await tracking.getRun(await tracking.resolveRunId(runRef));
  if (run.status !== 'finished') {
    throw new ModelautoError(
      'CONFLICT',
      `run ${run.id} (${run.kind} "${run.name}") is ${run.status}; only a finished run can be registered`,
      { location: { path: 'registerRun.runId' } },
    );
  }
  if (run.artifacts.length === 0) {
    throw new ModelautoError('CONFLICT', `run ${run.id} has no artifacts: there is no model to register`, {
      location: { path: 'registerRun.runId' },
    });
  }
  const prefix = opts.metricPrefix ?? TEST_METRIC_PREFIX;
  const metrics = Object.fromEntries(
    Object.entries(run.metrics)
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, point]) => [key, point.value]),
  );
  return registry.registerVersion(modelName, {
    sourceRunId: run.id,
    artifacts: run.artifacts.map((a) => ({ name: a.name, sha256: a.sha256, size: a.size })),
    ...(run.dataFingerprint !== null ? { dataFingerprint: run.dataFingerprint } : {}),
    metrics,
    params: run.params,
    ...(opts.tags ? { tags: opts.tags } : {}),
    ...(opts.description ? { description: opts.description } : {}),
    ...(opts.status ? { status: opts.status } : {}),
    ...(opts.parentModel ? { parentModel: opts.parentModel } : {}),
    ...(opts.aliases ? { aliases: opts.aliases } : {}),
    ...(opts.actor ? { actor: opts.actor } : {}),
    ...(opts.reason ? { reason: opts.reason } : {}),
    createModel: opts.createModel ?? true,
  });
}
