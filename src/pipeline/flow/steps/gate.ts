/**
 * `uses: gate` — decides whether a candidate may be promoted. Every condition must hold; when one does
 * not, the step ends `gated`, the steps that depend on it (register, deploy) are skipped, and the run
 * ends `gated` with the failed conditions as its reason. Conditions comparing with `champion.<metric>`
 * score the model's current champion (`<model>@champion` in the registry) on the candidate's own test
 * split, so both are judged on the same rows.
 *
 *   with: { run: ${{ steps.train.outputs.run_id }}, model: iris, conditions: [test_accuracy >= 0.9,
 *           f1_macro >= champion.f1_macro - 0.005, size_bytes <= 200000, latency_p99_ms <= 20],
 *           champion?: alias (default champion), metrics?: {name: value}, onMissingChampion?: pass | fail }
 *   outputs: passed, reasons, checks ([{condition, passed, left, right, detail}]), values, champion,
 *            champion_values
 */
import { z } from 'zod';
import { ModelautoError } from '../../../core/errors.js';
import { setupBackend } from '../../../engine/backend.js';
import { AliasSchema, ModelNameSchema } from '../../../store/registry.js';
import type { JsonValue } from '../../../store/types.js';
import { loadBundle, type LoadedBundle } from '../../bundle.js';
import {
  evaluateCondition,
  metricNames,
  parseCondition,
  type Condition,
  type ConditionResult,
} from '../gate/conditions.js';
import { holdoutOf, modelSize, predictLatency, scoreOnHoldout, type Holdout } from '../gate/measure.js';
import { RunRefSchema } from './common.js';
import { defineStep, type StepContext } from './types.js';

const ConditionSchema = z.string().superRefine((text, ctx) => {
  try {
    parseCondition(text);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});

export const GateStepInputSchema = z
  .strictObject({
    run: RunRefSchema,
    conditions: z.array(ConditionSchema).min(1, 'expected at least one condition'),
    /** Registry model whose champion `champion.<metric>` refers to. */
    model: ModelNameSchema.optional(),
    champion: AliasSchema.default('champion'),
    /** Values the conditions may use besides the run's metrics (e.g. an export's size). */
    metrics: z.record(z.string(), z.number().nullable()).optional(),
    /** With no champion yet (the first model), conditions on champion.* pass (default) or fail. */
    onMissingChampion: z.enum(['pass', 'fail']).default('pass'),
    /** Single-row predictions timed for latency_* metrics. */
    latencyCalls: z.int().positive().default(200),
  })
  .superRefine((v, ctx) => {
    const usesChampion = v.conditions.some((c) => {
      try {
        return metricNames(parseCondition(c)).champion.length > 0;
      } catch {
        return false;
      }
    });
    if (usesChampion && !v.model) {
      ctx.addIssue({
        code: 'custom',
        path: ['model'],
        message: 'conditions use champion.*: name the registry model',
      });
    }
  });
export type GateStepInput = z.infer<typeof GateStepInputSchema>;

const finite = (m: Record<string, number>): Record<string, number | null> =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number.isFinite(v) ? v : null]));

/** What a model's conditions need measured: holdout scores, file sizes, latency. */
async function measure(
  ctx: StepContext,
  runId: string,
  bundle: LoadedBundle,
  holdout: Holdout,
  names: string[],
  latencyCalls: number,
  scoreHoldout: boolean,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (scoreHoldout) Object.assign(out, await scoreOnHoldout(bundle, holdout));
  if (names.some((n) => n.startsWith('size_')))
    Object.assign(out, await modelSize(ctx.stores.tracking, runId));
  if (names.some((n) => n.startsWith('latency_')))
    Object.assign(out, predictLatency(bundle, holdout, latencyCalls));
  return out;
}

