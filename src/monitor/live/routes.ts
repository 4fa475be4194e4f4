/**
 * The monitor's HTTP routes on the model server:
 *
 *   GET  /metrics                      Prometheus text format (the monitor's own registry)
 *   POST /v1/models/{model}/feedback   {"labels": [{"request_id", "label", "row"?}, ...]} (feedback.ts)
 *
 * Feedback answers `{"model", "labelled": n, "labels": [{"request_id", "row", "version", "label",
 * "predicted", "correct", "predicted_at", "labelled_at"}]}` (times in epoch ms); errors are `{"error": "..."}` like the rest of the server (404 for an
 * unknown request id, naming it; 400 for a bad body, row or class).
 */
import type { FastifyInstance } from 'fastify';
import { modelName } from '../../serve/http/paths.js';
import { parseFeedbackBody } from './feedback.js';
import type { LiveMonitor } from './monitor.js';

export const METRICS_PATH = '/metrics';
export const FEEDBACK_PATH = '/v1/models/:model/feedback';

export function registerMonitorRoutes(app: FastifyInstance, monitor: LiveMonitor): void {
  app.get(METRICS_PATH, async (_request, reply) => {
    const text = await monitor.metrics.text();
    return reply
      .header('content-type', monitor.metrics.contentType)
      .header('cache-control', 'no-store')
      .send(text);
  });

  app.post(FEEDBACK_PATH, async (request, reply) => {
    const model = modelName((request.params as { model: string }).model);
    const labels = parseFeedbackBody(request.body);
    const joined = await monitor.feedback(model, labels);
    return reply.header('content-type', 'application/json').send(
      JSON.stringify({
        model,
        labelled: joined.length,
        labels: joined.map((j) => ({
          request_id: j.requestId,
          row: j.row,
          version: j.version,
          label: j.label,
          predicted: j.predicted,
          correct: j.label === j.predicted,
          predicted_at: j.predictedAt,
          labelled_at: j.labelledAt,
        })),
      }),
    );
  });
}
