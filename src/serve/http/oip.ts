/**
 * Open Inference Protocol v2 over REST (kserve open-inference-protocol inference_rest.md): server
 * live/ready/metadata, model metadata and ready, and infer with the id echoed.
 */
import type { FastifyInstance } from 'fastify';
import { ModelautoError } from '../../core/errors.js';
import { VERSION } from '../../version.js';
import { decodeFastInfer } from '../decode-fast.js';
import { decodeInfer, parseInferBody, type OipInferBody } from '../decode-oip.js';
import { bad } from '../decode-values.js';
import { oipInferResponse } from '../encode.js';
import { FastInfer } from '../fast-body.js';
import { parseJsonBody } from '../json.js';
import type { ServedVersion } from '../served-version.js';
import { inputShape, outputShape } from '../signature.js';
import { bodyOf, runInference, type ServerContext } from './context.js';
import { HttpError } from './errors.js';
import { fastifyExchange, type Exchange } from './exchange.js';
import { parseOipPath, type ModelTarget } from './paths.js';

/** Triton's classification extension: `"parameters": {"classification": N}` on a requested output. */
export const OIP_EXTENSIONS = ['classification'];

const PLATFORMS: Record<ServedVersion['loaded']['runtime']['kind'], string> = {
  onnxruntime: 'onnx_onnxv1',
  tfjs: 'tensorflowjs_layersmodel',
};

export function registerOip(app: FastifyInstance, ctx: ServerContext): void {
  const json = (value: unknown) => JSON.stringify(value);

  app.get('/v2', async (_request, reply) =>
    reply
      .header('content-type', 'application/json')
      .send(json({ name: 'modelauto', version: VERSION, extensions: OIP_EXTENSIONS })),
  );

  app.get('/v2/health/live', async (_request, reply) =>
    reply.header('content-type', 'application/json').send(json({ live: true })),
  );

  app.get('/v2/health/ready', async (_request, reply) => {
    const waiting = ctx.manager.notReady();
    if (waiting.length > 0) {
      throw new ModelautoError('UNAVAILABLE', `not ready: no version answers for ${waiting.join(', ')}`);
    }
    return reply.header('content-type', 'application/json').send(json({ ready: true }));
  });

  app.get('/v2/models/*', async (request, reply) => {
    const { target, action } = parseOipPath(request.url);
    if (action === 'infer') throw new HttpError(405, 'USAGE', 'infer takes POST', { allow: 'POST' });
    if (action === 'ready') {
      const v = addressed(ctx, target);
      return reply
        .header('content-type', 'application/json')
        .send(json({ name: target.model, ready: v.state === 'AVAILABLE' }));
    }
    return reply.header('content-type', 'application/json').send(json(metadata(ctx, target)));
  });

  app.post('/v2/models/*', async (request, reply) => {
    await oipPost(ctx, fastifyExchange(request, reply), request.url, request.body);
    return reply;
  });
}

/** POST /v2/models/...: infer (both lanes, see exchange.ts). */
export async function oipPost(ctx: ServerContext, ex: Exchange, url: string, raw: unknown): Promise<void> {
  const { target, action } = parseOipPath(url);
  if (action !== 'infer') throw new HttpError(405, 'USAGE', `model ${action} takes GET`, { allow: 'GET' });
  if (raw instanceof FastInfer) {
    // Read straight into typed arrays (fast-body.ts); the general decoder when the model needs it.
    await runInference(
      ctx,
      ex,
      target,
      (sig) => decodeFastInfer(raw, sig) ?? decodeInfer(parseInferBody(parseJsonBody(raw.text())), sig),
      (out, version, requestId) =>
        oipInferResponse(out, {
          model: target.model,
          version: version.version,
          id: requestId,
          requested: undefined,
          labels: version.signature.labels,
        }),
      raw.id,
    );
    return;
  }
  const body = parseInferBody(bodyOf(raw));
  await runInference(
    ctx,
    ex,
    target,
    (sig) => {
      checkOutputs(
        body,
        sig.outputs.map((o) => o.name),
        sig.labels,
      );
      return decodeInfer(body, sig);
    },
    (out, version, requestId) =>
      oipInferResponse(out, {
        model: target.model,
        version: version.version,
        id: requestId,
        requested: body.outputs,
        labels: version.signature.labels,
      }),
    body.id,
  );
}

function addressed(ctx: ServerContext, target: ModelTarget): ServedVersion {
  return ctx.manager.peek(target.model, {
    ...(target.version !== undefined ? { version: target.version } : {}),
  });
}

function metadata(ctx: ServerContext, target: ModelTarget): unknown {
  const v = addressed(ctx, target);
  const sig = v.signature;
  return {
    name: target.model,
    versions: ctx.manager
      .versions(target.model)
      .filter((x) => x.state === 'AVAILABLE')
      .map((x) => String(x.version)),
    platform: PLATFORMS[v.loaded.runtime.kind],
    inputs: sig.inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: inputShape(i) })),
    outputs: sig.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: outputShape(o) })),
  };
}

function checkOutputs(body: OipInferBody, names: string[], labels: string[] | null): void {
  if (!body.outputs) return;
  const seen = new Set<string>();
  body.outputs.forEach((o, i) => {
    if (!names.includes(o.name))
      throw bad(
        `outputs[${i}]: unknown output ${JSON.stringify(o.name)}; the model gives: ${names.join(', ')}`,
      );
    if (seen.has(o.name)) throw bad(`outputs[${i}]: output ${JSON.stringify(o.name)} is requested twice`);
    seen.add(o.name);
    if (o.classification !== undefined && !labels) {
      throw bad(
        `outputs[${i}].parameters.classification: the model is not a classifier (it has no class labels)`,
      );
    }
  });
}
