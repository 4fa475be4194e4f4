/**
 * `uses: register` — registers a finished run as the next version of a model, pointing the given
 * aliases at it in the same transaction (promotion). Put it after a gate: a failed gate skips it.
 *
 *   with: { run: ${{ steps.train.outputs.run_id }}, model: iris, aliases?: [champion], tags?: {k: v},
 *           description?: text, reason?: text (recorded with the alias moves) }
 *   outputs: model, version, ref (`model:version`), aliases
 */
import { z } from 'zod';
import { AliasSchema, ModelNameSchema, RegistryTagsSchema } from '../../../store/registry.js';
import { registerRun } from '../../../store/register-run.js';
import { RunRefSchema } from './common.js';
import { defineStep } from './types.js';

export const RegisterStepInputSchema = z.strictObject({
  run: RunRefSchema,
  model: ModelNameSchema,
  aliases: z.array(AliasSchema).optional(),
  tags: RegistryTagsSchema.optional(),
  description: z.string().min(1).optional(),
  reason: z.string().min(1).optional(),
});
export type RegisterStepInput = z.infer<typeof RegisterStepInputSchema>;

export const registerStep = defineStep<RegisterStepInput>({
  uses: 'register',
  summary: 'register a run as the next version of a model and move aliases to it',
  schema: RegisterStepInputSchema,
  outputs: ['model', 'version', 'ref', 'aliases'],
  placement: 'task',
  async run(input, ctx) {
    const { tracking, registry } = ctx.stores;
    const v = await registerRun(tracking, registry, input.run, input.model, {
      tags: { ...input.tags, pipeline_run: ctx.pipelineRunId, pipeline_step: ctx.stepId },
      ...(input.aliases ? { aliases: input.aliases } : {}),
      ...(input.description ? { description: input.description } : {}),
      reason: input.reason ?? `pipeline run ${ctx.pipelineRunId.slice(0, 8)}, step ${ctx.stepId}`,
    });
    ctx.log(
      `registered ${v.model}:${v.version}${v.aliases.length ? ` (${v.aliases.map((a) => `@${a}`).join(', ')})` : ''}`,
    );
    return {
      outputs: { model: v.model, version: v.version, ref: `${v.model}:${v.version}`, aliases: v.aliases },
    };
  },
});
