import { z } from 'zod';

/**
 * Learning-rate schedules, evaluated per optimizer step. Formulas follow Keras (ExponentialDecay,
 * CosineDecay) and PyTorch (StepLR, counted in epochs). Any schedule can start with a linear warmup.
 */
const warmup = { warmupSteps: z.number().int().nonnegative().default(0) };

export const LrScheduleSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('constant'), ...warmup }),
  z.strictObject({
    type: z.literal('step'),
    /** Multiply by gamma every `stepEpochs` epochs. */
    stepEpochs: z.number().int().positive(),
    gamma: z.number().positive().default(0.1),
    ...warmup,
  }),
  z.strictObject({
    type: z.literal('exponential'),
    decaySteps: z.number().int().positive(),
    decayRate: z.number().positive(),
    staircase: z.boolean().default(false),
    ...warmup,
  }),
  z.strictObject({
    type: z.literal('cosine'),
    /** Steps over which to decay; defaults to the whole run after warmup. */
    decaySteps: z.number().int().positive().optional(),
    /** Final learning rate as a fraction of the initial one. */
    alpha: z.number().min(0).max(1).default(0),
    ...warmup,
  }),
]);

export type LrSchedule = z.infer<typeof LrScheduleSchema>;

export interface ScheduleClock {
  /** Optimizer steps taken so far (0-based index of the step about to run). */
  step: number;
  /** 0-based epoch of that step. */
  epoch: number;
  /** Steps in the whole run, for schedules that span it. */
  totalSteps: number;
}

export function scheduledLearningRate(s: LrSchedule, initial: number, clock: ScheduleClock): number {
  if (s.warmupSteps > 0 && clock.step < s.warmupSteps) return (initial * (clock.step + 1)) / s.warmupSteps;
  const step = clock.step - s.warmupSteps;
  switch (s.type) {
    case 'constant':
      return initial;
    case 'step':
      return initial * Math.pow(s.gamma, Math.floor(clock.epoch / s.stepEpochs));
    case 'exponential': {
      const p = step / s.decaySteps;
      return initial * Math.pow(s.decayRate, s.staircase ? Math.floor(p) : p);
    }
    case 'cosine': {
      const decaySteps = s.decaySteps ?? Math.max(1, clock.totalSteps - s.warmupSteps);
      const p = Math.min(step, decaySteps) / decaySteps;
      const cosine = 0.5 * (1 + Math.cos(Math.PI * p));
      return initial * ((1 - s.alpha) * cosine + s.alpha);
    }
  }
}
