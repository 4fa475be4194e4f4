/**
 * `uses: promote` — puts a registered version in front of traffic, in two stages:
 * - `canary`: `@challenger` → the version, and `percent` of the requests go to it;
 * - `champion`: optionally a canary check first (the challenger's live accuracy on labelled
 *   predictions since the canary began, from the prediction log, against the champion's; a failed
 *   check removes the challenger, ends the step `gated` and skips what depends on it), then
 *   `@champion` → the version, `@challenger` removed, all traffic to the new champion.
 * The server is a deployment of this process (`deployment`) or reached by its admin API (`url`, with
 * $MODELAUTO_ADMIN_TOKEN); without either, `champion` moves the registry alias only (servers polling
 * the registry follow). Every alias move is recorded with its reason (who, when, why).
 *
 *   with: { model: mnist, version: ${{ steps.register.outputs.version }}, stage: canary | champion,
 *           deployment?: mnist | url?: http://..., percent?: 50,
 *           check?: { since: ${{ steps.canary.outputs.at }}, minRows: 50, margin: 0, timeout: 60s },
 *           reason?: text }
 *   outputs: model, version, stage, alias, previous, at, url, moves, check
 */
import { z } from 'zod';
import { ModelautoError } from '../../../core/errors.js';
import { DurationSchema } from '../../../monitor/alerts/duration.js';
import { ADMIN_TOKEN_ENV } from '../../../serve/http/admin.js';
import { openPredictionLog } from '../../../store/prediction-log-open.js';
import { ModelNameSchema, VersionNumberSchema, type AliasMove } from '../../../store/registry.js';
import type { JsonValue } from '../../../store/types.js';
import { checkCanary, type CanaryVerdict } from '../../automation/canary.js';
import { AdminApiControl, type DeploymentControl } from '../../automation/control.js';
import { DeploymentNameSchema } from './deploy.js';
import { deploymentsModule } from './lazy.js';
import { defineStep, type StepContext } from './types.js';

export const PROMOTE_STAGES = ['canary', 'champion'] as const;

export const PromoteStepInputSchema = z
  .strictObject({
    model: ModelNameSchema,
    version: VersionNumberSchema,
    stage: z.enum(PROMOTE_STAGES),
    deployment: DeploymentNameSchema.optional(),
    url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
    /** canary: share of the requests (0-100) the new version answers. */
    percent: z
      .number()
      .gt(0, 'expected a percentage > 0')
      .max(100, 'expected a percentage <= 100')
      .default(50),
    /** champion: compare the canary with the champion on labelled traffic first. */
    check: z
      .strictObject({
        /** When the canary began (epoch ms): the canary step's `at`. */
        since: z.int().nonnegative(),
        minRows: z.int().positive().default(50),
        margin: z.number().min(0).max(1).default(0),
        timeout: DurationSchema.default(60_000),
      })
      .optional(),
    reason: z.string().min(1).optional(),
  })
  .refine((v) => !(v.deployment && v.url), 'give a deployment or a url, not both')
  .refine((v) => v.stage === 'champion' || v.check === undefined, {
    path: ['check'],
    message: 'only the champion stage checks the canary',
  });
export type PromoteStepInput = z.infer<typeof PromoteStepInputSchema>;

async function controlOf(input: PromoteStepInput): Promise<DeploymentControl | undefined> {
  if (input.deployment) return (await deploymentsModule()).requireDeployment(input.deployment).control;
  if (input.url) {
    const token = process.env[ADMIN_TOKEN_ENV];
    if (!token) {
      throw new ModelautoError(
        'USAGE',
        `promote through ${input.url} uses the server's admin API: set ${ADMIN_TOKEN_ENV} to its token`,
      );
    }
    return new AdminApiControl(input.url, token);
  }
  return undefined;
}

const moveJson = (m: AliasMove | null): JsonValue =>
  m ? { alias: m.alias, action: m.action, from: m.fromVersion, to: m.toVersion, reason: m.reason } : null;