async function championOf(ctx: StepContext, model: string, alias: string) {
  try {
    return await ctx.stores.registry.resolve(`${model}@${alias}`);
  } catch (e) {
    if (e instanceof ModelautoError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
}

export const gateStep = defineStep<GateStepInput>({
  uses: 'gate',
  summary: 'check metric conditions (against the champion on the same holdout) before promotion',
  schema: GateStepInputSchema,
  outputs: ['passed', 'reasons', 'checks', 'values', 'champion', 'champion_values'],
  placement: 'task',
  verdict(outputs) {
    if (outputs['passed'] !== false) return undefined;
    const reasons = Array.isArray(outputs['reasons']) ? outputs['reasons'].map(String) : [];
    return { status: 'gated', reason: reasons.join('; ') };
  },
  async run(input, ctx) {
    const { tracking } = ctx.stores;
    const conditions: Condition[] = input.conditions.map(parseCondition);
    const names = conditions.map(metricNames);
    const candidateNames = names.flatMap((n) => n.candidate);
    const championNames = names.flatMap((n) => n.champion);
    const runId = await tracking.resolveRunId(input.run);
    const run = await tracking.getRun(runId);
    // Holdout scores and latency use the same compute backend as training and serving would.
    await setupBackend({});
    const bundle = await loadBundle(tracking, runId);
    let championBundle: LoadedBundle | undefined;
    try {
      const holdout = await holdoutOf(tracking, runId, bundle);
      const values: Record<string, number> = Object.fromEntries(
        Object.entries(run.metrics).map(([k, p]) => [k, p.value]),
      );
      Object.assign(
        values,
        await measure(
          ctx,
          runId,
          bundle,
          holdout,
          candidateNames,
          input.latencyCalls,
          championNames.length > 0,
        ),
      );
      for (const [k, v] of Object.entries(input.metrics ?? {})) values[k] = v ?? Number.NaN;

      let champion: { ref: string; values: Record<string, number> } | undefined;
      const version =
        championNames.length > 0 && input.model
          ? await championOf(ctx, input.model, input.champion)
          : undefined;
      if (version) {
        const ref = `${version.model}:${version.version}`;
        const championValues: Record<string, number> = { ...version.metrics };
        if (version.sourceRunId) {
          championBundle = await loadBundle(tracking, version.sourceRunId);
          const sourceClasses = (await tracking.getRun(version.sourceRunId)).params['classes'];
          if (holdout.classes && JSON.stringify(sourceClasses) !== JSON.stringify(holdout.classes)) {
            throw new ModelautoError(
              'CONFLICT',
              `the champion ${ref} predicts classes ${JSON.stringify(sourceClasses)}, the candidate ${JSON.stringify(holdout.classes)}: they cannot be compared on one holdout`,
            );
          }
          Object.assign(
            championValues,
            await measure(
              ctx,
              version.sourceRunId,
              championBundle,
              holdout,
              championNames,
              input.latencyCalls,
              true,
            ),
          );
        } else {
          ctx.log(
            `note: ${ref} has no source run: its recorded metrics are used, not a score on the same holdout`,
          );
        }
        champion = { ref, values: championValues };
        ctx.log(`champion ${input.model}@${input.champion} = ${ref}, scored on the ${holdout.description}`);
      } else if (championNames.length > 0) {
        ctx.log(`no ${input.model}@${input.champion} yet: champion conditions ${input.onMissingChampion}`);
      }

      const checks: ConditionResult[] = conditions.map((c, i) => {
        if (names[i]!.champion.length > 0 && !champion) {
          const passed = input.onMissingChampion === 'pass';
          return {
            condition: c.text,
            passed,
            left: Number.NaN,
            right: Number.NaN,
            detail: `no ${input.model}@${input.champion} yet`,
          };
        }
        return evaluateCondition(c, values, champion?.values);
      });
      for (const c of checks) ctx.log(`${c.passed ? 'pass' : 'FAIL'}: ${c.condition}  (${c.detail})`);
      const failed = checks.filter((c) => !c.passed);
      const reasons = failed.map((c) => `${c.condition} (${c.detail})`);
      const outputs = {
        passed: failed.length === 0,
        reasons,
        checks: checks.map((c) => ({
          ...c,
          left: Number.isFinite(c.left) ? c.left : null,
          right: Number.isFinite(c.right) ? c.right : null,
        })) as unknown as JsonValue,
        values: finite(values),
        champion: champion?.ref ?? null,
        champion_values: champion ? finite(champion.values) : null,
      };
      if (failed.length > 0) return { outputs, status: 'gated', reason: reasons.join('; ') };
      return { outputs };
    } finally {
      bundle.model.dispose();
      championBundle?.model.dispose();
    }
  },
});
