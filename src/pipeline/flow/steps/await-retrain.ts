/**
 * `uses: await-retrain` — waits for the retraining that an alert of a deployment (of this process)
 * starts: the first alert-triggered run that fired at or after `since`, until it ends, and reports
 * it — which alert, the pipeline run, its steps, and the version it promoted (if its gate and canary
 * let it). A retrain that failed fails this step; one that was gated (the candidate was not better)
 * is reported, not failed: the loop did its job.
 *
 *   with: { deployment: mnist, since?: ${{ steps.shifted.outputs.started_at }}, timeout?: 5m }
 *   outputs: pipeline_run, status, rule, fired_at, message, joined, promoted, version, seconds, steps, error
 */
import { z } from 'zod';
import { ModelautoError } from '../../../core/errors.js';
import { DurationSchema } from '../../../monitor/alerts/duration.js';
import type { JsonValue } from '../../../store/types.js';
import { deploymentsModule } from './lazy.js';
import { DeploymentNameSchema } from './deploy.js';
import { defineStep } from './types.js';

export const AwaitRetrainStepInputSchema = z.strictObject({
  deployment: DeploymentNameSchema,
  /** Only alerts that fired at or after this time (epoch ms); default: when this step starts. */
  since: z.int().nonnegative().optional(),
  timeout: DurationSchema.default(300_000),
});
export type AwaitRetrainStepInput = z.infer<typeof AwaitRetrainStepInputSchema>;

export const awaitRetrainStep = defineStep<AwaitRetrainStepInput>({
  uses: 'await-retrain',
  summary: "wait for the retraining a deployment's alert starts, and report it",
  schema: AwaitRetrainStepInputSchema,
  outputs: [
    'pipeline_run',
    'status',
    'rule',
    'fired_at',
    'message',
    'joined',
    'promoted',
    'version',
    'seconds',
    'steps',
    'error',
  ],
  placement: 'coordinator',
  cacheable: false,
  async run(input, ctx) {
    const deployment = (await deploymentsModule()).requireDeployment(input.deployment);
    const since = input.since ?? Date.now();
    ctx.log(
      `waiting for an alert of ${deployment.name} to start a retrain (since ${new Date(since).toISOString()})`,
    );
    const run = await deployment.loop.wait((r) => r.firedAt >= since && r.state !== 'skipped', {
      timeoutMs: input.timeout,
      signal: ctx.signal,
    });
    const seconds = ((run.endedAt ?? Date.now()) - run.startedAt) / 1000;
    if (run.state === 'failed' || run.state === 'error') {
      throw new ModelautoError(
        'CONFLICT',
        `the retrain started by alert ${run.rule} ${run.state === 'error' ? 'could not run' : `failed (pipeline run ${run.pipelineRunId?.slice(0, 8)})`}: ${run.error ?? 'unknown error'}`,
      );
    }
    const steps = (run.record?.steps ?? []).map((s) => ({
      step: s.stepId,
      uses: s.uses,
      status: s.status,
      seconds: s.startTime !== null && s.endTime !== null ? (s.endTime - s.startTime) / 1000 : null,
    }));
    ctx.log(
      `retrain ${run.state} after alert ${run.rule}` +
        (run.promoted ? `: ${run.promoted.model}:${run.promoted.version} is @champion` : '') +
        (run.error ? ` (${run.error})` : ''),
    );
    return {
      outputs: {
        pipeline_run: run.pipelineRunId,
        status: run.state,
        rule: run.rule,
        fired_at: run.firedAt,
        message: run.message,
        joined: run.joined as unknown as JsonValue,
        promoted: run.promoted ? `${run.promoted.model}:${run.promoted.version}` : null,
        version: run.promoted?.version ?? null,
        seconds,
        steps: steps as unknown as JsonValue,
        error: run.error,
      },
    };
  },
});
