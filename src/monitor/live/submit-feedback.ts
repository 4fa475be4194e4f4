/**
 * `submitFeedback(model, labels, options)`: ground-truth labels for logged predictions, from code or
 * from `modelauto feedback <model> --csv labels.csv`.
 *
 * - With `url` (a running server): POSTed to its feedback API in bodies of at most
 *   MAX_FEEDBACK_LABELS; the server's live quality updates at once. Each body is all or nothing; when
 *   one fails, the labels of the bodies before it are recorded and the error says which were.
 * - Without: written straight into the prediction log of the store (`store` URI, default
 *   $MODELAUTO_STORE or ./.modelauto) in one transaction; servers on that store pick the labels up at
 *   their next quality refresh (quality.interval).
 *
 * Either way: an unknown request id fails with NOT_FOUND naming it; a (request, row) labelled twice
 * keeps the last label.
 */
import { ModelautoError, type ErrorCode } from '../../core/errors.js';
import { defaultStoreLocation } from '../../store/open.js';
import { openPredictionLog } from '../../store/prediction-log-open.js';
import type { FeedbackLabel, LabelledPrediction } from '../../store/prediction-log.js';
import { feedbackBody, MAX_FEEDBACK_LABELS } from './feedback.js';

export interface SubmitFeedbackOptions {
  /** A running server's base URL, e.g. http://127.0.0.1:8501. */
  url?: string;
  /** Store URI when writing to the prediction log directly. */
  store?: string;
  /** Label time when writing directly (epoch ms; default now; a server uses its own clock). */
  now?: number;
}

export interface SubmitFeedbackResult {
  /** The labelled rows, in input order (version, predicted class, label). */
  labelled: LabelledPrediction[];
  /** Where the labels went: the server URL or the store location. */
  target: string;
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'INVALID_ARGUMENT',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'INVALID_ARGUMENT',
  503: 'UNAVAILABLE',
};

interface FeedbackResponse {
  labels: {
    request_id: string;
    row: number;
    version: number;
    label: string;
    predicted: string;
    predicted_at: number;
    labelled_at: number;
  }[];
}

async function post(
  base: string,
  model: string,
  labels: readonly FeedbackLabel[],
  from: number,
): Promise<LabelledPrediction[]> {
  const url = `${base.replace(/\/+$/, '')}/v1/models/${encodeURIComponent(model)}/feedback`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(feedbackBody(labels)),
    });
  } catch (e) {
    throw new ModelautoError(
      'UNAVAILABLE',
      `cannot reach ${url}: ${e instanceof Error ? e.message : String(e)}`,
      {
        cause: e,
      },
    );
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const message = (json as { error?: unknown } | undefined)?.error;
    const done = from > 0 ? ` (labels 1-${from} were recorded before)` : '';
    throw new ModelautoError(
      STATUS_CODES[res.status] ?? 'UNAVAILABLE',
      `${url} answered ${res.status}: ${typeof message === 'string' ? message : text.slice(0, 200)}${done}`,
    );
  }
  return (json as FeedbackResponse).labels.map((l) => ({
    model,
    version: l.version,
    requestId: l.request_id,
    row: l.row,
    predicted: l.predicted,
    label: l.label,
    predictedAt: l.predicted_at,
    labelledAt: l.labelled_at,
  }));
}

export async function submitFeedback(
  model: string,
  labels: readonly FeedbackLabel[],
  options: SubmitFeedbackOptions = {},
): Promise<SubmitFeedbackResult> {
  if (labels.length === 0) throw new ModelautoError('INVALID_ARGUMENT', 'no labels to submit');
  const now = options.now ?? Date.now();
  if (options.url !== undefined) {
    const labelled: LabelledPrediction[] = [];
    for (let from = 0; from < labels.length; from += MAX_FEEDBACK_LABELS) {
      labelled.push(
        ...(await post(options.url, model, labels.slice(from, from + MAX_FEEDBACK_LABELS), from)),
      );
    }
    return { labelled, target: options.url };
  }
  const log = await openPredictionLog(options.store ?? defaultStoreLocation());
  try {
    return { labelled: await log.label(model, labels, now), target: log.location };
  } finally {
    await log.close();
  }
}
