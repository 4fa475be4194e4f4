import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BaseCallback, type Logs } from '../../src/train/callbacks.js';
import { EarlyStopping } from '../../src/train/early-stopping.js';
import { fit } from '../../src/train/trainer.js';
import { blobs, smallModel } from './helpers.js';

class Recorder extends BaseCallback {
  events: string[] = [];
  epochLogs: Logs[] = [];
  onTrainBegin() {
    this.events.push('trainBegin');
  }
  onEpochBegin(e: number) {
    this.events.push(`epochBegin ${e}`);
  }
  onBatchBegin(b: number) {
    this.events.push(`batchBegin ${b}`);
  }
  onBatchEnd(b: number, logs: Logs) {
    this.events.push(`batchEnd ${b} size=${logs['size']}`);
  }
  onEpochEnd(e: number, logs: Logs) {
    this.events.push(`epochEnd ${e}`);
    this.epochLogs.push(logs);
  }
  onTrainEnd() {
    this.events.push('trainEnd');
  }
}

describe('fit', () => {
  it('calls hooks in Keras order with batch sizes and epoch logs', async () => {
    const rec = new Recorder();
    const data = blobs(10);
    const result = await fit(smallModel(), data, {
      epochs: 2,
      batchSize: 4,
      optimizer: { type: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      loss: 'categoricalCrossentropy',
      metrics: ['accuracy'],
      validation: blobs(6, 2),
      callbacks: [rec],
    });
    expect(rec.events).toEqual([
      'trainBegin',
      'epochBegin 0',
      'batchBegin 0',
      'batchEnd 0 size=4',
      'batchBegin 1',
      'batchEnd 1 size=4',
      'batchBegin 2',
      'batchEnd 2 size=2',
      'epochEnd 0',
      'epochBegin 1',
      'batchBegin 0',
      'batchEnd 0 size=4',
      'batchBegin 1',
      'batchEnd 1 size=4',
      'batchBegin 2',
      'batchEnd 2 size=2',
      'epochEnd 1',
      'trainEnd',
    ]);
    expect(Object.keys(rec.epochLogs[0]!).sort()).toEqual(
      ['accuracy', 'learning_rate', 'loss', 'val_accuracy', 'val_loss'].sort(),
    );
    expect(result.status).toBe('finished');
    expect(result.epochsCompleted).toBe(2);
  });

  it('learns: loss goes down and accuracy goes up on separable data', async () => {
    const result = await fit(smallModel(), blobs(200), {
      epochs: 15,
      batchSize: 20,
      optimizer: { type: 'adam', learningRate: 0.02, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      loss: 'categoricalCrossentropy',
      metrics: ['accuracy'],
    });
    const first = result.history[0]!;
    const last = result.history[result.history.length - 1]!;
    expect(last['loss']!).toBeLessThan(first['loss']! * 0.5);
    expect(last['accuracy']!).toBeGreaterThan(0.95);
  });

  it('is reproducible with one seed and differs with another', async () => {
    const run = async (seed: number) =>
      (
        await fit(smallModel(3), blobs(40), {
          epochs: 2,
          batchSize: 8,
          seed,
          optimizer: { type: 'sgd', learningRate: 0.1, momentum: 0, nesterov: false },
          loss: 'categoricalCrossentropy',
        })
      ).history.map((h) => h['loss']);
    expect(await run(1)).toEqual(await run(1));
    expect(await run(1)).not.toEqual(await run(2));
  });

  it('stops after the current batch when the signal aborts', async () => {
    const controller = new AbortController();
    const rec = new Recorder();
    const abortAt = new (class extends BaseCallback {
      onBatchEnd(batch: number) {
        if (batch === 1) controller.abort();
      }
    })();
    const result = await fit(smallModel(), blobs(40), {
      epochs: 3,
      batchSize: 4,
      optimizer: { type: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      loss: 'categoricalCrossentropy',
      callbacks: [rec, abortAt],
      signal: controller.signal,
    });
    expect(result.status).toBe('interrupted');
    expect(result.epochsCompleted).toBe(0);
    expect(rec.events.filter((e) => e.startsWith('batchEnd'))).toHaveLength(2);
    expect(rec.events[rec.events.length - 1]).toBe('trainEnd');
  });

  it('does not leak tensors across epochs', async () => {
    const model = smallModel();
    const opts = {
      epochs: 1,
      batchSize: 8,
      optimizer: { type: 'adam' as const, learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      loss: 'categoricalCrossentropy' as const,
      metrics: ['accuracy' as const],
      validation: blobs(8),
    };
    await fit(model, blobs(32), opts);
    const before = tf.memory().numTensors;
    await fit(model, blobs(32), { ...opts, epochs: 3 });
    // Recompiling creates fresh optimizer slots (Adam: 2 per weight); nothing else may remain.
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(2 * model.getWeights().length + 2);
  });

  it('rejects inconsistent data with a clear message', async () => {
    const bad = { ...blobs(4), n: 5 };
    await expect(
      fit(smallModel(), bad, {
        epochs: 1,
        batchSize: 2,
        optimizer: { type: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
        loss: 'categoricalCrossentropy',
      }),
    ).rejects.toThrow(/train\.x: expected 5×4 values, got 16/);
  });
});

describe('EarlyStopping', () => {
  it('requires an explicit mode and reports unknown monitors', async () => {
    expect(() => new EarlyStopping({ monitor: 'val_loss' } as never)).toThrow(/mode/);
    await expect(
      fit(smallModel(), blobs(8), {
        epochs: 2,
        batchSize: 4,
        optimizer: { type: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
        loss: 'categoricalCrossentropy',
        callbacks: [new EarlyStopping({ monitor: 'val_acc', mode: 'max' })],
      }),
    ).rejects.toThrow(/"val_acc" is not in the epoch logs; available: loss, learning_rate/);
  });

  it('stops after `patience` epochs without improvement and restores the best weights', async () => {
    // A learning rate of 0 freezes the model: the monitored loss never improves after epoch 1.
    const model = smallModel();
    const es = new EarlyStopping({ monitor: 'loss', mode: 'min', patience: 2, restoreBest: true });
    let seen: number[] = [];
    const perturb = new (class extends BaseCallback {
      onEpochEnd(epoch: number) {
        // Make the weights worse after the first epoch so that restoring them is observable.
        if (epoch === 0) seen = Array.from(this.ctx.model.getWeights()[0]!.dataSync());
        const w = this.ctx.model.getWeights();
        this.ctx.model.setWeights(w.map((t) => t.add(1)));
      }
    })();
    const result = await fit(model, blobs(16), {
      epochs: 10,
      batchSize: 16,
      optimizer: { type: 'sgd', learningRate: 1e-9, momentum: 0, nesterov: false },
      loss: 'categoricalCrossentropy',
      callbacks: [es, perturb],
    });
    expect(result.status).toBe('stopped');
    expect(result.epochsCompleted).toBeLessThanOrEqual(4);
    expect(result.stopReason).toMatch(/early stopping: loss did not improve/);
    expect(es.bestEpoch).toBe(0);
    const restored = Array.from(model.getWeights()[0]!.dataSync());
    // EarlyStopping runs before `perturb` in the list, so it saved the epoch-0 weights before the +1.
    restored.forEach((v, i) => expect(v).toBeCloseTo(seen[i]!, 5));
  });
});
