/**
 * The hook a higher layer (the monitor) uses to watch the server without the server knowing it:
 * register extra routes, see every inference request once it has been answered (status, rows, the raw
 * inputs as decoded before the saved preprocessing, the outputs, durations) and every batch the
 * batchers run. Without an observer nothing here runs: no request ids are generated, no traces kept.
 *
 * Request ids: the client's `x-request-id` header, or OIP v2's body `id` (which wins, as the response
 * echoes it), else a generated UUID. The id goes back in the `x-request-id` response header of every
 * inference response, failures included, and in OIP's `id`.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { ModelautoError } from '../core/errors.js';
import type { DecodedInputs } from './features.js';
import type { ModelManager } from './manager.js';
import type { ServedOutputs } from './served-version.js';
import type { ServedSignature } from './signature.js';
import { parseOipPath, parseTfPath } from './http/paths.js';

export const REQUEST_ID_HEADER = 'x-request-id';
/** Longest request id accepted (they are stored with the prediction log). */
export const MAX_REQUEST_ID_LENGTH = 256;

export type ServeProtocol = 'tfserving' | 'oip';

/** One answered inference request (successful or not). */
export interface InferenceEvent {
  requestId: string;
  /** A served model; requests naming a model that is not served are not reported. */
  model: string;
  /** The version that answered; null when the request failed before one was chosen. */
  version: number | null;
  protocol: ServeProtocol;
  /** HTTP status of the response. */
  status: number;
  /** Rows in the request (0 when it failed before decoding). */
  rows: number;
  /** Raw decoded inputs by served input name (before the saved preprocessing); null when not decoded. */
  inputs: DecodedInputs | null;
  /** Outputs as served; null on failure. Views into batch buffers: copy what you keep. */
  outputs: ServedOutputs | null;
  /** What the answering version serves (inputs, outputs, class labels); null when none was chosen. */
  signature: ServedSignature | null;
  /** When the request arrived (epoch ms). */
  receivedAt: number;
  /** From arrival to the response sent. */
  totalSeconds: number;
  /** Preprocessing, queueing and running (null when the request did not reach the model). */
  inferenceSeconds: number | null;
}

/** One batch a version's batcher ran. */
export interface BatchEvent {
  model: string;
  version: number;
  rows: number;
  /** Rows still waiting when the batch finished. */
  queuedRows: number;
  runSeconds: number;
}

export interface ServeObserver {
  /** Called once before the routes of the protocols are registered: add routes, keep the manager. */
  setup?(app: FastifyInstance, manager: ModelManager): void;
  /** Called synchronously after every inference response; must be cheap and must not throw. */
  onInference?(event: InferenceEvent): void;
  onBatch?(event: BatchEvent): void;
  /** The clock arrival times are read from (epoch ms); default Date.now. */
  now?(): number;
}

/** What runInference fills in while it works on a request. */
export interface InferenceTrace {
  requestId: string;
  receivedAt: number;
  /** performance.now() at arrival (for totalSeconds). */
  startedAt: number;
  model: string | null;
  version: number | null;
  rows: number;
  inputs: DecodedInputs | null;
  outputs: ServedOutputs | null;
  signature: ServedSignature | null;
  inferenceSeconds: number | null;
}

/** Checks a client-chosen request id; `what` names where it came from. */
export function checkRequestId(id: string, what: string): string {
  // eslint-disable-next-line no-control-regex
  if (id.length === 0 || id.length > MAX_REQUEST_ID_LENGTH || /[\u0000-\u001f\u007f]/.test(id)) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `${what}: expected a request id of 1-${MAX_REQUEST_ID_LENGTH} characters without control characters`,
    );
  }
  return id;
}

/** Replaces the trace's id with the client's (OIP's body `id`), in the response header too. */
export function adoptRequestId(
  trace: InferenceTrace,
  response: { header(name: string, value: string): void },
  id: string,
): void {
  trace.requestId = checkRequestId(id, '"id"');
  response.header(REQUEST_ID_HEADER, trace.requestId);
}

function protocolOf(url: string): ServeProtocol | undefined {
  if (url.startsWith('/v1/models/')) return 'tfserving';
  if (url.startsWith('/v2/models/')) return 'oip';
  return undefined;
}

/** The served model an inference URL names, or null (not an inference URL, or not served). */
function modelOf(url: string, protocol: ServeProtocol, manager: ModelManager): string | null {
  try {
    if (protocol === 'tfserving') {
      const { target, action } = parseTfPath(url);
      if (action !== 'predict' && action !== 'classify' && action !== 'regress') return null;
      return manager.has(target.model) ? target.model : null;
    }
    const { target, action } = parseOipPath(url);
    return action === 'infer' && manager.has(target.model) ? target.model : null;
  } catch {
    return null;
  }
}

/**
 * The observer's part of the request path, called by the app's own hooks (http/app.ts) rather than
 * hooks of its own: a request id and a trace for inference requests (POST /v1/models/...,
 * /v2/models/...) when they arrive, one event per answered inference request when the response is done.
 */
export class RequestTracer {
  private readonly now: () => number;
  private readonly onInference: ((event: InferenceEvent) => void) | undefined;

  constructor(
    observer: ServeObserver,
    private readonly manager: ModelManager,
    private readonly log: (line: string) => void,
  ) {
    this.now = observer.now ? observer.now.bind(observer) : Date.now;
    this.onInference = observer.onInference?.bind(observer);
  }

  /**
   * Starts the trace of an inference request (undefined for other requests); throws (400) on a bad
   * `x-request-id` header. `setHeader` sets a response header.
   */
  begin(
    method: string,
    url: string,
    headers: IncomingHttpHeaders,
    setHeader: (name: string, value: string) => void,
  ): InferenceTrace | undefined {
    if (method !== 'POST' || !protocolOf(url)) return undefined;
    const header = headers[REQUEST_ID_HEADER];
    const requestId =
      typeof header === 'string' ? checkRequestId(header, `header ${REQUEST_ID_HEADER}`) : randomUUID();
    setHeader(REQUEST_ID_HEADER, requestId);
    return {
      requestId,
      receivedAt: this.now(),
      startedAt: performance.now(),
      model: null,
      version: null,
      rows: 0,
      inputs: null,
      outputs: null,
      signature: null,
      inferenceSeconds: null,
    };
  }

  /** The response has been sent (`finished`) or the connection dropped: reports a sent one. */
  end(trace: InferenceTrace, url: string, status: number, finished: boolean): void {
    if (!finished || !this.onInference) return;
    const protocol = protocolOf(url) as ServeProtocol;
    const model = trace.model ?? modelOf(url, protocol, this.manager);
    if (model === null) return;
    try {
      this.onInference({
        requestId: trace.requestId,
        model,
        version: trace.version,
        protocol,
        status,
        rows: trace.rows,
        inputs: trace.inputs,
        outputs: trace.outputs,
        signature: trace.signature,
        receivedAt: trace.receivedAt,
        totalSeconds: (performance.now() - trace.startedAt) / 1000,
        inferenceSeconds: trace.inferenceSeconds,
      });
    } catch (e) {
      this.log(`monitor: observing a request failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
