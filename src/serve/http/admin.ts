/**
 * The admin API: load and unload, alias moves (recorded in the registry's history like the CLI's),
 * canary and shadow settings. Every /admin URL (known or not) needs `Authorization: Bearer <token>`
 * with the server's MODELAUTO_ADMIN_TOKEN; without a configured token the admin API is off.
 *
 *   GET    /admin/models                                  served models and their state
 *   GET    /admin/models/{m}                              one model: versions, aliases, traffic, stats
 *   POST   /admin/models/{m}/load            {version?}   serve the model / keep a version loaded
 *   POST   /admin/models/{m}/unload          {version?}   unload a version / stop serving the model
 *   PUT    /admin/models/{m}/aliases/{a}     {version, reason?}   move an alias (then follow it)
 *   DELETE /admin/models/{m}/aliases/{a}     {reason?}
 *   POST   /admin/models/{m}/aliases/{a}/rollback  {reason?}     undo the alias's last move
 *   PUT    /admin/models/{m}/canary          {percent, shadow?}  traffic to @challenger
 *   DELETE /admin/models/{m}/canary                       all traffic back to the champion
 *   GET    /admin/models/{m}/shadow                       shadow-mode comparison and recent records
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ModelautoError } from '../../core/errors.js';
import { formatZodError } from '../../core/zod-error.js';
import { VersionNumberSchema } from '../../store/registry.js';
import type { ServerContext } from './context.js';
import { HttpError } from './errors.js';
import { labelName, modelName } from './paths.js';

export const ADMIN_TOKEN_ENV = 'MODELAUTO_ADMIN_TOKEN';
export const MIN_ADMIN_TOKEN_LENGTH = 16;

const Reason = z.string().min(1, 'expected a non-empty reason').max(10_000).optional();
const LoadBody = z.strictObject({ version: VersionNumberSchema.optional() });
const AliasBody = z.strictObject({ version: VersionNumberSchema, reason: Reason });
const ReasonBody = z.strictObject({ reason: Reason });
const CanaryBody = z.strictObject({
  percent: z.number().min(0, 'expected a percentage >= 0').max(100, 'expected a percentage <= 100'),
  shadow: z.boolean().optional(),
});

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw new ModelautoError('INVALID_ARGUMENT', formatZodError(r.error, 'body'));
  return r.data;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Checks the bearer token; throws 401/403 as an HttpError. */
export function authorize(request: FastifyRequest, token: string | undefined): void {
  if (token === undefined) {
    throw new HttpError(
      403,
      'USAGE',
      `the admin API is off: start the server with ${ADMIN_TOKEN_ENV} set to enable it`,
    );
  }
  const header = request.headers.authorization;
  const challenge = { 'www-authenticate': 'Bearer realm="modelauto"' };
  if (typeof header !== 'string' || !/^Bearer\s+\S/i.test(header)) {
    throw new HttpError(
      401,
      'USAGE',
      'the admin API needs an "Authorization: Bearer <token>" header',
      challenge,
    );
  }
  const given = header.replace(/^Bearer\s+/i, '').trim();
  // Digests make the comparison constant-time whatever the lengths.
  if (!timingSafeEqual(digest(given), digest(token))) {
    throw new HttpError(401, 'USAGE', 'the admin token is not valid', challenge);
  }
}

type Params = { model: string; alias?: string };

export function registerAdmin(app: FastifyInstance, ctx: ServerContext): void {
  const send = (reply: FastifyReply, value: unknown) =>
    reply.header('content-type', 'application/json').send(JSON.stringify(value));
  const model = (request: FastifyRequest) => modelName((request.params as Params).model);
  const alias = (request: FastifyRequest) => labelName((request.params as Params).alias ?? '');

  app.get('/admin/models', async (_request, reply) =>
    send(reply, { models: ctx.manager.modelNames.map((m) => ctx.manager.describe(m)) }),
  );

  app.get('/admin/models/:model', async (request, reply) =>
    send(reply, ctx.manager.describe(model(request))),
  );

  app.post('/admin/models/:model/load', async (request, reply) => {
    const name = model(request);
    const { version } = parse(LoadBody, request.body);
    await ctx.manager.load(name, version);
    return send(reply, ctx.manager.describe(name));
  });

  app.post('/admin/models/:model/unload', async (request, reply) => {
    const name = model(request);
    const { version } = parse(LoadBody, request.body);
    await ctx.manager.unload(name, version);
    return send(reply, version === undefined ? { unloaded: name } : ctx.manager.describe(name));
  });

  app.put('/admin/models/:model/aliases/:alias', async (request, reply) => {
    const name = model(request);
    const { version, reason } = parse(AliasBody, request.body);
    const move = await ctx.manager.setAlias(name, alias(request), version, reason);
    return send(reply, { move, model: ctx.manager.describe(name) });
  });

  app.delete('/admin/models/:model/aliases/:alias', async (request, reply) => {
    const name = model(request);
    const { reason } = parse(ReasonBody, request.body);
    const move = await ctx.manager.deleteAlias(name, alias(request), reason);
    return send(reply, { move, model: ctx.manager.describe(name) });
  });

  app.post('/admin/models/:model/aliases/:alias/rollback', async (request, reply) => {
    const name = model(request);
    const { reason } = parse(ReasonBody, request.body);
    const move = await ctx.manager.rollbackAlias(name, alias(request), reason);
    return send(reply, { move, model: ctx.manager.describe(name) });
  });

  app.put('/admin/models/:model/canary', async (request, reply) => {
    const name = model(request);
    const { percent, shadow } = parse(CanaryBody, request.body);
    ctx.manager.setTraffic(name, { canaryPercent: percent, shadow: shadow ?? false });
    return send(reply, ctx.manager.describe(name));
  });

  app.delete('/admin/models/:model/canary', async (request, reply) => {
    const name = model(request);
    ctx.manager.setTraffic(name, { canaryPercent: 0, shadow: false });
    return send(reply, ctx.manager.describe(name));
  });

  app.get('/admin/models/:model/shadow', async (request, reply) => {
    const name = model(request);
    ctx.manager.describe(name);
    return send(reply, { summary: ctx.shadow.summary(name), records: ctx.shadow.records(name) });
  });
}
