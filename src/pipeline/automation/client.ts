/**
 * A small HTTP client for a modelauto server: OIP v2 metadata and infer, the feedback endpoint,
 * `/metrics`, the dashboard's read-only JSON API, and (with a token) the admin API. Errors keep the
 * server's message and status: `POST /v2/models/mnist/infer: 400 inputs[0]: ...`.
 */
import { ModelautoError, type ErrorCode } from '../../core/errors.js';
import type {
  AlertsResponse,
  DriftResponse,
  ModelDetailResponse,
} from '../../monitor/dashboard/api-types.js';
import { parseMetricSamples, type MetricSample } from './prometheus.js';

export interface OipTensorMeta {
  name: string;
  datatype: string;
  shape: number[];
}

export interface OipModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: OipTensorMeta[];
  outputs: OipTensorMeta[];
}

export interface OipInferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: { name: string; shape: number[]; datatype: string; data: (number | string)[] }[];
}

export interface FeedbackResponse {
  model: string;
  labelled: number;
  labels: { request_id: string; row: number; version: number; correct: boolean }[];
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'INVALID_ARGUMENT',
  401: 'USAGE',
  403: 'USAGE',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  503: 'UNAVAILABLE',
};

export class ServerClient {
  readonly url: string;

  constructor(
    url: string,
    private readonly options: { adminToken?: string; timeoutMs?: number; signal?: AbortSignal } = {},
  ) {
    this.url = url.replace(/\/+$/, '');
  }

  /** A JSON request; a non-2xx answer throws with the server's `error` message. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const text = await this.raw(method, path, body);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ModelautoError(
        'IO',
        `${method} ${this.url}${path}: the answer is not JSON: ${text.slice(0, 200)}`,
      );
    }
  }

  private async raw(method: string, path: string, body?: unknown): Promise<string> {
    const signals = [AbortSignal.timeout(this.options.timeoutMs ?? 30_000)];
    if (this.options.signal) signals.push(this.options.signal);
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (path.startsWith('/admin/') && this.options.adminToken)
      headers['authorization'] = `Bearer ${this.options.adminToken}`;
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.any(signals),
      });
    } catch (e) {
      if (this.options.signal?.aborted)
        throw new ModelautoError('INTERRUPTED', `${method} ${path}: interrupted`);
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      throw new ModelautoError(
        'UNAVAILABLE',
        `${method} ${this.url}${path}: ${cause ?? (e instanceof Error ? e.message : String(e))}`,
        { cause: e },
      );
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, 500);
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? message;
      } catch {
        // Not JSON: the text itself says what went wrong.
      }
      throw new ModelautoError(
        STATUS_CODES[res.status] ?? 'IO',
        `${method} ${this.url}${path}: ${res.status} ${message}`,
      );
    }
    return text;
  }

  metadata(model: string): Promise<OipModelMetadata> {
    return this.request('GET', `/v2/models/${encodeURIComponent(model)}`);
  }

  infer(model: string, body: unknown): Promise<OipInferResponse> {
    return this.request('POST', `/v2/models/${encodeURIComponent(model)}/infer`, body);
  }

  feedback(
    model: string,
    labels: { request_id: string; row: number; label: string }[],
  ): Promise<FeedbackResponse> {
    return this.request('POST', `/v1/models/${encodeURIComponent(model)}/feedback`, { labels });
  }

  async metrics(): Promise<MetricSample[]> {
    return parseMetricSamples(await this.raw('GET', '/metrics'));
  }

  drift(model: string, top = 5): Promise<DriftResponse> {
    return this.request('GET', `/api/drift/${encodeURIComponent(model)}?top=${top}`);
  }

  alerts(limit = 50): Promise<AlertsResponse> {
    return this.request('GET', `/api/alerts?limit=${limit}`);
  }

  model(model: string): Promise<ModelDetailResponse> {
    return this.request('GET', `/api/models/${encodeURIComponent(model)}`);
  }
}
