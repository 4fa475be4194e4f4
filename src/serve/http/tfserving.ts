/**
 * TF Serving's REST API (tensorflow/serving api_rest.md, http_rest_api_handler.cc): model status,
 * metadata (the SignatureDef as protobuf JSON), predict, classify and regress.
 */
import type { FastifyInstance } from 'fastify';
import { ModelautoError } from '../../core/errors.js';
import { tfDtype } from '../datatypes.js';
import { decodeFastInstances } from '../decode-fast.js';
import { decodeExamples, decodePredict, parseExamplesBody, parsePredictBody } from '../decode-tf.js';
import { tfClassifyResponse, tfPredictResponse, tfRegressResponse } from '../encode.js';
import { FastInstances } from '../fast-body.js';
import { parseJsonBody } from '../json.js';
import { inputShape, outputShape, type ServedSignature } from '../signature.js';
import { bodyOf, runInference, type ServerContext } from './context.js';
import { HttpError } from './errors.js';
import { fastifyExchange, type Exchange } from './exchange.js';
import { parseTfPath, type ModelTarget } from './paths.js';

export function registerTfServing(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/v1/models/*', async (request, reply) => {
    const { target, action } = parseTfPath(request.url);
    if (action !== 'status' && action !== 'metadata') throw methodNotAllowed(action, 'POST');
    const body = action === 'status' ? statusJson(ctx, target) : metadataJson(ctx, target);
    return reply.header('content-type', 'application/json').send(JSON.stringify(body));
  });

  app.post('/v1/models/*', async (request, reply) => {
    await tfServingPost(ctx, fastifyExchange(request, reply), request.url, request.body);
    return reply;
  });
}

/** POST /v1/models/...: :predict, :classify and :regress (both lanes, see exchange.ts). */
export async function tfServingPost(
  ctx: ServerContext,
  ex: Exchange,
  url: string,
  raw: unknown,
): Promise<void> {
  const { target, action } = parseTfPath(url);
  if (action === 'status' || action === 'metadata') throw methodNotAllowed(action, 'GET');
  if (action === 'predict') {
    if (raw instanceof FastInstances) {
      // Read straight into a Float32Array (fast-body.ts); the general decoder when the model needs it.
      await runInference(
        ctx,
        ex,
        target,
        (sig) =>
          decodeFastInstances(raw, sig) ?? decodePredict(parsePredictBody(parseJsonBody(raw.text())), sig),
        (out) => tfPredictResponse(out, 'row'),
      );
      return;
    }
    const body = parsePredictBody(bodyOf(raw));
    await runInference(
      ctx,
      ex,
      target,
      (sig) => decodePredict(body, sig),
      (out) => tfPredictResponse(out, body.format),
    );
    return;
  }
  const examples = parseExamplesBody(bodyOf(raw), action);
  await runInference(
    ctx,
    ex,
    target,
    (sig) => {
      checkTask(sig, action, target.model);
      return decodeExamples(examples, sig);
    },
    (out, version) =>
      action === 'classify'
        ? tfClassifyResponse(out, version.signature.labels ?? [])
        : tfRegressResponse(out),
  );
}

function methodNotAllowed(action: string, allowed: string): HttpError {
  return new HttpError(405, 'USAGE', `${action === 'status' ? 'model status' : action} takes ${allowed}`, {
    allow: allowed,
  });
}

function checkTask(sig: ServedSignature, action: 'classify' | 'regress', model: string): void {
  const want = action === 'classify' ? 'classification' : 'regression';
  if (sig.task !== want) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `model ${model} is ${sig.task === null ? 'not known to be a classifier or a regressor' : `a ${sig.task} model`}: :${action} serves ${want} models; use :predict`,
    );
  }
}

/** GetModelStatusResponse as JSON (always_print_primitive_fields), newest version first. */
function statusJson(ctx: ServerContext, target: ModelTarget): unknown {
  let versions = ctx.manager.versions(target.model);
  const wanted = wantedVersion(ctx, target);
  if (wanted !== undefined) {
    versions = versions.filter((v) => v.version === wanted);
    if (versions.length === 0) {
      throw new ModelautoError('NOT_FOUND', `version ${wanted} of ${target.model} is not loaded`);
    }
  }
  return {
    model_version_status: versions.map((v) => ({
      version: String(v.version),
      state: v.state,
      status: { error_code: v.error ? 'UNKNOWN' : 'OK', error_message: v.error ?? '' },
    })),
  };
}

function wantedVersion(ctx: ServerContext, target: ModelTarget): number | undefined {
  if (target.version !== undefined) return target.version;
  if (target.label === undefined) return undefined;
  const v = ctx.manager.aliasVersion(target.model, target.label);
  if (v === undefined)
    throw new ModelautoError(
      'NOT_FOUND',
      `model ${target.model} has no label (alias) ${JSON.stringify(target.label)}`,
    );
  return v;
}

/** GetModelMetadataResponse with the serving_default SignatureDef, as TF Serving prints it. */
function metadataJson(ctx: ServerContext, target: ModelTarget): unknown {
  const v = ctx.manager.peek(target.model, {
    ...(target.version !== undefined ? { version: target.version } : {}),
    ...(target.label !== undefined ? { label: target.label } : {}),
  });
  const sig = v.signature;
  const tensor = (name: string, datatype: Parameters<typeof tfDtype>[0], shape: number[]) => ({
    dtype: tfDtype(datatype),
    tensor_shape: { dim: shape.map((d) => ({ size: String(d), name: '' })), unknown_rank: false },
    name: `${name}:0`,
  });
  return {
    model_spec: { name: target.model, signature_name: '', version: String(v.version) },
    metadata: {
      signature_def: {
        signature_def: {
          serving_default: {
            inputs: Object.fromEntries(
              sig.inputs.map((i) => [i.name, tensor(i.name, i.datatype, inputShape(i))]),
            ),
            outputs: Object.fromEntries(
              sig.outputs.map((o) => [o.name, tensor(o.name, o.datatype, outputShape(o))]),
            ),
            method_name: 'tensorflow/serving/predict',
            defaults: {},
          },
        },
      },
    },
  };
}
