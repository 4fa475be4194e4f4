import { join } from 'node:path';
import { z } from 'zod';
import { saveModel } from '../model/io.js';
import { BaseCallback, type Logs } from './callbacks.js';
import { improves, monitoredValue } from './early-stopping.js';

export const CheckpointSpecSchema = z.strictObject({
  monitor: z.string().min(1).default('val_loss'),
  mode: z.enum(['min', 'max']),
  saveBest: z.boolean().default(true),
  saveLast: z.boolean().default(true),
});
export type CheckpointSpec = z.infer<typeof CheckpointSpecSchema>;

/**
 * Keras ModelCheckpoint, both flavours at once: `dir/best` holds the weights of the best epoch so far by
 * `monitor`, `dir/last` the latest epoch. Each save is atomic, so a crash never leaves a torn checkpoint.
 */
export class ModelCheckpoint extends BaseCallback {
  private best: number;
  bestEpoch = -1;
  readonly saved: { best?: string; last?: string } = {};

  constructor(
    readonly dir: string,
    readonly options: CheckpointSpec,
  ) {
    super();
    this.best = options.mode === 'min' ? Infinity : -Infinity;
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    if (this.options.saveBest) {
      const value = monitoredValue(logs, this.options.monitor, 'checkpoint.monitor');
      if (improves(this.options.mode, value, this.best, 0)) {
        this.best = value;
        this.bestEpoch = epoch;
        this.saved.best = join(this.dir, 'best');
        await saveModel(this.ctx.model, this.saved.best);
      }
    }
    if (this.options.saveLast) {
      this.saved.last = join(this.dir, 'last');
      await saveModel(this.ctx.model, this.saved.last);
    }
  }
}
