import { describe, expect, it } from 'vitest';
import { keepCount, magnitudeMask, mByNMask } from '../../src/optimize/masks.js';
import { PruningCallback, pruneOnce } from '../../src/optimize/prune.js';
import { compressionReport, layerReport } from '../../src/optimize/report.js';
import { BaseCallback } from '../../src/train/callbacks.js';
import { fit } from '../../src/train/trainer.js';
import { accuracyOf, clusters, mlp } from './helpers.js';

const adam = { type: 'adam' as const, learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

describe('masks', () => {
  it('keeps the round(n * (1 - s)) largest magnitudes, at least one', () => {
    expect(keepCount(100, 0.8)).toBe(20);
    expect(keepCount(10, 0.99)).toBe(1);
    expect(keepCount(5, 0.5)).toBe(2); // 2.5 rounds half to even, as tf.round does
    const w = Float32Array.from([0.1, -0.5, 0.3, -0.05, 0.9, 0.2, 0, 0.4]);
    expect(Array.from(magnitudeMask(w, 0.5))).toEqual([0, 1, 1, 0, 1, 0, 0, 1]);
  });

  it('2:4 keeps the two largest of every four input weights per output, also in a trailing partial block', () => {
    // Dense kernel [in 6, out 2], row-major: w[i * 2 + o].
    const col0 = [0.1, -0.9, 0.3, 0.2, 0.5, -0.05];
    const col1 = [1, 2, -3, 4, 0.01, 0.02];
    const w = new Float32Array(12);
    col0.forEach((v, i) => (w[i * 2] = v));
    col1.forEach((v, i) => (w[i * 2 + 1] = v));
    const mask = mByNMask(w, [6, 2], 2, 4);
    const m0 = col0.map((_, i) => mask[i * 2]);
    const m1 = col1.map((_, i) => mask[i * 2 + 1]);
    expect(m0).toEqual([0, 1, 1, 0, 1, 1]);
    expect(m1).toEqual([0, 0, 1, 1, 1, 1]);
    // Conv kernel [1, 1, 4, 3]: every (position, output) block of 4 inputs has exactly 2 zeros.
    const conv = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + 1));
    const cm = mByNMask(conv, [1, 1, 4, 3], 2, 4);
    for (let o = 0; o < 3; o++)
      expect([0, 1, 2, 3].reduce((s, i) => s + (cm[i * 3 + o] as number), 0)).toBe(2);
  });
});

/** Records, after every optimizer step, whether any pruned position holds a non-zero weight. */
class ZeroWatcher extends BaseCallback {
  violations = 0;
  steps = 0;
  constructor(private readonly pruning: PruningCallback) {
    super();
  }
  onBatchEnd(): void {
    this.steps++;
    for (const t of this.pruning.targets) {
      const v = t.weight.variable.read().dataSync();
      for (let i = 0; i < v.length; i++) if (t.mask[i] === 0 && v[i] !== 0) this.violations++;
    }
  }
}

/** The same schedule without re-applying masks after the step: proves the watcher can see a violation. */
class MaskOnlyAtUpdates extends PruningCallback {
  override onBatchEnd(): void {}
}

