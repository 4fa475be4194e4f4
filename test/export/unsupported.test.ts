import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import { convertModel } from '../../src/export/onnx/convert.js';
import { exportOnnx } from '../../src/export/onnx/export.js';
import { exportTfjs, loadTfjsExport } from '../../src/export/tfjs.js';
import { saveModel } from '../../src/model/io.js';
import { runExportJob } from '../../src/pipeline/export-job.js';
import { tempDir } from './helpers.js';

const root = tempDir();

describe('layers the ONNX exporter cannot convert', () => {
  it('fail with the layer name and class; the tfjs format still exports the model', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 3 }),
        tf.layers.upSampling2d({ size: [2, 2], name: 'grow' }),
        tf.layers.flatten(),
      ],
    });
    const err = await exportOnnx(model, join(root, 'onnx')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelautoError);
    expect((err as ModelautoError).code).toBe('INVALID_ARGUMENT');
    expect((err as ModelautoError).message).toMatch(
      /layer "grow" \(UpSampling2D\) cannot be exported: no ONNX converter for UpSampling2D \(supported: Dense, Conv2D/,
    );

    await exportTfjs(model, join(root, 'tfjs'));
    const loaded = await loadTfjsExport(join(root, 'tfjs'));
    expect(loaded.model.layers.map((l) => l.getClassName())).toEqual(['Conv2D', 'UpSampling2D', 'Flatten']);
  });

  it('through the job: --format onnx fails on a model folder, --format tfjs succeeds', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.simpleRNN({ inputShape: [4, 3], units: 2, name: 'rnn' }),
        tf.layers.dense({ units: 2 }),
      ],
    });
    const folder = join(root, 'saved');
    await saveModel(model, folder);
    await expect(runExportJob(folder, { format: 'onnx', outDir: join(root, 'job-onnx') })).rejects.toThrow(
      /layer "rnn" \(SimpleRNN\)/,
    );
    const ok = await runExportJob(folder, { format: 'tfjs', outDir: join(root, 'job-tfjs') });
    expect(ok.runId).toBeNull();
    expect(ok.files.map((f) => f.path.split('/').pop())).toEqual([
      'model.json',
      'group1-shard1of1.bin',
      'modelauto.json',
    ]);
  });

  it('refuses unsupported options of supported layers and nested models, naming the layer', () => {
    const channelsFirst = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [1, 6, 6],
          filters: 2,
          kernelSize: 3,
          dataFormat: 'channelsFirst',
          name: 'cf',
        }),
      ],
    });
    expect(() => convertModel(channelsFirst)).toThrow(
      /layer "cf" \(Conv2D\) cannot be exported: dataFormat channelsFirst \(only channelsLast\)/,
    );
    const bnRows = tf.sequential({
      layers: [tf.layers.batchNormalization({ inputShape: [3, 4], axis: 1, name: 'bn_rows' })],
    });
    expect(() => convertModel(bnRows)).toThrow(
      /layer "bn_rows" \(BatchNormalization\) cannot be exported: normalization over axis 1 of a rank-3 value/,
    );

    const inner = tf.sequential({ name: 'inner', layers: [tf.layers.dense({ inputShape: [3], units: 2 })] });
    const input = tf.input({ shape: [3] });
    const outer = tf.model({ inputs: input, outputs: inner.apply(input) as tf.SymbolicTensor });
    expect(() => convertModel(outer)).toThrow(
      /layer "inner" \(Sequential\) cannot be exported: nested models are not supported/,
    );
  });
});