async function championOf(ctx: StepContext, model: string): Promise<number | null> {
  return (await ctx.stores.registry.getModel(model)).aliases['champion'] ?? null;
}

export const promoteStep = defineStep<PromoteStepInput>({
  uses: 'promote',
  summary: 'canary a version (share of traffic to @challenger), then make it @champion',
  schema: PromoteStepInputSchema,
  outputs: ['model', 'version', 'stage', 'alias', 'previous', 'at', 'url', 'moves', 'check'],
  placement: 'coordinator',
  cacheable: false,
  async run(input, ctx) {
    const control = await controlOf(input);
    const ref = `${input.model}:${input.version}`;
    const why = input.reason ?? `pipeline run ${ctx.pipelineRunId.slice(0, 8)}, step ${ctx.stepId}`;
    const at = Date.now();
    const base = {
      model: input.model,
      version: input.version,
      stage: input.stage,
      url: control?.url ?? null,
      at,
    };
    if (input.stage === 'canary') {
      if (!control) {
        throw new ModelautoError('USAGE', 'a canary needs a running server: give deployment or url');
      }
      const alias = control.challengerAlias;
      const previous = (await control.state(input.model)).aliases[alias] ?? null;
      const move = await control.setAlias(
        input.model,
        alias,
        input.version,
        `canary ${input.percent}%: ${why}`,
      );
      await control.setCanary(input.model, input.percent);
      ctx.log(`canary: @${alias} → ${ref}, ${input.percent}% of the traffic`);
      // `at` is when the canary started taking traffic: what a later check counts from.
      return {
        outputs: { ...base, at: Date.now(), alias, previous, moves: [moveJson(move)], check: null },
      };
    }

    const previous = control
      ? ((await control.state(input.model)).aliases['champion'] ?? null)
      : await championOf(ctx, input.model);
    let verdict: CanaryVerdict | null = null;
    if (input.check) {
      if (!control)
        throw new ModelautoError('USAGE', 'a canary check needs a running server: give deployment or url');
      if (previous === null)
        throw new ModelautoError('CONFLICT', `${input.model} has no @champion to compare the canary with`);
      const log = await openPredictionLog(ctx.stores.uri);
      try {
        verdict = await checkCanary(
          log,
          input.model,
          { champion: previous, challenger: input.version },
          {
            since: input.check.since,
            minRows: input.check.minRows,
            margin: input.check.margin,
            timeoutMs: input.check.timeout,
          },
          { signal: ctx.signal, log: ctx.log },
        );
      } finally {
        await log.close();
      }
      ctx.log(verdict.reason);
    }
    const checkJson = verdict as unknown as JsonValue;
    if (verdict && !verdict.passed) {
      const removed = await control!.deleteAlias(
        input.model,
        control!.challengerAlias,
        `rolled back: ${verdict.reason}`,
      );
      return {
        outputs: { ...base, alias: 'champion', previous, moves: [moveJson(removed)], check: checkJson },
        status: 'gated',
        reason: verdict.reason,
      };
    }
    const reason = `${verdict ? `${verdict.reason}; ` : ''}${why}`;
    let moves: (AliasMove | null)[];
    if (control) {
      const promoted = await control.setAlias(input.model, 'champion', input.version, `promoted: ${reason}`);
      const removed =
        (await control.state(input.model)).aliases[control.challengerAlias] === input.version
          ? await control.deleteAlias(input.model, control.challengerAlias, `promoted to @champion: ${why}`)
          : null;
      moves = [promoted, removed];
    } else {
      moves = [
        await ctx.stores.registry.setAlias(input.model, 'champion', input.version, {
          actor: `pipeline run ${ctx.pipelineRunId.slice(0, 8)} (step ${ctx.stepId})`,
          reason: `promoted: ${reason}`,
        }),
      ];
    }
    ctx.log(`@champion → ${ref}${previous !== null ? ` (was ${input.model}:${previous})` : ''}`);
    return {
      outputs: {
        ...base,
        alias: 'champion',
        previous,
        moves: moves.filter(Boolean).map(moveJson),
        check: checkJson,
      },
    };
  },
});
