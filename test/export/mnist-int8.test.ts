import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/load.js';
import { DataSpecSchema } from '../../src/data/spec.js';
import { fitPreprocessor } from '../../src/data/preprocess.js';
import { splitDataset } from '../../src/data/split.js';
import { buildModel } from '../../src/model/build.js';
import { convertModel } from '../../src/export/onnx/convert.js';
import { buildOnnx, loadOnnxExport, serializeOnnx } from '../../src/export/onnx/export.js';
import { createSession, predictOnnx } from '../../src/export/onnx/runtime.js';
import { calibrationBatches, scorePredictions } from '../../src/export/onnx/score.js';
import { loadBundle } from '../../src/pipeline/bundle.js';
import { decodeModel } from '../../src/export/onnx/proto.js';
import { activationParams, parseRanges } from '../../src/export/onnx/quantize/params.js';
import { QAT_RANGES_ARTIFACT, runExportJob } from '../../src/pipeline/export-job.js';
import { runQuantizeJob } from '../../src/pipeline/optimize-job.js';
import { runTrainJob } from '../../src/pipeline/train-job.js';
import { fit } from '../../src/train/trainer.js';
import { tempStore } from '../pipeline/helpers.js';
import { hasOnnxChecker, onnxCheck, tempDir } from './helpers.js';

const { store } = await tempStore();
const files = tempDir();

/** The seed MLP on a few thousand MNIST samples, 2 epochs: enough for ~93% and a real int8 comparison. */
const MLP_SPEC = {
  name: 'mnist-int8',
  data: {
    source: 'mnist' as const,
    limit: 4000,
    testLimit: 3000,
    split: { validation: 0, seed: 1 },
    preprocess: { pixels: 'scale' as const },
  },
  model: {
    seed: 7,
    layers: [
      { type: 'flatten' as const },
      { type: 'dense' as const, units: 128, activation: 'relu' as const },
      { type: 'dense' as const, units: 64, activation: 'relu' as const },
      { type: 'dense' as const, units: 10, activation: 'softmax' as const },
    ],
  },
  train: {
    epochs: 2,
    batchSize: 64,
    seed: 1,
    optimizer: { type: 'adam' as const, learningRate: 0.002 },
    metrics: ['accuracy' as const],
  },
};

const trained = await runTrainJob(MLP_SPEC, { store });
const runId = trained.run.id;

