/**
 * Labelled traffic against a served model, as a client sees it, and what the server's monitor made of
 * it. `sendTraffic` sends images in OIP v2 requests of `batch` rows (unique request ids), keeps
 * accuracy per answering version from the answers (a canary split shows up as two versions), and
 * posts the ground truth after each request when asked (labels arriving as the traffic goes, like
 * a labelling queue that keeps up). `observeMonitor` then waits until the monitor computed drift over
 * a window that ends after the traffic, gives the alert engine time to evaluate, and reads drift,
 * live accuracy per version and the alert events from `/metrics` and the dashboard API.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ModelautoError } from '../../core/errors.js';
import type { AlertEvent } from '../../monitor/types.js';
import type { ServerClient } from './client.js';
import type { LabelledImages } from './digits.js';
import { metricValue } from './prometheus.js';

export interface SendTrafficOptions {
  model: string;
  images: LabelledImages;
  /** Rows per request (default 10). */
  batch?: number;
  /** Request ids are `<prefix>-<first row>`; default a random prefix (ids must not repeat in a log). */
  idPrefix?: string;
  /** Post each request's labels as feedback right after its answer (default true). */
  feedback?: boolean;
  signal?: AbortSignal;
  onProgress?: (rows: number, total: number) => void;
}

export interface VersionTally {
  rows: number;
  correct: number;
  accuracy: number;
}

export interface TrafficResult {
  requests: number;
  rows: number;
  /** Requests that failed (the first error is kept). */
  errors: number;
  firstError: string | null;
  startedAt: number;
  endedAt: number;
  /** Accuracy of the answers against the labels, over every answered row. */
  accuracy: number;
  /** By the version that answered (`model_version`). */
  versions: Record<string, VersionTally>;
  feedbackRows: number;
  latencyMs: { p50: number; p99: number };
}

/** The predicted label of each row from a `classification: 1` output ("score:index:label"). */
function topLabels(data: readonly (number | string)[]): string[] {
  return data.map((v) => {
    const s = String(v);
    const a = s.indexOf(':');
    const b = a < 0 ? -1 : s.indexOf(':', a + 1);
    return b < 0 ? s : s.slice(b + 1);
  });
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export async function sendTraffic(client: ServerClient, options: SendTrafficOptions): Promise<TrafficResult> {
  const { model, images } = options;
  const batch = options.batch ?? 10;
  if (!Number.isInteger(batch) || batch < 1) {
    throw new ModelautoError('INVALID_ARGUMENT', `batch: expected a positive number of rows, got ${batch}`);
  }
  const meta = await client.metadata(model);
  const input = meta.inputs[0];
  const output = meta.outputs[0];
  if (!input || !output || meta.inputs.length !== 1) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `model ${model} takes ${meta.inputs.length} inputs (${meta.inputs.map((i) => i.name).join(', ')}): traffic sends one image tensor`,
    );
  }
  const sample = input.shape.slice(1);
  const d = images.shape.reduce((a, b) => a * b, 1);
  if (sample.reduce((a, b) => a * b, 1) !== d) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `model ${model} takes inputs of shape [${sample.join(', ')}], the images are [${images.shape.join(', ')}]`,
    );
  }
  const prefix = options.idPrefix ?? `traffic-${randomBytes(4).toString('hex')}`;
  const bytes = images.data instanceof Uint8Array;
  const versions: Record<string, VersionTally> = {};
  const latencies: number[] = [];
  let requests = 0;
  let errors = 0;
  let firstError: string | null = null;
  let feedbackRows = 0;
  let answered = 0;
  let correct = 0;
  const startedAt = Date.now();
  for (let start = 0; start < images.n; start += batch) {
    if (options.signal?.aborted) throw new ModelautoError('INTERRUPTED', 'traffic interrupted');
    const rows = Math.min(batch, images.n - start);
    const id = `${prefix}-${start}`;
    const t0 = performance.now();
    requests++;
    let predicted: string[];
    let version: string;
    try {
      const res = await client.infer(model, {
        id,
        inputs: [
          {
            name: input.name,
            shape: [rows, ...sample],
            datatype: bytes ? 'UINT8' : 'FP32',
            data: Array.from(images.data.subarray(start * d, (start + rows) * d)),
          },
        ],
        outputs: [{ name: output.name, parameters: { classification: 1 } }],
      });
      latencies.push(performance.now() - t0);
      predicted = topLabels(res.outputs[0]?.data ?? []);
      version = res.model_version;
    } catch (e) {
      if (e instanceof ModelautoError && e.code === 'INTERRUPTED') throw e;
      errors++;
      firstError ??= e instanceof Error ? e.message : String(e);
      continue;
    }
    const tally = (versions[version] ??= { rows: 0, correct: 0, accuracy: 0 });
    const labels = images.labels.slice(start, start + rows);
    labels.forEach((label, i) => {
      tally.rows++;
      answered++;
      if (predicted[i] === label) {
        tally.correct++;
        correct++;
      }
    });
    if (options.feedback !== false) {
      const r = await client.feedback(
        model,
        labels.map((label, row) => ({ request_id: id, row, label })),
      );
      feedbackRows += r.labelled;
    }
    options.onProgress?.(start + rows, images.n);
  }
  for (const t of Object.values(versions)) t.accuracy = t.rows ? t.correct / t.rows : Number.NaN;
  latencies.sort((a, b) => a - b);
  return {
    requests,
    rows: images.n,
    errors,
    firstError,
    startedAt,
    endedAt: Date.now(),
    accuracy: answered ? correct / answered : Number.NaN,
    versions,
    feedbackRows,
    latencyMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) },
  };
}

