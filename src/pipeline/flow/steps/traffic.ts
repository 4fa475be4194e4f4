/**
 * `uses: traffic` — sends labelled images to a served model (MNIST test digits, or the rows of a run's
 * split: its holdout replayed through the server), optionally with an injected shift, posts the
 * ground truth as feedback as it goes, and reports what the client saw (accuracy per answering
 * version) and what the server's monitor saw once it caught up: drift over a window ending after the
 * traffic, live accuracy per version, and the alerts that fired or resolved.
 *
 *   with: { deployment: mnist | url: http://127.0.0.1:8501, model: mnist,
 *           source?: mnist-test | { run: <run id>, split?: test }, offset?: 0, rows?: 500,
 *           shift?: none | invert | rotate | { kind: rotate, angle: 90 }, batch?: 10, feedback?: true,
 *           observe?: true, settle?: 2500ms, timeout?: 30s }
 *   outputs: url, model, rows, shift, started_at, ended_at, accuracy, versions, feedback_rows, errors,
 *            drift_share, dataset_drift, drift_rows, live_accuracy, alerts, alerts_fired, firing, latency_ms, notes
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ModelautoError } from '../../../core/errors.js';
import { DurationSchema } from '../../../monitor/alerts/duration.js';
import { ModelNameSchema } from '../../../store/registry.js';
import type { JsonValue } from '../../../store/types.js';
import { ServerClient } from '../../automation/client.js';
import { mnistTestDigits, runSplitImages, shiftImages, ShiftSchema } from '../../automation/digits.js';
import { observeMonitor, sendTraffic } from '../../automation/traffic.js';
import { RunRefSchema } from './common.js';
import { DeploymentNameSchema } from './deploy.js';
import { deploymentsModule } from './lazy.js';
import { defineStep } from './types.js';

export const TrafficStepInputSchema = z
  .strictObject({
    /** A deployment of this pipeline's process, or a server's URL. */
    deployment: DeploymentNameSchema.optional(),
    url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
    model: ModelNameSchema,
    source: z
      .union([
        z.literal('mnist-test'),
        z.strictObject({ run: RunRefSchema, split: z.enum(['test', 'validation', 'train']).default('test') }),
      ])
      .default('mnist-test'),
    offset: z.int().nonnegative().default(0),
    /** Rows sent (default: 500 MNIST test digits, or the whole split from `offset`). */
    rows: z.int().positive().optional(),
    shift: ShiftSchema.prefault('none'),
    batch: z.int().positive().max(1000).default(10),
    feedback: z.boolean().default(true),
    /** Wait for the monitor's drift report after the traffic, then read drift, quality and alerts. */
    observe: z.boolean().default(true),
    /** After the drift report, how long the alert engine gets before the alerts are read. */
    settle: DurationSchema.default(2500),
    /** Longest wait for the drift report. */
    timeout: DurationSchema.default(30_000),
  })
  .refine((v) => (v.deployment === undefined) !== (v.url === undefined), 'expected one of deployment or url');
export type TrafficStepInput = z.infer<typeof TrafficStepInputSchema>;

const finite = (v: number | null): number | null => (v !== null && Number.isFinite(v) ? v : null);