describe('magnitude pruning during training', () => {
  const train = clusters(240, 8, 3);

  it('keeps pruned weights at exactly zero through Adam steps and reaches the final sparsity', async () => {
    const model = mlp();
    const steps = 3 * Math.ceil(train.n / 32);
    const pruning = new PruningCallback(model, {
      schedule: {
        type: 'polynomialDecay',
        initialSparsity: 0.3,
        finalSparsity: 0.75,
        endStep: steps - 4,
        frequency: 4,
      },
    });
    const watcher = new ZeroWatcher(pruning);
    await fit(model, train, {
      epochs: 3,
      batchSize: 32,
      optimizer: adam,
      loss: 'categoricalCrossentropy',
      callbacks: [pruning, watcher],
    });
    expect(watcher.steps).toBe(steps);
    expect(watcher.violations).toBe(0);
    const layers = pruning.strip();
    for (const l of layers) {
      expect(l.targetSparsity).toBe(0.75);
      expect(l.sparsity).toBeGreaterThan(0.7);
      expect(l.sparsity).toBeLessThanOrEqual(0.76);
    }
    expect(accuracyOf(model, train)).toBeGreaterThan(0.9);
    // Pruned zeros are +0 (a single byte pattern, which is what gzip sees).
    for (const t of pruning.targets)
      expect(Array.from(t.weight.variable.read().dataSync()).some((v) => Object.is(v, -0))).toBe(false);
  });

  it('without re-applying the masks, Adam moves pruned weights off zero', async () => {
    const model = mlp();
    const pruning = new MaskOnlyAtUpdates(model, {
      schedule: { type: 'constantSparsity', targetSparsity: 0.5, frequency: 100 },
    });
    const watcher = new ZeroWatcher(pruning);
    await fit(model, train, {
      epochs: 1,
      batchSize: 32,
      optimizer: adam,
      loss: 'categoricalCrossentropy',
      callbacks: [pruning, watcher],
    });
    expect(watcher.violations).toBeGreaterThan(0);
  });

  it('global scope: one threshold, layers end at different sparsities around the target overall', () => {
    const model = mlp(8, 64, 16);
    const layers = pruneOnce(model, { sparsity: 0.6, scope: 'global' });
    const report = layerReport(model);
    const kernels = report.filter((r) => r.className === 'Dense');
    const sizes = [8 * 64, 64 * 16, 16 * 3];
    const zeroed = kernels.reduce((s, r, i) => s + r.kernelSparsity * (sizes[i] as number), 0);
    expect(zeroed / sizes.reduce((a, b) => a + b, 0)).toBeCloseTo(0.6, 2);
    expect(new Set(layers.map((l) => l.sparsity.toFixed(3))).size).toBeGreaterThan(1);
  });

  it('skips layers by name and refuses unknown names before any work', () => {
    const model = mlp();
    const layers = pruneOnce(model, { sparsity: 0.5, skip: ['out'] });
    expect(layers.map((l) => l.layer)).toEqual(['h1', 'h2']);
    expect(layerReport(model).find((r) => r.layer === 'out')?.kernelSparsity).toBe(0);
    expect(() => pruneOnce(model, { sparsity: 0.5, skip: ['nope'] })).toThrow(
      /prune\.skip: unknown layer "nope"; the model's layers are h1, h2, out/,
    );
    expect(() => pruneOnce(model, { sparsity: 0.5, skip: ['h1', 'h2', 'out'] })).toThrow(
      /no layer left to prune/,
    );
    expect(() => pruneOnce(model, { sparsity: 1 })).toThrow(
      /targetSparsity: expected a sparsity in \[0, 1\)/,
    );
    expect(
      () =>
        new PruningCallback(model, {
          schedule: { type: 'constantSparsity', targetSparsity: 0.5 },
          layerSchedules: { h9: { type: 'constantSparsity', targetSparsity: 0.2 } },
        }),
    ).toThrow(/prune\.layerSchedules: unknown layer "h9"/);
  });

  it('2:4 pruning during training keeps the pattern', async () => {
    const model = mlp();
    const pruning = new PruningCallback(model, {
      schedule: { type: 'constantSparsity', targetSparsity: 0.5, frequency: 3 },
      mByN: { m: 2, n: 4 },
    });
    await fit(model, train, {
      epochs: 1,
      batchSize: 32,
      optimizer: adam,
      loss: 'categoricalCrossentropy',
      callbacks: [pruning],
    });
    pruning.strip();
    const k = model.getLayer('h1').getWeights()[0]!.dataSync(); // [8, 32]
    for (let o = 0; o < 32; o++) {
      for (const start of [0, 4]) {
        let nz = 0;
        for (let i = start; i < start + 4; i++) if (k[i * 32 + o] !== 0) nz++;
        expect(nz).toBeLessThanOrEqual(2);
      }
    }
    expect(
      () =>
        new PruningCallback(model, {
          schedule: { type: 'constantSparsity', targetSparsity: 0.5 },
          mByN: { m: 4, n: 4 },
        }),
    ).toThrow(/prune\.mByN: expected m < n/);
  });

  it('reports per-layer sparsity and a gzipped size that shrinks with sparsity', async () => {
    const dense = mlp(8, 128, 64);
    const before = await compressionReport(dense);
    pruneOnce(dense, { sparsity: 0.8 });
    const after = await compressionReport(dense);
    expect(after.size.rawBytes).toBe(before.size.rawBytes); // zeros are still stored as float32
    expect(after.size.gzipBytes).toBeLessThan(before.size.gzipBytes * 0.45);
    expect(after.sparsity).toBeGreaterThan(0.75);
    expect(after.layers.map((l) => l.layer)).toEqual(['h1', 'h2', 'out']);
    expect(after.layers[0]!.kernelSparsity).toBeCloseTo(0.8, 2);
    // Per layer bytes: h1 holds 8*128 + 128 float32 values; its gzipped slice shrank with the zeros.
    expect(after.layers[0]!.rawBytes).toBe((8 * 128 + 128) * 4);
    expect(after.layers[0]!.gzipBytes).toBeLessThan(before.layers[0]!.gzipBytes * 0.5);
    expect(after.layers.reduce((s, l) => s + l.rawBytes, 0)).toBe(after.size.weightsBytes);
    dense.dispose();
  });
});
