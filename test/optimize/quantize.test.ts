import * as tf from '@tensorflow/tfjs';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { float16Bits, float16Value } from '../../src/optimize/float16.js';
import { dequantizeAffine, quantizeAffine, quantizeModelFiles } from '../../src/optimize/quantize.js';
import { pruneOnce } from '../../src/optimize/prune.js';
import { chooseQuantization } from '../../src/optimize/sensitivity.js';
import { captureModel, sizeOfFiles, writeModelFiles } from '../../src/optimize/serialize.js';
import { fit } from '../../src/train/trainer.js';
import { accuracyOf, clusters, mlp } from './helpers.js';

/** Serves a folder over HTTP so that stock tfjs loads model.json and the weight files it names by URL. */
let server: Server;
let base = '';
const dir = mkdtempSync(join(tmpdir(), 'modelauto-quant-'));
beforeAll(async () => {
  server = createServer((req, res) => {
    try {
      res.end(readFileSync(join(dir, decodeURIComponent((req.url ?? '/').slice(1)))));
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => Float32Array.from(w.dataSync()));
}

describe('tfjs affine and float16 encodings (tfjs converter formulas)', () => {
  // Expected values from the tfjs converter's quantization.py run with numpy on the same input.
  const data = Float32Array.from([-0.73, -0.5, 0, 0.1234, 0.25, 0.9, 1.31, -0.01]);

  it('uint8: scale = (max - min)/255, min nudged so that 0 is exact', () => {
    const a = quantizeAffine(data, 'uint8');
    expect(Array.from(a.q)).toEqual([0, 28, 91, 106, 122, 203, 255, 90]);
    expect(a.scale).toBeCloseTo(0.00799999985040403, 15);
    expect(a.min).toBeCloseTo(-0.7279999863867667, 15);
    expect(dequantizeAffine(a)[2]).toBe(0);
  });

  it('uint16 and ranges without 0', () => {
    expect(Array.from(quantizeAffine(data, 'uint16').q)).toEqual([
      0, 7388, 23451, 27415, 31482, 52363, 65535, 23130,
    ]);
    const positive = quantizeAffine(Float32Array.from([0.2, 0.5, 0.7]), 'uint8');
    expect(Array.from(positive.q)).toEqual([0, 153, 255]);
    expect(positive.min).toBeCloseTo(0.2, 7);
    const constant = quantizeAffine(Float32Array.from([0.3, 0.3]), 'uint8');
    expect(constant.scale).toBe(1);
    expect(Array.from(dequantizeAffine(constant))).toEqual([Math.fround(0.3), Math.fround(0.3)]);
  });

  it('float16 bits match numpy: normals, subnormals, overflow', () => {
    const values = [1.0, 65504, 1e-8, 0.1, -2.5, 6e-5, 1e-7, 65520];
    expect(values.map(float16Bits)).toEqual([15360, 31743, 0, 11878, 49408, 1007, 2, 31744]);
    expect(float16Value(11878)).toBeCloseTo(0.1, 3);
  });
});

describe('quantized model.json loads in stock tfjs', () => {
  const train = clusters(300, 8, 5);

  it('round trip over HTTP with tf.loadLayersModel: uint8, uint16, float16 and per-layer choice', async () => {
    const model = mlp(8, 64, 32);
    await fit(model, train, {
      epochs: 4,
      batchSize: 32,
      optimizer: { type: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      loss: 'categoricalCrossentropy',
    });
    pruneOnce(model, { sparsity: 0.5 });
    const float = weightsOf(model);
    const captured = await captureModel(model);
    const floatSize = sizeOfFiles({
      modelJson: new Uint8Array(0),
      weights: captured.weightData,
    }).weightsBytes;

    for (const dtype of ['uint8', 'uint16', 'float16'] as const) {
      const q = quantizeModelFiles(captured, { default: dtype });
      const sub = join(dir, dtype);
      writeModelFiles(sub, q.files);
      const json = JSON.parse(readFileSync(join(sub, 'model.json'), 'utf8'));
      const spec = json.weightsManifest[0].weights[0];
      expect(spec.quantization.dtype).toBe(dtype);
      if (dtype !== 'float16') expect(typeof spec.quantization.scale).toBe('number');

      const loaded = await tf.loadLayersModel(`${base}/${dtype}/model.json`);
      const got = weightsOf(loaded);
      expect(q.files.weights.byteLength).toBe(floatSize / (dtype === 'uint8' ? 4 : 2));
      got.forEach((w, i) => {
        const ref = float[i] as Float32Array;
        const range = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0) * 2;
        const tol = dtype === 'uint8' ? range / 255 : dtype === 'uint16' ? range / 65535 : 1e-3 * range;
        for (let j = 0; j < w.length; j++) {
          expect(Math.abs((w[j] as number) - (ref[j] as number))).toBeLessThanOrEqual(tol);
          if (ref[j] === 0) expect(w[j]).toBe(0); // pruned weights survive quantization exactly
        }
      });
      expect(Math.abs(accuracyOf(loaded, train) - accuracyOf(model, train))).toBeLessThan(0.05);
      loaded.dispose();
    }

    // Per-layer: the output layer kept at float32 while the rest is uint8.
    const mixed = quantizeModelFiles(captured, { default: 'uint8', layers: { out: 'float32' } });
    expect(mixed.weights.filter((w) => w.layer === 'out').every((w) => w.dtype === 'float32')).toBe(true);
    writeModelFiles(join(dir, 'mixed'), mixed.files);
    const loaded = await tf.loadLayersModel(`${base}/mixed/model.json`);
    expect(Array.from(loaded.getLayer('out').getWeights()[0]!.dataSync())).toEqual(
      Array.from(model.getLayer('out').getWeights()[0]!.dataSync()),
    );
    expect(() => quantizeModelFiles(captured, { default: 'uint8', layers: { nope: 'uint16' } })).toThrow(
      /quantize\.layers: unknown layer "nope"/,
    );
    expect(() => quantizeModelFiles(captured, { default: 'int4' as 'uint8' })).toThrow(/quantize\.default/);
  });

  it('sensitivity check keeps a layer at higher precision when uint8 costs too much', async () => {
    const model = mlp(8, 16, 16);
    await fit(model, train, {
      epochs: 3,
      batchSize: 32,
      optimizer: { type: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      loss: 'categoricalCrossentropy',
    });
    // Make h2 fragile: one huge weight stretches its uint8 range so every other weight rounds to a few levels.
    const [k, b] = model.getLayer('h2').getWeights();
    const kv = Float32Array.from(k!.dataSync());
    kv[0] = 400;
    model.getLayer('h2').setWeights([tf.tensor(kv, k!.shape), b!]);
    // Score: negative mean squared error of the outputs against the float model (fine-grained, deterministic).
    const x = tf.tensor(train.x, [train.n, 8]);
    const ref = model.predict(x) as tf.Tensor;
    const score = async (m: tf.LayersModel) =>
      -tf.tidy(() => tf.losses.meanSquaredError(ref, m.predict(x) as tf.Tensor).dataSync()[0] as number);
    const r = await chooseQuantization(await captureModel(model), score, { dtype: 'uint8', maxDrop: 1e-4 });
    const byLayer = Object.fromEntries(r.layers.map((l) => [l.layer, l.dtype]));
    expect(byLayer['h1']).toBe('uint8');
    expect(byLayer['h2']).not.toBe('uint8');
    expect(r.drop).toBeLessThanOrEqual(1e-4);
    expect(r.plan.layers['h2']).toBe(byLayer['h2']);
  });
});
