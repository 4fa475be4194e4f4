/**
 * Read-only tracking routes: the run list (filtered by kind and status) and one run with the per-step
 * history of its metrics, the training curves.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Stores } from '../../store/open.js';
import { RunStatusSchema } from '../../store/types.js';
import type { MetricCurve, RunDetailResponse, RunsResponse } from './api-types.js';
import { handle, num, parseRequest } from './http.js';
import { childRuns } from './run-scan.js';
import { runSummary } from './summaries.js';

/** A run with more metric keys than this shows the first ones (by name) as curves. */
const MAX_CURVES = 64;
/** Children listed under a run (an optimize search can have many candidates). */
const MAX_CHILDREN = 200;

const RunsQuery = z.strictObject({
  kind: z.string().min(1, 'expected a non-empty kind').max(64).optional(),
  status: RunStatusSchema.optional(),
  limit: z.coerce
    .number()
    .int('expected an integer limit')
    .min(1, 'expected a limit >= 1')
    .max(1000, 'expected a limit <= 1000')
    .default(100),
});

const RunParams = z.object({
  id: z.string().regex(/^[0-9a-f]{4,32}$/, 'expected a run id (or a prefix of at least 4 hex characters)'),
});

export function registerRunsRoutes(app: FastifyInstance, stores: Stores): void {
  const { tracking } = stores;

  app.get(
    '/api/runs',
    handle(async (request: { query: unknown }): Promise<RunsResponse> => {
      const q = parseRequest(RunsQuery, request.query, 'query');
      const runs = await tracking.listRuns({
        ...(q.kind ? { kind: q.kind } : {}),
        ...(q.status ? { status: q.status } : {}),
        limit: q.limit,
      });
      return {
        runs: runs.map(runSummary),
        kinds: [...new Set(runs.map((r) => r.kind))].sort(),
      };
    }),
  );

  app.get(
    '/api/runs/:id',
    handle(async (request: { params: unknown }): Promise<RunDetailResponse> => {
      const { id } = parseRequest(RunParams, request.params, 'path');
      const run = await tracking.getRun(await tracking.resolveRunId(id));
      const keys = Object.keys(run.metrics).sort().slice(0, MAX_CURVES);
      const curves: MetricCurve[] = [];
      for (const key of keys) {
        const history = await tracking.getMetricHistory(run.id, key);
        const steps = new Set(history.map((p) => p.step));
        // One point (a final test score) is a number, not a curve.
        if (steps.size < 2) continue;
        curves.push({ key, points: history.map((p) => [p.step, num(p.value)]) });
      }
      const children = (await childRuns(tracking, run)).slice(0, MAX_CHILDREN);
      return {
        run: runSummary(run),
        params: run.params,
        curves,
        children: children.map(runSummary),
        artifacts: run.artifacts.map((a) => ({ name: a.name, size: a.size })),
      };
    }),
  );
}
