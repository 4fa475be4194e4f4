import { z } from 'zod';
import { parseWith } from './parse.js';

/**
 * Pruning schedules with tfmot's names, parameters, defaults and formulas (pruning_schedule.py):
 * ConstantSparsity(target, beginStep, endStep = -1, frequency = 100) and
 * PolynomialDecay(initial, final, beginStep, endStep, power = 3, frequency = 100). Steps are optimizer
 * steps counted from 0 at the start of fine-tuning; masks are recomputed at step `s` when
 * beginStep <= s <= endStep (endStep -1: forever) and (s - beginStep) % frequency == 0.
 */
const sparsity = z
  .number({ error: 'expected a sparsity in [0, 1)' })
  .min(0, 'expected a sparsity in [0, 1)')
  .lt(1, 'expected a sparsity in [0, 1)');
const step = z.number().int('expected an integer step').nonnegative('expected a step >= 0');
const frequency = z.number().int('expected an integer frequency').positive('expected a frequency > 0');

export const ConstantSparsitySchema = z.strictObject({
  type: z.literal('constantSparsity'),
  targetSparsity: sparsity,
  beginStep: step.default(0),
  /** -1: keep pruning until training ends. */
  endStep: z.number().int('expected an integer step').min(-1, 'expected -1 or a step >= 0').default(-1),
  frequency: frequency.default(100),
});

export const PolynomialDecaySchema = z.strictObject({
  type: z.literal('polynomialDecay'),
  initialSparsity: sparsity,
  finalSparsity: sparsity,
  beginStep: step.default(0),
  endStep: step,
  power: z.number().default(3),
  frequency: frequency.default(100),
});

export const PruningScheduleSchema = z
  .discriminatedUnion('type', [ConstantSparsitySchema, PolynomialDecaySchema])
  .superRefine((s, ctx) => {
    if (s.endStep !== -1 && s.endStep < s.beginStep) {
      ctx.addIssue({
        code: 'custom',
        path: ['endStep'],
        message: `expected endStep >= beginStep (${s.beginStep}) or -1`,
      });
    }
  });

export type PruningSchedule = z.infer<typeof PruningScheduleSchema>;
export type PruningScheduleInput = z.input<typeof PruningScheduleSchema>;

export function parsePruningSchedule(input: unknown, path = 'schedule'): PruningSchedule {
  return parseWith(PruningScheduleSchema, input, path);
}

export interface ScheduleDecision {
  /** Whether masks are recomputed at this step. */
  update: boolean;
  /** The sparsity the schedule asks for at this step. */
  sparsity: number;
}

export function scheduleAt(s: PruningSchedule, stepIndex: number): ScheduleDecision {
  const inRange = stepIndex >= s.beginStep && (s.endStep < 0 || stepIndex <= s.endStep);
  const turn = floorMod(stepIndex - s.beginStep, s.frequency) === 0;
  const update = inRange && turn;
  if (s.type === 'constantSparsity') return { update, sparsity: s.targetSparsity };
  const p = Math.min(1, Math.max(0, (stepIndex - s.beginStep) / (s.endStep - s.beginStep)));
  // beginStep == endStep makes the decay a jump straight to the final sparsity (0/0 at that step).
  const progress = Number.isNaN(p) ? 1 : p;
  const value = s.finalSparsity + (s.initialSparsity - s.finalSparsity) * Math.pow(1 - progress, s.power);
  return { update, sparsity: value };
}

/** The sparsity a schedule ends at (what the exported model holds). */
export function finalSparsity(s: PruningSchedule): number {
  return s.type === 'constantSparsity' ? s.targetSparsity : s.finalSparsity;
}

/**
 * The last step at which the schedule updates masks within `totalSteps` steps, or -1 when it never
 * does: a schedule whose last update comes before its final sparsity leaves the model less sparse than
 * asked, which the prune job reports rather than hides.
 */
export function lastUpdateStep(s: PruningSchedule, totalSteps: number): number {
  const end = s.endStep < 0 ? totalSteps - 1 : Math.min(s.endStep, totalSteps - 1);
  if (end < s.beginStep) return -1;
  return end - floorMod(end - s.beginStep, s.frequency);
}

function floorMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}
