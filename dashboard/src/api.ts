/**
 * Typed GETs of the server's dashboard API. The response types are the server's own (imported from
 * its source, erased at build time).
 */
import type {
  AlertsResponse,
  DriftFeatureResponse,
  DriftResponse,
  InfoResponse,
  LiveModelResponse,
  LiveOverviewResponse,
  ModelDetailResponse,
  ModelsResponse,
  PipelineDetailResponse,
  PipelineLogsResponse,
  PipelinesResponse,
  QueueResponse,
  RunDetailResponse,
  RunsResponse,
  VersionDetailResponse,
} from '../../src/monitor/dashboard/api-types.js';

export type * from '../../src/monitor/dashboard/api-types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'the server cannot be reached');
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(res.status, `unexpected response from ${path} (HTTP ${res.status})`);
  }
  if (!res.ok) {
    const message =
      typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string'
        ? (body as { error: string }).error
        : `HTTP ${res.status}`;
    throw new ApiError(res.status, message);
  }
  return body as T;
}

const enc = encodeURIComponent;

export const api = {
  info: (s?: AbortSignal) => get<InfoResponse>('/api/info', s),
  models: (s?: AbortSignal) => get<ModelsResponse>('/api/models', s),
  model: (name: string, s?: AbortSignal) => get<ModelDetailResponse>(`/api/models/${enc(name)}`, s),
  version: (name: string, version: number, s?: AbortSignal) =>
    get<VersionDetailResponse>(`/api/models/${enc(name)}/versions/${version}`, s),
  runs: (q: { kind?: string; status?: string; limit?: number }, s?: AbortSignal) => {
    const params = new URLSearchParams();
    if (q.kind) params.set('kind', q.kind);
    if (q.status) params.set('status', q.status);
    if (q.limit) params.set('limit', String(q.limit));
    const qs = params.toString();
    return get<RunsResponse>(`/api/runs${qs ? `?${qs}` : ''}`, s);
  },
  run: (id: string, s?: AbortSignal) => get<RunDetailResponse>(`/api/runs/${enc(id)}`, s),
  liveOverview: (s?: AbortSignal) => get<LiveOverviewResponse>('/api/live', s),
  live: (model: string, s?: AbortSignal) => get<LiveModelResponse>(`/api/live/${enc(model)}`, s),
  drift: (model: string, top: number, s?: AbortSignal) =>
    get<DriftResponse>(`/api/drift/${enc(model)}?top=${top}`, s),
  driftFeature: (model: string, feature: string, s?: AbortSignal) =>
    get<DriftFeatureResponse>(`/api/drift/${enc(model)}/feature?name=${enc(feature)}`, s),
  alerts: (limit: number, s?: AbortSignal) => get<AlertsResponse>(`/api/alerts?limit=${limit}`, s),
  pipelines: (q: { status?: string; limit?: number }, s?: AbortSignal) => {
    const params = new URLSearchParams();
    if (q.status) params.set('status', q.status);
    if (q.limit) params.set('limit', String(q.limit));
    const qs = params.toString();
    return get<PipelinesResponse>(`/api/pipelines${qs ? `?${qs}` : ''}`, s);
  },
  pipeline: (id: string, s?: AbortSignal) => get<PipelineDetailResponse>(`/api/pipelines/${enc(id)}`, s),
  pipelineLogs: (id: string, after: number, s?: AbortSignal) =>
    get<PipelineLogsResponse>(`/api/pipelines/${enc(id)}/logs?after=${after}`, s),
  queue: (s?: AbortSignal) => get<QueueResponse>('/api/queue', s),
};
