import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import {
  gatherRowsTensor,
  installNativeKernels,
  NativeAdamOptimizer,
  NativeSGDOptimizer,
  uninstallNativeKernels,
} from '../../../src/engine/native/index.js';
import {
  countCalls,
  describeNative,
  expectClose,
  expectSameResult,
  randomArray,
  randomTensor,
  runBoth,
  useCpu,
} from './helpers.js';

beforeAll(useCpu);

type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** The inner LayersModel of a Sequential (where compile stores the loss functions). */
function lossFunctionsOf(model: tf.Sequential): { lossFunctions: LossFn[]; feedLossFns: LossFn[] } {
  return (model as unknown as { model: { lossFunctions: LossFn[]; feedLossFns: LossFn[] } }).model;
}

function classifier(): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [6], units: 5, activation: 'softmax' }));
  return m;
}

/** Probabilities with hard cases: rows that do not sum to 1, values clipped at eps and 1 - eps. */
function predictions(rng: Rng, rows: number, cols: number): tf.Tensor {
  const v = randomArray(rng, rows * cols, 0.01, 1);
  // row 0: zero and tiny probabilities (clipped below); row 1: one-hot (clipped above)
  for (let j = 0; j < cols; j++) {
    v[j] = j === 0 ? 1e-9 : j === 1 ? 0.5 : 0;
    if (rows > 1) v[cols + j] = j === 0 ? 1 : 0;
  }
  return tf.tensor(v, [rows, cols]);
}

function oneHotTargets(rng: Rng, rows: number, cols: number, dtype: 'int32' | 'float32'): tf.Tensor {
  const labels = Array.from({ length: rows }, () => rng.int(cols));
  const t = tf.oneHot(tf.tensor1d(labels, 'int32'), cols);
  return dtype === 'int32' ? t : tf.cast(t, 'float32');
}

describeNative('fused categoricalCrossentropy loss', () => {
  const rng = new Rng(77);

  it('replaces the loss compile() chose, keeps the one that validates targets', () => {
    installNativeKernels();
    const fused = classifier();
    fused.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    const other = classifier();
    other.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    uninstallNativeKernels();
    const plain = classifier();
    plain.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    const f = lossFunctionsOf(fused);
    const p = lossFunctionsOf(plain);
    expect(f.lossFunctions[0]).not.toBe(p.lossFunctions[0]);
    expect(f.feedLossFns[0]).toBe(p.feedLossFns[0]);
    expect(lossFunctionsOf(other).lossFunctions[0]).toBe(lossFunctionsOf(other).feedLossFns[0]);
    installNativeKernels();
    [fused, other, plain].forEach((m) => m.dispose());
  });

  it('gives tfjs-layers values and gradients (float32 and int32 targets, clipped rows, rank 3)', () => {
    installNativeKernels();
    const model = classifier();
    model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    const fusedLoss = lossFunctionsOf(model).lossFunctions[0] as LossFn;
    for (const [rows, cols, dtype] of [
      [9, 5, 'float32'],
      [33, 7, 'int32'],
      [2, 3, 'int32'],
    ] as const) {
      const yPred = predictions(rng, rows, cols);
      const yTrue = oneHotTargets(rng, rows, cols, dtype);
      const probe = randomTensor(rng, [rows]);
      const run = (loss: LossFn): tf.Tensor[] => {
        const value = loss(yTrue, yPred);
        const g = tf.grad((p: tf.Tensor) => loss(yTrue, p).mul(probe).sum())(yPred);
        return [value, g];
      };
      const calls = countCalls('ModelautoCategoricalCrossentropyGrad', () => {
        const native = tf.tidy(() => run(fusedLoss).map((t) => t.dataSync().slice()));
        uninstallNativeKernels();
        const js = tf.tidy(() =>
          run((a, b) => tf.metrics.categoricalCrossentropy(a, b)).map((t) => t.dataSync().slice()),
        );
        installNativeKernels();
        native.forEach((v, i) =>
          expectClose(v, js[i] ?? new Float32Array(0), 1e-5, undefined, `${rows}x${cols} ${i}`),
        );
      });
      expect(calls.calls).toBe(1);
      tf.dispose([yPred, yTrue, probe]);
    }
    // rank 3: one loss per [batch, time] position
    const yPred = tf.softmax(randomTensor(rng, [2, 3, 4]));
    const yTrue = tf.oneHot(
      tf.tensor2d(
        [
          [0, 1, 3],
          [2, 2, 0],
        ],
        [2, 3],
        'int32',
      ),
      4,
    );
    const r = runBoth(() => fusedLoss(yTrue, yPred));
    expect(r.native.shapes).toEqual([[2, 3]]);
    expectSameResult(r, 1e-5);
    tf.dispose([yPred, yTrue]);
    model.dispose();
  });

  it('falls back to tfjs once the native kernels are uninstalled', () => {
    installNativeKernels();
    const model = classifier();
    model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    const fusedLoss = lossFunctionsOf(model).lossFunctions[0] as LossFn;
    const yPred = predictions(rng, 4, 5);
    const yTrue = oneHotTargets(rng, 4, 5, 'float32');
    const native = fusedLoss(yTrue, yPred);
    uninstallNativeKernels();
    const after = fusedLoss(yTrue, yPred);
    expectClose(after.dataSync(), native.dataSync(), 1e-5);
    installNativeKernels();
    tf.dispose([yPred, yTrue, native, after]);
    model.dispose();
  });
});

