/**
 * Routes over the live monitor's read model: traffic and quality series, drift (ranked features, one
 * feature's histograms, drift share over time) and alerts. Without a monitor they answer 200 with
 * `available: false` and empty data, so the page can say "no live monitor" instead of failing; a
 * model the monitor does not watch is a 404.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ModelautoError } from '../../core/errors.js';
import type { MonitorReadModel } from '../types.js';
import type {
  AlertsResponse,
  DriftFeatureResponse,
  DriftResponse,
  LiveModelResponse,
  LiveOverviewResponse,
} from './api-types.js';
import { summarizeDrift } from './drift-rank.js';
import { handle, num, parseRequest } from './http.js';

const ModelParams = z.object({ model: z.string().min(1, 'expected a model name').max(64) });
const DriftQuery = z.strictObject({
  top: z.coerce
    .number()
    .int('expected an integer')
    .min(1, 'expected top >= 1')
    .max(10_000, 'expected top <= 10000')
    .default(50),
});
const FeatureQuery = z.strictObject({ name: z.string().min(1, 'expected a feature name').max(1024) });
const AlertsQuery = z.strictObject({
  limit: z.coerce
    .number()
    .int('expected an integer limit')
    .min(1, 'expected a limit >= 1')
    .max(1000, 'expected a limit <= 1000')
    .default(50),
});

function watched(monitor: MonitorReadModel, model: string): void {
  if (!monitor.modelNames().includes(model)) {
    throw new ModelautoError(
      'NOT_FOUND',
      `the live monitor does not watch a model named ${JSON.stringify(model)}; watched: ${monitor.modelNames().join(', ') || '(none)'}`,
    );
  }
}

export function registerLiveRoutes(app: FastifyInstance, monitor: MonitorReadModel | undefined): void {
  app.get(
    '/api/live',
    handle(async (): Promise<LiveOverviewResponse> => {
      if (!monitor) return { available: false, models: [], alerts: [] };
      const models = monitor
        .modelNames()
        .sort()
        .map((model) => {
          const traffic = monitor.traffic(model);
          const quality = monitor.quality(model);
          const drift = monitor.drift(model);
          return {
            model,
            latest: traffic.at(-1) ?? null,
            quality: quality.at(-1) ?? null,
            driftShare: drift ? num(drift.driftShare) : null,
            datasetDrift: drift ? drift.datasetDrift : null,
          };
        });
      return { available: true, models, alerts: monitor.alertStatus() };
    }),
  );

  app.get(
    '/api/live/:model',
    handle(async (request: { params: unknown }): Promise<LiveModelResponse> => {
      const { model } = parseRequest(ModelParams, request.params, 'path');
      if (!monitor) return { available: false, model, traffic: [], quality: [] };
      watched(monitor, model);
      return { available: true, model, traffic: monitor.traffic(model), quality: monitor.quality(model) };
    }),
  );

  app.get(
    '/api/drift/:model',
    handle(async (request: { params: unknown; query: unknown }): Promise<DriftResponse> => {
      const { model } = parseRequest(ModelParams, request.params, 'path');
      const { top } = parseRequest(DriftQuery, request.query, 'query');
      if (!monitor) return { available: false, model, report: null, history: [] };
      watched(monitor, model);
      const report = monitor.drift(model);
      return {
        available: true,
        model,
        report: report ? summarizeDrift(report, top) : null,
        history: monitor.driftHistory(model),
      };
    }),
  );

  app.get(
    '/api/drift/:model/feature',
    handle(async (request: { params: unknown; query: unknown }): Promise<DriftFeatureResponse> => {
      const { model } = parseRequest(ModelParams, request.params, 'path');
      const { name } = parseRequest(FeatureQuery, request.query, 'query');
      if (!monitor) return { available: false, model, feature: null };
      watched(monitor, model);
      const report = monitor.drift(model);
      if (!report) return { available: true, model, feature: null };
      const feature =
        report.features.find((f) => f.feature === name) ??
        (report.prediction && report.prediction.feature === name ? report.prediction : undefined);
      if (!feature) {
        throw new ModelautoError(
          'NOT_FOUND',
          `the drift report of ${model} has no feature named ${JSON.stringify(name)} (${report.features.length} features)`,
        );
      }
      return { available: true, model, feature };
    }),
  );

  app.get(
    '/api/alerts',
    handle(async (request: { query: unknown }): Promise<AlertsResponse> => {
      const { limit } = parseRequest(AlertsQuery, request.query, 'query');
      if (!monitor) return { available: false, status: [], events: [] };
      const events = [...(await monitor.alerts(limit))].sort((a, b) => b.at - a.at);
      return { available: true, status: monitor.alertStatus(), events };
    }),
  );
}
