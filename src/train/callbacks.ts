import type * as tf from '@tensorflow/tfjs';

/** Scalar logs keyed like Keras: `loss`, `accuracy`, `val_loss`, `val_accuracy`, `lr`. */
export type Logs = Record<string, number>;

export interface TrainingParams {
  epochs: number;
  batchSize: number;
  samples: number;
  stepsPerEpoch: number;
  validationSamples: number;
  /** Names of the per-batch logs, in order: `loss` then the compiled metrics. */
  metrics: string[];
}

/** What callbacks see and may change while training runs (Keras: `self.model`, `self.params`). */
export interface TrainingContext {
  readonly model: tf.LayersModel;
  readonly params: TrainingParams;
  /** Set to true to stop after the current batch (EarlyStopping does this). */
  stopTraining: boolean;
  /** Why training stopped early, for the run record. */
  stopReason?: string;
  /** Optimizer steps taken so far. */
  globalStep: number;
}

/**
 * Lifecycle hooks with Keras's names and order. Epochs and batches are 0-based as in Keras;
 * hooks may be async. Implement any subset.
 */
export interface Callback {
  setContext?(ctx: TrainingContext): void;
  onTrainBegin?(logs: Logs): void | Promise<void>;
  onTrainEnd?(logs: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
}

/** Base class for callbacks that need the context. */
export abstract class BaseCallback implements Callback {
  protected ctx!: TrainingContext;
  setContext(ctx: TrainingContext): void {
    this.ctx = ctx;
  }
}

/** Calls every callback's hook in order; awaits only hooks that return a promise. */
export class CallbackList {
  constructor(private readonly callbacks: Callback[]) {}

  setContext(ctx: TrainingContext): void {
    for (const c of this.callbacks) c.setContext?.(ctx);
  }

  async trainBegin(logs: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onTrainBegin?.(logs);
  }
  async trainEnd(logs: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onTrainEnd?.(logs);
  }
  async epochBegin(epoch: number, logs: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onEpochBegin?.(epoch, logs);
  }
  async epochEnd(epoch: number, logs: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onEpochEnd?.(epoch, logs);
  }
  async batchBegin(batch: number, logs: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onBatchBegin?.(batch, logs);
  }
  async batchEnd(batch: number, logs: Logs): Promise<void> {
    for (const c of this.callbacks) await c.onBatchEnd?.(batch, logs);
  }
}