describeNative('fused Softmax gradient', () => {
  const rng = new Rng(78);

  it('matches tfjs for first- and second-order gradients', () => {
    for (const shape of [
      [128, 10],
      [3, 4, 17],
      [1, 1],
    ]) {
      const x = randomTensor(rng, shape, -4, 4);
      const probe = randomTensor(rng, shape);
      let r: ReturnType<typeof runBoth> | undefined;
      const calls = countCalls('ModelautoSoftmaxGrad', () => {
        r = runBoth(() => tf.grad((xx: tf.Tensor) => tf.softmax(xx).mul(probe).sum())(x));
      });
      expect(calls.calls, `${shape}`).toBe(1);
      if (r) expectSameResult(r, 1e-5, `${shape}`);
      // d/dv of the softmax gradient's sum with upstream v * v: exercises both second-order terms
      const f = (v: tf.Tensor): tf.Tensor =>
        (tf.grad((xx: tf.Tensor) => tf.softmax(xx).mul(v).mul(v).sum())(x) as tf.Tensor).mul(probe).sum();
      expectSameResult(
        runBoth(() => tf.grad(f)(probe)),
        1e-4,
        `${shape} second order`,
      );
      tf.dispose([x, probe]);
    }
  });
});

describeNative('fused matMul while recording gradients', () => {
  const rng = new Rng(79);

  it('records one _FusedMatMul with the gradients of tfjs, for every transpose, bias and activation', () => {
    const M = 13;
    const K = 21;
    const N = 9;
    for (const transposeA of [false, true])
      for (const transposeB of [false, true])
        for (const activation of ['relu', 'linear'] as const)
          for (const withBias of [true, false]) {
            const a = randomTensor(rng, transposeA ? [K, M] : [M, K]);
            const b = randomTensor(rng, transposeB ? [N, K] : [K, N]);
            const bias = randomTensor(rng, [N]);
            const probe = randomTensor(rng, [M, N]);
            const label = `tA ${transposeA} tB ${transposeB} ${activation} bias ${withBias}`;
            const f = (aa: tf.Tensor, bb: tf.Tensor, cc?: tf.Tensor): tf.Tensor =>
              tf.fused
                .matMul({
                  a: aa as tf.Tensor2D,
                  b: bb as tf.Tensor2D,
                  transposeA,
                  transposeB,
                  activation,
                  ...(withBias && cc ? { bias: cc } : {}),
                })
                .mul(probe)
                .sum();
            let r: ReturnType<typeof runBoth> | undefined;
            const calls = countCalls('_FusedMatMul', () => {
              r = runBoth(() => {
                const { value, grads } = tf.valueAndGrads(f)(withBias ? [a, b, bias] : [a, b]);
                return [value, ...grads];
              });
            });
            expect(calls.calls, label).toBe(1);
            if (r) expectSameResult(r, 1e-5, label);
            tf.dispose([a, b, bias, probe]);
          }
  });

  it('trains a Dense relu layer with one kernel forward and only the gradients it needs', () => {
    installNativeKernels();
    const model = tf.sequential();
    model.add(tf.layers.dense({ inputShape: [8], units: 6, activation: 'relu' }));
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const x = randomTensor(rng, [5, 8]);
    const y = randomTensor(rng, [5, 6]);
    const seen: string[] = [];
    const engine = tf.engine() as unknown as { runKernelFunc: (p: { kernelName?: string }) => unknown };
    const original = engine.runKernelFunc.bind(engine);
    engine.runKernelFunc = (p) => {
      if (p.kernelName !== undefined) seen.push(p.kernelName);
      return original(p);
    };
    try {
      tf.tidy(() => {
        model.optimizer.minimize(() => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor));
      });
    } finally {
      engine.runKernelFunc = original;
    }
    expect(seen.filter((k) => k === '_FusedMatMul')).toHaveLength(1);
    expect(seen).not.toContain('Relu');
    // dW only: the input x is data, so no matmul for its gradient
    expect(seen.filter((k) => k === 'BatchMatMul')).toHaveLength(1);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describeNative('in-place optimizer updates', () => {
  const rng = new Rng(80);

  it('never change values someone else holds (clones, dataSync arrays), and give tfjs results', () => {
    installNativeKernels();
    const init = randomArray(rng, 40 * 30);
    const grads = Array.from({ length: 6 }, () => randomArray(rng, 40 * 30));
    const run = (opt: tf.Optimizer, hold: boolean): Float32Array => {
      const v = tf.variable(tf.tensor(init, [40, 30]));
      const held: { step: number; clone: tf.Tensor; copy: Float32Array; array: Float32Array }[] = [];
      grads.forEach((g, step) => {
        if (hold && step % 2 === 1) {
          const array = v.dataSync() as Float32Array;
          held.push({ step, clone: v.clone(), copy: array.slice(), array });
        }
        const gt = tf.tensor(g, [40, 30]);
        opt.applyGradients([{ name: v.name, tensor: gt }]);
        gt.dispose();
      });
      for (const h of held) {
        expect(Array.from(h.clone.dataSync()), `clone from step ${h.step}`).toEqual(Array.from(h.copy));
        expect(Array.from(h.array), `dataSync array from step ${h.step}`).toEqual(Array.from(h.copy));
        h.clone.dispose();
      }
      const out = (v.dataSync() as Float32Array).slice();
      v.dispose();
      opt.dispose();
      return out;
    };
    for (const make of [() => new NativeAdamOptimizer(0.01), () => new NativeSGDOptimizer(0.1)]) {
      const held = run(make(), true);
      const free = run(make(), false);
      expect(Array.from(held)).toEqual(Array.from(free));
    }
    const js = run(tf.train.adam(0.01), false);
    expect(Array.from(run(new NativeAdamOptimizer(0.01), false))).toEqual(Array.from(js));
  });

  it('updates a variable without replacing its data once nothing else holds it', () => {
    installNativeKernels();
    const v = tf.variable(randomTensor(rng, [300]));
    const opt = new NativeAdamOptimizer(0.01);
    const ids: unknown[] = [];
    for (let step = 0; step < 4; step++) {
      const g = randomTensor(rng, [300]);
      opt.applyGradients([{ name: v.name, tensor: g }]);
      g.dispose();
      ids.push(v.dataId);
    }
    // the first step writes new arrays (tfjs made the old ones); later steps reuse them
    expect(ids[1]).toBe(ids[2]);
    expect(ids[2]).toBe(ids[3]);
    tf.dispose([v]);
    opt.dispose();
  });
});

describeNative('mini-batch gathering', () => {
  it('copies the selected rows, natively or not, and rejects bad indices', () => {
    const rng = new Rng(81);
    const n = 50;
    const src = randomArray(rng, n * 12);
    const order = Int32Array.from(rng.permutation(n));
    const expected = new Float32Array(7 * 12);
    for (let i = 0; i < 7; i++)
      expected.set(src.subarray((order[10 + i] ?? 0) * 12, ((order[10 + i] ?? 0) + 1) * 12), i * 12);
    for (const native of [true, false]) {
      if (native) installNativeKernels();
      else uninstallNativeKernels();
      const t = gatherRowsTensor(src, [3, 4], order, 10, 17);
      expect(t.shape).toEqual([7, 3, 4]);
      expect(Array.from(t.dataSync())).toEqual(Array.from(expected));
      t.dispose();
      expect(() => gatherRowsTensor(src, [3, 4], Int32Array.from([0, n]), 0, 2)).toThrow(RangeError);
    }
    installNativeKernels();
  });
});