describe('MNIST MLP: whole-model parity, int8 export through the job, accuracy within 0.5 points', () => {
  it('float ONNX matches tfjs within 1e-4 on real test images', async () => {
    const { model, preprocessor, spec } = await loadBundle(store, runId);
    const full = await loadDataset(spec.data, { baseDir: process.cwd() });
    const test = splitDataset(full, spec.data.split).test;
    const { x } = preprocessor.transform(test);
    const shape = preprocessor.inputShape;
    const session = await createSession(serializeOnnx(convertModel(model).graph));
    const onnx = await predictOnnx(session, x.subarray(0, 500 * 784), shape);
    const tfjs = (
      model.predict(tf.tensor(x.subarray(0, 500 * 784), [500, ...shape])) as tf.Tensor
    ).dataSync();
    let maxDiff = 0;
    for (let i = 0; i < tfjs.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs((tfjs[i] as number) - (onnx.data[i] as number)));
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it('dynamic int8: files recorded as artifacts, accuracy and sizes recorded as metrics', async () => {
    const r = await runExportJob(runId.slice(0, 8), { store, format: 'onnx', int8: 'dynamic' });
    expect(r.files.map((f) => f.artifact)).toEqual([
      'export/onnx/int8-dynamic/model.onnx',
      'export/onnx/int8-dynamic/model.int8.onnx',
      'export/onnx/int8-dynamic/modelauto.json',
    ]);
    const run = await store.getRun(runId);
    for (const f of r.files) expect(run.artifacts.find((a) => a.name === f.artifact)?.sha256).toBe(f.sha256);
    const e = r.evaluation!;
    expect(e.float.metric).toBe('accuracy');
    expect(e.float.n).toBe(3000);
    expect(e.float.value).toBeGreaterThan(0.88);
    // The float ONNX model scores what tfjs scored at training time.
    expect(e.float.value).toBeCloseTo(trained.test!.scalars['accuracy']!, 3);
    expect(e.float.value - e.int8.value).toBeLessThanOrEqual(0.005);
    expect(run.metrics['export_onnx_float_test_accuracy']?.value).toBe(e.float.value);
    expect(run.metrics['export_onnx_int8_dynamic_test_accuracy']?.value).toBe(e.int8.value);
    expect(r.sizes!.float / r.sizes!.int8!).toBeGreaterThanOrEqual(3.5);
    expect(r.manifest.quantization).toMatchObject({ mode: 'dynamic', activations: 'uint8 dynamic' });

    // Exporting the same thing again is idempotent (same bytes, same artifacts).
    const again = await runExportJob(runId, { store, format: 'onnx', int8: 'dynamic' });
    expect(again.files.map((f) => f.sha256)).toEqual(r.files.map((f) => f.sha256));
  });

  it('static int8 (QDQ, min-max and percentile calibration): accuracy within 0.5 points, 3.5x smaller, loadable', async () => {
    for (const calibrationMethod of ['minmax', 'percentile'] as const) {
      const r = await runExportJob(runId, {
        store,
        format: 'onnx',
        int8: 'static',
        calibration: 256,
        calibrationMethod,
      });
      expect(r.files[0]?.artifact).toBe(`export/onnx/int8-static-${calibrationMethod}-n256/model.onnx`);
      const e = r.evaluation!;
      expect(e.float.value - e.int8.value).toBeLessThanOrEqual(0.005);
      expect(r.sizes!.float / r.sizes!.int8!).toBeGreaterThanOrEqual(3.5);
      expect(r.manifest.quantization).toMatchObject({
        mode: 'static',
        calibration: { method: calibrationMethod, samples: 256 },
      });
      const loaded = await loadOnnxExport(r.dir, { precision: 'int8' });
      expect(loaded.session.inputNames).toEqual(['input']);
      expect(loaded.manifest.labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      await loaded.session.release();
      if (hasOnnxChecker())
        expect(onnxCheck(r.files.filter((f) => f.path.endsWith('.onnx')).map((f) => f.path))).toEqual([]);
    }
    const run = await store.getRun(runId);
    expect(run.metrics['export_onnx_int8_static_test_accuracy']).toBeDefined();
  });

  it('static int8 from ranges learned by quantization-aware training needs no calibration data', async () => {
    const { model } = await loadBundle(store, runId);
    const names = model.layers.map((l) => l.name);
    // Ranges as a QAT model reports them: per layer output (and the input).
    const ranges = {
      [names[0]!]: { min: 0, max: 1 },
      [names[1]!]: { min: 0, max: 12 },
      [names[2]!]: { min: 0, max: 12 },
      [names[3]!]: { min: -30, max: 30 },
    };
    const r = await runExportJob(runId, { store, format: 'onnx', int8: 'static', ranges });
    expect(r.manifest.quantization).toMatchObject({
      activations: 'uint8 learned',
      calibration: { method: 'learned', samples: 0 },
    });
    expect(r.evaluation!.int8.value).toBeGreaterThan(0.85);
    await expect(
      runExportJob(runId, { store, format: 'onnx', int8: 'static', ranges: { nope: { min: 0, max: 1 } } }),
    ).rejects.toThrow(/ranges\.nope: no layer or input of that name/);
  });

  it('static int8 of a QAT run uses the ranges it learned (qat-ranges.json); --no-learned-ranges calibrates', async () => {
    // Optimize candidates are compared on validation data: a run with a validation split.
    const source = await runTrainJob(
      {
        ...MLP_SPEC,
        name: 'mnist-qat-source',
        data: { ...MLP_SPEC.data, limit: 2000, testLimit: 1000, split: { validation: 0.1, seed: 1 } },
      },
      { store },
    );
    const qat = await runQuantizeJob(
      source.run.id,
      { dtype: 'int8', qatEpochs: 1, activations: true },
      { store, latencyRounds: 2 },
    );
    const child = qat.candidate.runId;
    expect((await store.getRun(child)).artifacts.map((a) => a.name)).toContain(QAT_RANGES_ARTIFACT);
    const learned = parseRanges(
      (await store.readArtifact(child, QAT_RANGES_ARTIFACT)).toString('utf8'),
      QAT_RANGES_ARTIFACT,
    );
    expect(Object.keys(learned)).toHaveLength(2);

    const r = await runExportJob(child, { store, format: 'onnx', int8: 'static' });
    expect(r.learnedRanges).toBe(`run ${child.slice(0, 8)}: ${QAT_RANGES_ARTIFACT}`);
    expect(r.files[0]?.artifact).toBe('export/onnx/int8-static-learned/model.onnx');
    // The input, which QAT does not fake-quantize, is calibrated on the run's training split.
    expect(r.manifest.quantization).toMatchObject({
      activations: 'uint8 learned',
      calibration: { method: 'minmax', samples: 512 },
    });
    // Every learned range is the quantization range of that layer's output in the int8 file.
    const scales = quantizeScales(readFileSync(join(r.dir, 'model.int8.onnx')));
    for (const range of Object.values(learned)) expect(scales).toContain(activationParams(range).scale);
    expect(r.evaluation!.float.value - r.evaluation!.int8.value).toBeLessThanOrEqual(0.005);

    const c = await runExportJob(child, {
      store,
      format: 'onnx',
      int8: 'static',
      learnedRanges: false,
      calibration: 256,
    });
    expect(c.learnedRanges).toBeUndefined();
    expect(c.files[0]?.artifact).toBe('export/onnx/int8-static-minmax-n256/model.onnx');
    expect(c.manifest.quantization).toMatchObject({ activations: 'uint8 calibrated' });
  });

  it('the tfjs format of the run is recorded under export/tfjs/', async () => {
    const r = await runExportJob(runId, { store, format: 'tfjs' });
    expect(r.files.map((f) => f.artifact)).toEqual([
      'export/tfjs/model.json',
      'export/tfjs/group1-shard1of1.bin',
      'export/tfjs/modelauto.json',
    ]);
    expect(r.manifest.labels).toHaveLength(10);
  });
});

describe('MNIST CNN: whole-model parity and static int8', () => {
  it('the small CNN (conv16, pool, conv32, pool, dense10) exports with parity and keeps its accuracy in int8', async () => {
    const full = await loadDataset(
      DataSpecSchema.parse({
        source: 'mnist',
        limit: 3000,
        testLimit: 1000,
        split: { validation: 0, test: 0 },
      }),
      {
        baseDir: process.cwd(),
      },
    );
    const splits = splitDataset(full, { validation: 0, test: 0, seed: 1 });
    const pre = fitPreprocessor(splits.train, { pixels: 'scale' });
    const model = buildModel(
      {
        seed: 3,
        layers: [
          { type: 'reshape', targetShape: [28, 28, 1] },
          { type: 'conv2d', filters: 16, kernelSize: 3, activation: 'relu' },
          { type: 'maxPooling2d', poolSize: 2 },
          { type: 'conv2d', filters: 32, kernelSize: 3, activation: 'relu' },
          { type: 'maxPooling2d', poolSize: 2 },
          { type: 'flatten' },
          { type: 'dense', units: 10, activation: 'softmax' },
        ],
      },
      { inputShape: pre.inputShape },
    );
    // tfjs's CPU convolution gradients take minutes even for a few hundred images: train the dense head on
    // the (seeded, random) convolution features, computed by onnxruntime. Parity and int8 do not care
    // how the weights were found.
    await trainHead(model, pre.transform(splits.train).x, pre.encodeTarget(splits.train).y, pre.inputShape);
    const test = splits.test;
    const build = await buildOnnx(model, {
      int8: 'static',
      calibration: calibrationBatches(splits.train, pre, false, 256),
    });
    const { x } = pre.transform(test);
    const float = await predictOnnx(await createSession(serializeOnnx(build.float)), x, pre.inputShape);
    const tfjs = (
      model.predict(tf.tensor(x.subarray(0, 200 * 784), [200, ...pre.inputShape])) as tf.Tensor
    ).dataSync();
    let maxDiff = 0;
    for (let i = 0; i < tfjs.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs((tfjs[i] as number) - (float.data[i] as number)));
    expect(maxDiff).toBeLessThan(1e-4);

    const a = scorePredictions(float, test.target).value;
    expect(a).toBeGreaterThan(0.85);
    const dynamic = await buildOnnx(model, { int8: 'dynamic' });
    const floatBytes = serializeOnnx(build.float);
    for (const [mode, graph] of [
      ['static', build.int8!],
      ['dynamic', dynamic.int8!],
    ] as const) {
      const bytes = serializeOnnx(graph);
      const int8 = await predictOnnx(await createSession(bytes), x, pre.inputShape);
      const b = scorePredictions(int8, test.target).value;
      expect(a - b, `${mode}: accuracy points lost`).toBeLessThanOrEqual(0.005);
      // The size target, with the same (compact) naming in both files.
      expect(floatBytes.byteLength / bytes.byteLength, `${mode}: times smaller`).toBeGreaterThanOrEqual(3.5);
      // Documented int8 bound on this model: class probabilities within 0.1 of the float model's.
      let probDiff = 0;
      for (let i = 0; i < int8.data.length; i++)
        probDiff = Math.max(probDiff, Math.abs((int8.data[i] as number) - (float.data[i] as number)));
      expect(probDiff, `${mode}: max |p_int8 - p_float|`).toBeLessThan(0.1);
      if (hasOnnxChecker()) {
        const file = join(files, `cnn-${mode}.onnx`);
        writeFileSync(file, bytes);
        expect(onnxCheck([file])).toEqual([]);
      }
    }
    const int8Nodes = build.int8!.nodes;
    expect(int8Nodes.filter((n) => n.op_type === 'QuantizeLinear').length).toBeGreaterThan(3);
    // The first conv reads only the 26x26 pixels the layers after it use, in every file.
    for (const g of [build.float, build.int8!, dynamic.int8!]) {
      expect(g.nodes.filter((n) => n.op_type === 'Slice')).toHaveLength(1);
    }
    // Per-channel weight scales: DequantizeLinear with an axis on int8 initializers.
    expect(
      int8Nodes.filter(
        (n) => n.op_type === 'DequantizeLinear' && n.attribute.some((at) => at.name === 'axis'),
      ),
    ).not.toHaveLength(0);
    // QDQ form: no integer ops unless asked for (integerOps).
    expect(int8Nodes.map((n) => n.op_type)).not.toContain('QLinearConv');
    // The one-channel first conv computes in float (onnxruntime's int8 kernel is slower for it); dynamic
    // int8 computes every conv in float (ConvInteger is slower still).
    expect(build.quantization?.floatLayers).toEqual([model.layers[1]!.name]);
    expect(dynamic.quantization?.floatLayers).toEqual([model.layers[1]!.name, model.layers[3]!.name]);
  });
});

/** The scale of every QuantizeLinear in an ONNX file. */
function quantizeScales(bytes: Uint8Array): number[] {
  const m = decodeModel(bytes);
  const inits = new Map(m.graph.initializer.map((t) => [t.name, t]));
  return m.graph.node
    .filter((n) => n.op_type === 'QuantizeLinear')
    .map((n) => {
      const raw = Uint8Array.from(inits.get(n.input[1]!)!.raw_data!);
      return new Float32Array(raw.buffer)[0]!;
    });
}

/** Fits the last Dense layer on features from the layers before it (run by onnxruntime). */
async function trainHead(
  model: tf.LayersModel,
  x: Float32Array,
  y: Float32Array,
  inputShape: number[],
): Promise<void> {
  const head = model.layers[model.layers.length - 1] as tf.layers.Layer;
  const trunk = tf.model({
    inputs: model.inputs,
    outputs: model.layers[model.layers.length - 2]!.output as tf.SymbolicTensor,
  });
  const features = await predictOnnx(
    await createSession(serializeOnnx(convertModel(trunk).graph)),
    x,
    inputShape,
  );
  const n = y.length / 10;
  const probe = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [features.width], units: 10, activation: 'softmax' })],
  });
  await fit(
    probe,
    { n, x: features.data, xShape: [features.width], y, yShape: [10] },
    {
      epochs: 8,
      batchSize: 64,
      seed: 1,
      optimizer: { type: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      loss: 'categoricalCrossentropy',
    },
  );
  head.setWeights(probe.layers[0]!.getWeights());
}
