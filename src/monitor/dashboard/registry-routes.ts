/**
 * Read-only registry routes: models with their aliases, a model's versions and alias history, and a
 * version's evaluation and optimization lineage.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ModelautoError } from '../../core/errors.js';
import type { Stores } from '../../store/open.js';
import { ModelNameSchema, type ModelVersionRecord } from '../../store/registry.js';
import type { TrackingStore } from '../../store/tracking-store.js';
import type { RunRecord } from '../../store/types.js';
import type { MonitorReadModel } from '../types.js';
import type {
  EvaluationView,
  ModelDetailResponse,
  ModelsResponse,
  VersionDetailResponse,
} from './api-types.js';
import { handle, numRecord, parseRequest } from './http.js';
import { versionLineage } from './lineage.js';
import { aliasMoveView, modelSummary, runSummary, versionSummary } from './summaries.js';

/** The artifact the train and optimize jobs write with the test-split scores (pipeline/bundle.ts). */
const EVALUATION_ARTIFACT = 'evaluation.json';

const ModelParams = z.object({ name: ModelNameSchema });
const VersionParams = z.object({
  name: ModelNameSchema,
  version: z.coerce.number().int('expected an integer version').positive('expected a version >= 1'),
});

const EvaluationSchema = z.object({
  task: z.enum(['classification', 'regression']),
  n: z.number(),
  classes: z.array(z.string()).optional(),
  scalars: z.record(z.string(), z.number().nullable()),
  confusionMatrix: z.array(z.array(z.number())).optional(),
});

function monitoredSet(monitor: MonitorReadModel | undefined): Set<string> {
  return new Set(monitor?.modelNames() ?? []);
}

async function readEvaluation(tracking: TrackingStore, run: RunRecord): Promise<EvaluationView | null> {
  if (!run.artifacts.some((a) => a.name === EVALUATION_ARTIFACT)) return null;
  const text = (await tracking.readArtifact(run.id, EVALUATION_ARTIFACT)).toString('utf8');
  let parsed: z.infer<typeof EvaluationSchema>;
  try {
    parsed = EvaluationSchema.parse(JSON.parse(text));
  } catch (e) {
    throw new ModelautoError(
      'STORE',
      `run ${run.id}: artifact ${EVALUATION_ARTIFACT} is not an evaluation (expected {task, n, scalars, ...}): ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  return {
    task: parsed.task,
    n: parsed.n,
    classes: parsed.classes ?? null,
    scalars: numRecord(Object.fromEntries(Object.entries(parsed.scalars).map(([k, v]) => [k, v ?? NaN]))),
    confusionMatrix: parsed.confusionMatrix ?? null,
  };
}

async function runOrNull(tracking: TrackingStore, id: string | null): Promise<RunRecord | null> {
  if (!id) return null;
  try {
    return await tracking.getRun(id);
  } catch (e) {
    if (e instanceof ModelautoError && e.code === 'NOT_FOUND') return null;
    throw e;
  }
}

export function registerRegistryRoutes(
  app: FastifyInstance,
  stores: Stores,
  monitor: MonitorReadModel | undefined,
): void {
  const { registry, tracking } = stores;

  app.get(
    '/api/models',
    handle(async (): Promise<ModelsResponse> => {
      const monitored = monitoredSet(monitor);
      const models = await registry.listModels();
      const summaries = await Promise.all(
        models.map(async (m) => {
          const latest =
            m.latestVersion !== null ? await registry.getVersion(m.name, m.latestVersion) : undefined;
          return modelSummary(m, latest, monitored);
        }),
      );
      return { models: summaries, monitored: [...monitored].sort() };
    }),
  );

  app.get(
    '/api/models/:name',
    handle(async (request: { params: unknown }): Promise<ModelDetailResponse> => {
      const { name } = parseRequest(ModelParams, request.params, 'path');
      const model = await registry.getModel(name);
      const versions = await registry.listVersions(name);
      const history = await registry.aliasHistory(name);
      return {
        model: modelSummary(
          model,
          versions.find((v) => v.version === model.latestVersion),
          monitoredSet(monitor),
        ),
        versions: versions.map(versionSummary),
        aliasHistory: history.map(aliasMoveView).reverse(),
      };
    }),
  );

  app.get(
    '/api/models/:name/versions/:version',
    handle(async (request: { params: unknown }): Promise<VersionDetailResponse> => {
      const { name, version } = parseRequest(VersionParams, request.params, 'path');
      const record = await registry.getVersion(name, version);
      const all = await registry.listVersions(name);
      const run = await runOrNull(tracking, record.sourceRunId);
      let parent: ModelVersionRecord | null = null;
      if (record.parentModel) {
        parent = await registry
          .getVersion(record.parentModel.name, record.parentModel.version)
          .catch((e: unknown) => {
            if (e instanceof ModelautoError && e.code === 'NOT_FOUND') return null;
            throw e;
          });
      }
      return {
        version: versionSummary(record),
        run: run ? runSummary(run) : null,
        evaluation: run ? await readEvaluation(tracking, run) : null,
        parent: parent ? versionSummary(parent) : null,
        lineage: await versionLineage(tracking, record, all),
      };
    }),
  );
}