/** An alert event as traffic observes it (the dashboard API's event, without its id). */
export type ObservedAlert = Omit<AlertEvent, 'id'>;

export interface MonitorObservation {
  /** The latest drift report of the answering version, computed after the traffic ended. */
  driftShare: number | null;
  datasetDrift: boolean | null;
  driftRows: number | null;
  driftVersion: number | null;
  driftComputedAt: number | null;
  /** Live accuracy (labelled predictions in the monitor's quality window) by version. */
  liveAccuracy: Record<string, number>;
  /** Alert events of the model since `since`, oldest first. */
  alerts: ObservedAlert[];
  /** Rules firing for the model now. */
  firing: string[];
  notes: string[];
}

export interface ObserveOptions {
  /** Alert events from this time on (epoch ms). */
  since: number;
  /** Wait for a drift report computed at or after this time (epoch ms); default now. */
  until?: number;
  /** After the drift report, how long the alert engine gets to evaluate (default 2.5 s). */
  settleMs?: number;
  /** Longest wait for the drift report (default 30 s). */
  timeoutMs?: number;
  /** Version whose /metrics drift series to read when the dashboard API gives no report. */
  version?: number;
  signal?: AbortSignal;
}

/** What the monitor shows for `model` once it has seen the traffic that ended at `until`. */
export async function observeMonitor(
  client: ServerClient,
  model: string,
  options: ObserveOptions,
): Promise<MonitorObservation> {
  const until = options.until ?? Date.now();
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const notes: string[] = [];
  let dashboard = true;
  let report: Awaited<ReturnType<ServerClient['drift']>>['report'] = null;
  for (;;) {
    if (options.signal?.aborted)
      throw new ModelautoError('INTERRUPTED', 'interrupted while waiting for the monitor');
    try {
      const r = await client.drift(model);
      if (!r.available) {
        notes.push('the server runs without the live monitor');
        break;
      }
      if (r.report && r.report.computedAt >= until) {
        report = r.report;
        break;
      }
    } catch (e) {
      if (!(e instanceof ModelautoError && e.code === 'NOT_FOUND')) throw e;
      dashboard = false;
      notes.push('the dashboard API is off: drift and alerts read from /metrics only');
      break;
    }
    if (Date.now() > deadline) {
      notes.push(
        `no drift report computed after the traffic within ${Math.round((options.timeoutMs ?? 30_000) / 1000)} s (fewer rows than the drift window's minRows, or drift off)`,
      );
      break;
    }
    await sleep(250);
  }
  await sleep(options.settleMs ?? 2500);
  const samples = await client.metrics();
  const liveAccuracy: Record<string, number> = {};
  for (const s of samples) {
    if (s.name === 'modelauto_live_accuracy' && s.labels['model'] === model && s.labels['version']) {
      liveAccuracy[s.labels['version']] = s.value;
    }
  }
  let alerts: ObservedAlert[] = [];
  let firing: string[] = [];
  if (dashboard) {
    const a = await client.alerts(200);
    alerts = a.events
      .filter((e) => e.at >= options.since && (e.model === model || e.model === null))
      .map(({ id: _id, ...event }): ObservedAlert => event)
      .reverse();
    firing = a.status.filter((s) => s.state === 'firing' && s.model === model).map((s) => s.rule);
  }
  const version = report?.version ?? options.version ?? null;
  const byVersion = (name: string): number | null =>
    version === null ? null : metricValue(samples, name, { model, version: String(version) });
  const datasetDrift = byVersion('modelauto_dataset_drift');
  return {
    driftShare: report?.driftShare ?? byVersion('modelauto_drift_share'),
    datasetDrift: report ? report.datasetDrift : datasetDrift === null ? null : datasetDrift === 1,
    driftRows: report?.currentRows ?? null,
    driftVersion: version,
    driftComputedAt: report?.computedAt ?? null,
    liveAccuracy,
    alerts,
    firing,
    notes,
  };
}
