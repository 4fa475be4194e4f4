/**
 * `uses: deploy` — serves a registered model on loopback with the live monitor (metrics, prediction
 * log, feedback, drift, live accuracy, alerts, dashboard) and keeps it running in the pipeline's
 * process after the step: later steps send it traffic, and alert rules with `run:` start their
 * (retraining) pipeline through the automation loop. A deployment of the same name already running
 * here is reused (it re-reads the registry), so a pipeline run again under `--watch` updates it.
 *
 *   with: { model: mnist, name?: mnist, version?: 3 (make it @champion first), port?: 0, host?: 127.0.0.1,
 *           monitor?: { drift: {...}, alerts: { rules: [{ ..., run: { pipeline: retrain.yaml } }] } } | file,
 *           dashboard?: true, automation?: { concurrency: 1, cooldown: 0s }, reason?: text }
 *   outputs: url, dashboard, deployment, model, version (answering), aliases, started, retrain_pipelines
 */
import { z } from 'zod';
import { DurationSchema } from '../../../monitor/alerts/duration.js';
import { AliasSchema, ModelNameSchema, VersionNumberSchema } from '../../../store/registry.js';
import { resolveMonitor } from '../../automation/monitor-config.js';
import { loadPipeline } from '../load.js';
import { deploymentsModule } from './lazy.js';
import { defineStep } from './types.js';

export const DeploymentNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'expected a name of lowercase letters, digits, ".", "_" and "-"');

export const DeployStepInputSchema = z.strictObject({
  model: ModelNameSchema,
  /** The deployment's name (default: the model's). */
  name: DeploymentNameSchema.optional(),
  /** Make this version `@champion` before serving (recorded with `reason`). */
  version: VersionNumberSchema.optional(),
  alias: AliasSchema.default('champion'),
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port. */
  port: z.int().min(0).max(65535).default(0),
  /** Monitor settings inline, or a YAML/JSON file (relative to the pipeline file). */
  monitor: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
  dashboard: z.boolean().default(true),
  automation: z
    .strictObject({
      /** Steps at once in an alert-triggered run. */
      concurrency: z.int().positive().default(1),
      /** After a triggered run ends, alerts for the same pipeline and model within this long are skipped. */
      cooldown: DurationSchema.default(0),
    })
    .prefault({}),
  reason: z.string().min(1).optional(),
});
export type DeployStepInput = z.infer<typeof DeployStepInputSchema>;

/** Pipeline files being checked now: a retrain pipeline that deploys and runs this one is not loaded twice. */
const checking = new Set<string>();

/** The monitor settings, with every `run:` pipeline loaded and checked. */
function monitorOf(input: DeployStepInput, baseDir: string) {
  const resolved = resolveMonitor(input.monitor, baseDir);
  for (const file of new Set(Object.values(resolved.pipelines))) {
    if (checking.has(file)) continue;
    checking.add(file);
    try {
      loadPipeline(file);
    } finally {
      checking.delete(file);
    }
  }
  return resolved;
}

export const deployStep = defineStep<DeployStepInput>({
  uses: 'deploy',
  summary: 'serve a registered model on loopback with the live monitor; alerts with run: start retraining',
  schema: DeployStepInputSchema,
  outputs: ['url', 'dashboard', 'deployment', 'model', 'version', 'aliases', 'started', 'retrain_pipelines'],
  placement: 'coordinator',
  cacheable: false,
  check(input, ctx) {
    monitorOf(input, ctx.baseDir);
  },
  async run(input, ctx) {
    const monitor = monitorOf(input, ctx.baseDir);
    const actor = `pipeline run ${ctx.pipelineRunId.slice(0, 8)} (step ${ctx.stepId})`;
    if (input.version !== undefined) {
      const move = await ctx.stores.registry.setAlias(input.model, input.alias, input.version, {
        actor,
        reason: input.reason ?? `deployed by ${actor}`,
      });
      if (move) ctx.log(`@${input.alias} → ${input.model}:${input.version}`);
    }
    const name = input.name ?? input.model;
    const { startDeployment } = await deploymentsModule();
    const { deployment, started } = await startDeployment({
      name,
      model: input.model,
      store: ctx.stores.uri,
      host: input.host,
      port: input.port,
      monitor: monitor.input,
      dashboard: input.dashboard,
      automation: { concurrency: input.automation.concurrency, cooldownMs: input.automation.cooldown },
      actor: `modelauto deployment ${name}`,
    });
    const state = await deployment.control.state(input.model);
    ctx.log(
      `${started ? 'serving' : 'already serving'} ${input.model}:${state.answering ?? '-'} at ${deployment.url}` +
        (input.dashboard ? ` (dashboard ${deployment.url}/)` : '') +
        (Object.keys(monitor.pipelines).length
          ? `; alert rules that retrain: ${Object.keys(monitor.pipelines).join(', ')}`
          : ''),
    );
    return {
      outputs: {
        url: deployment.url,
        dashboard: input.dashboard ? `${deployment.url}/` : null,
        deployment: name,
        model: input.model,
        version: state.answering,
        aliases: state.aliases,
        started,
        retrain_pipelines: monitor.pipelines,
      },
    };
  },
});
