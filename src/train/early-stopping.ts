import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ModelautoError } from '../core/errors.js';
import { BaseCallback, type Logs } from './callbacks.js';

export const EarlyStoppingSpecSchema = z.strictObject({
  monitor: z.string().min(1).default('val_loss'),
  /** Required: whether lower or higher is better is never guessed from the metric's name. */
  mode: z.enum(['min', 'max']),
  minDelta: z.number().nonnegative().default(0),
  patience: z.number().int().nonnegative().default(0),
  baseline: z.number().optional(),
  restoreBest: z.boolean().default(false),
  /** Epochs to wait before watching (warm-up epochs are often noisy). */
  startFromEpoch: z.number().int().nonnegative().default(0),
});
export type EarlyStoppingSpec = z.infer<typeof EarlyStoppingSpecSchema>;
export type EarlyStoppingOptions = z.input<typeof EarlyStoppingSpecSchema>;

/** True when `value` beats `reference` by more than minDelta in the given direction. */
export function improves(mode: 'min' | 'max', value: number, reference: number, minDelta: number): boolean {
  return mode === 'min' ? value < reference - minDelta : value > reference + minDelta;
}

export function monitoredValue(logs: Logs, monitor: string, who: string): number {
  const v = logs[monitor];
  if (v === undefined) {
    throw new ModelautoError(
      'INVALID_SPEC',
      `${who}: monitored value "${monitor}" is not in the epoch logs; available: ${Object.keys(logs).join(', ')}`,
    );
  }
  return v;
}

/**
 * Keras EarlyStopping: stop when `monitor` has not improved by more than minDelta for `patience`
 * epochs. With restoreBest the best epoch's weights are put back when training ends, whether or not
 * it stopped early (a demanding user wants the best model either way).
 */
export class EarlyStopping extends BaseCallback {
  readonly options: EarlyStoppingSpec;
  private wait = 0;
  private best = NaN;
  private bestWeights: tf.Tensor[] | undefined;
  bestEpoch = -1;
  stoppedEpoch = -1;

  constructor(options: EarlyStoppingOptions) {
    super();
    const r = EarlyStoppingSpecSchema.safeParse(options);
    if (!r.success) {
      throw new ModelautoError(
        'INVALID_SPEC',
        `earlyStopping: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    this.options = r.data;
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.best = this.options.baseline ?? (this.options.mode === 'min' ? Infinity : -Infinity);
    this.bestEpoch = -1;
    this.stoppedEpoch = -1;
    this.disposeBest();
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const value = monitoredValue(logs, this.options.monitor, 'earlyStopping.monitor');
    if (epoch < this.options.startFromEpoch || Number.isNaN(value)) return;
    this.wait += 1;
    if (improves(this.options.mode, value, this.best, this.options.minDelta)) {
      this.best = value;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.options.restoreBest) {
        this.disposeBest();
        this.bestWeights = this.ctx.model.getWeights().map((w) => w.clone());
      }
      return;
    }
    if (this.wait >= this.options.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.ctx.stopTraining = true;
      this.ctx.stopReason = `early stopping: ${this.options.monitor} did not improve for ${this.wait} epoch(s); best ${this.best} at epoch ${this.bestEpoch + 1}`;
    }
  }

  onTrainEnd(): void {
    if (this.options.restoreBest && this.bestWeights) {
      this.ctx.model.setWeights(this.bestWeights);
    }
    this.disposeBest();
  }

  private disposeBest(): void {
    this.bestWeights?.forEach((w) => w.dispose());
    this.bestWeights = undefined;
  }
}
