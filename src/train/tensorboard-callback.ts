import { BaseCallback, type Logs } from './callbacks.js';
import { tensorBoardWriters, writeLogs } from './tensorboard/index.js';

type Writers = ReturnType<typeof tensorBoardWriters>;

/**
 * Writes training curves like tfjs-node's `tf.node.tensorBoard(logdir)`: `logdir/train` and
 * `logdir/val`, tags `epoch_<metric>` with the 1-based epoch as step, and `batch_<metric>` per step
 * when updateFreq is 'batch'.
 */
export class TensorBoardCallback extends BaseCallback {
  private writers: Writers | undefined;

  constructor(
    readonly logdir: string,
    readonly updateFreq: 'epoch' | 'batch' = 'epoch',
  ) {
    super();
  }

  onTrainBegin(): void {
    this.writers = tensorBoardWriters(this.logdir);
  }

  onBatchEnd(_batch: number, logs: Logs): void {
    if (this.updateFreq !== 'batch' || !this.writers) return;
    const { batch: _b, size: _s, ...rest } = logs;
    writeLogs(this.writers, 'batch', rest, this.ctx.globalStep);
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    if (!this.writers) return;
    writeLogs(this.writers, 'epoch', logs, epoch + 1);
    this.writers.train.flush();
    this.writers.val.flush();
  }

  onTrainEnd(): void {
    this.writers?.close();
    this.writers = undefined;
  }
}
