import type { TrackingStore } from '../store/tracking-store.js';
import { BaseCallback, type Logs } from '../train/callbacks.js';

/** Records every epoch's logs as metrics of the run (step = 1-based epoch, like TensorBoard). */
export class TrackingCallback extends BaseCallback {
  constructor(
    private readonly store: TrackingStore,
    private readonly runId: string,
  ) {
    super();
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const timestamp = Date.now();
    await this.store.logMetrics(
      this.runId,
      Object.entries(logs).map(([key, value]) => ({ key, value, step: epoch + 1, timestamp })),
    );
  }
}