export const trafficStep = defineStep<TrafficStepInput>({
  uses: 'traffic',
  summary: 'send labelled (optionally shifted) traffic to a served model; report what the monitor saw',
  schema: TrafficStepInputSchema,
  outputs: [
    'url',
    'model',
    'rows',
    'shift',
    'started_at',
    'ended_at',
    'accuracy',
    'versions',
    'feedback_rows',
    'errors',
    'drift_share',
    'dataset_drift',
    'drift_rows',
    'live_accuracy',
    'alerts',
    'alerts_fired',
    'firing',
    'latency_ms',
    'notes',
  ],
  placement: 'coordinator',
  cacheable: false,
  async run(input, ctx) {
    const url = input.url ?? (await deploymentsModule()).requireDeployment(input.deployment as string).url;
    const client = new ServerClient(url, { signal: ctx.signal });
    const base =
      input.source === 'mnist-test'
        ? await mnistTestDigits(input.offset, input.rows ?? 500)
        : await runSplitImages(
            ctx.stores.tracking,
            await ctx.stores.tracking.resolveRunId(input.source.run),
            input.source.split,
            input.offset,
            input.rows,
          );
    const images = shiftImages(base, input.shift);
    ctx.log(`sending ${images.n} rows to ${input.model} at ${url}: ${images.description}`);
    const traffic = await sendTraffic(client, {
      model: input.model,
      images,
      batch: input.batch,
      feedback: input.feedback,
      idPrefix: `${ctx.pipelineRunId.slice(0, 8)}-${ctx.stepId}-${randomBytes(3).toString('hex')}`,
      signal: ctx.signal,
      onProgress: (done, total) => ctx.progress((0.8 * done) / total, `${done}/${total} rows`),
    });
    if (traffic.errors === traffic.requests) {
      throw new ModelautoError('UNAVAILABLE', `every request failed; the first: ${traffic.firstError ?? ''}`);
    }
    const byVersion = Object.entries(traffic.versions)
      .map(([v, t]) => `v${v} ${(100 * t.accuracy).toFixed(1)}% of ${t.rows}`)
      .join(', ');
    ctx.log(
      `answered ${Object.values(traffic.versions).reduce((n, t) => n + t.rows, 0)} rows in ${((traffic.endedAt - traffic.startedAt) / 1000).toFixed(1)} s` +
        ` (p50 ${traffic.latencyMs.p50.toFixed(1)} ms): accuracy ${byVersion}; ${traffic.feedbackRows} labels sent` +
        (traffic.errors ? `; ${traffic.errors} request(s) failed: ${traffic.firstError}` : ''),
    );
    const mostAnswered = Object.entries(traffic.versions).sort((a, b) => b[1].rows - a[1].rows)[0]?.[0];
    const observed = input.observe
      ? await observeMonitor(client, input.model, {
          since: traffic.startedAt,
          until: traffic.endedAt,
          settleMs: input.settle,
          timeoutMs: input.timeout,
          signal: ctx.signal,
          ...(mostAnswered ? { version: Number(mostAnswered) } : {}),
        })
      : null;
    ctx.progress(1);
    const primary = String(observed?.driftVersion ?? mostAnswered ?? '');
    const fired = [
      ...new Set((observed?.alerts ?? []).filter((a) => a.kind === 'firing').map((a) => a.rule)),
    ];
    if (observed) {
      ctx.log(
        `monitor: drift share ${observed.driftShare?.toFixed(3) ?? 'n/a'} over ${observed.driftRows ?? '?'} rows` +
          ` (dataset drift ${observed.datasetDrift === null ? 'n/a' : observed.datasetDrift ? 'yes' : 'no'}),` +
          ` live accuracy ${
            Object.entries(observed.liveAccuracy)
              .map(([v, a]) => `v${v} ${(100 * a).toFixed(1)}%`)
              .join(', ') || 'n/a'
          }; alerts fired: ${fired.join(', ') || 'none'}` +
          (observed.notes.length ? ` (${observed.notes.join('; ')})` : ''),
      );
    }
    const versions: Record<string, JsonValue> = {};
    for (const [v, t] of Object.entries(traffic.versions)) {
      versions[v] = {
        rows: t.rows,
        accuracy: finite(t.accuracy),
        live_accuracy: finite(observed?.liveAccuracy[v] ?? null),
      };
    }
    return {
      outputs: {
        url,
        model: input.model,
        rows: images.n,
        shift: input.shift.kind === 'rotate' ? `rotate ${input.shift.angle}` : input.shift.kind,
        started_at: traffic.startedAt,
        ended_at: traffic.endedAt,
        accuracy: finite(traffic.accuracy),
        versions,
        feedback_rows: traffic.feedbackRows,
        errors: traffic.errors,
        drift_share: finite(observed?.driftShare ?? null),
        dataset_drift: observed?.datasetDrift ?? null,
        drift_rows: observed?.driftRows ?? null,
        live_accuracy: finite(observed?.liveAccuracy[primary] ?? null),
        alerts: (observed?.alerts ?? []) as unknown as JsonValue,
        alerts_fired: fired,
        firing: observed?.firing ?? [],
        latency_ms: { p50: finite(traffic.latencyMs.p50), p99: finite(traffic.latencyMs.p99) },
        notes: observed?.notes ?? [],
      },
    };
  },
});
