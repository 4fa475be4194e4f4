import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { registerExport } from '../../src/cli/commands/export.js';
import { ModelautoError } from '../../src/core/errors.js';
import { loadDataset } from '../../src/data/load.js';
import { splitDataset } from '../../src/data/split.js';
import { loadOnnxExport } from '../../src/export/onnx/export.js';
import { rawFeeds } from '../../src/export/onnx/preprocess.js';
import { runSession } from '../../src/export/onnx/runtime.js';
import { loadBundle } from '../../src/pipeline/bundle.js';
import { QAT_RANGES_ARTIFACT, runExportJob, variantName } from '../../src/pipeline/export-job.js';
import { decodeModel } from '../../src/export/onnx/proto.js';
import { runTrainJob } from '../../src/pipeline/train-job.js';
import { IRIS_SPEC, tempStore } from '../pipeline/helpers.js';
import { hasOnnxChecker, onnxCheck, tempDir } from './helpers.js';

const { store, dir: storeDir } = await tempStore();
const root = tempDir();

const churn = await runTrainJob(resolve('examples/churn.yaml'), {
  store,
  overrides: { epochs: 3 },
});
const iris = await runTrainJob({ ...IRIS_SPEC, train: { ...IRIS_SPEC.train, epochs: 10 } }, { store });

describe('preprocessing as graph nodes', () => {
  it('a CSV model with categorical columns and missing values: the ONNX graph on raw columns = tfjs on the JS transform', async () => {
    const r = await runExportJob(churn.run.id, {
      store,
      format: 'onnx',
      includePreprocessing: true,
      int8: 'dynamic',
    });
    expect(r.files[0]?.artifact).toBe('export/onnx/int8-dynamic-preprocessing/model.onnx');
    const { model, preprocessor, spec } = await loadBundle(store, churn.run.id);
    const full = await loadDataset(spec.data, { baseDir: resolve('examples') });
    const test = splitDataset(full, spec.data.split).test;
    const missingRegions = (test.features.kind === 'table' ? test.features.columns : []).find(
      (c) => c.name === 'region',
    );
    expect(missingRegions?.kind === 'categorical' && missingRegions.values.includes(null)).toBe(true);

    const loaded = await loadOnnxExport(r.dir);
    expect(loaded.session.inputNames).toEqual(
      ['plan', 'region', 'tenure_months', 'monthly_spend', 'support_tickets', 'autopay'].filter((c) =>
        loaded.session.inputNames.includes(c),
      ),
    );
    expect(loaded.manifest.inputs.map((i) => i.dtype)).toContain('string');
    expect(loaded.manifest.preprocessingInGraph).toBe(true);
    const out = await runSession(loaded.session, rawFeeds(preprocessor.toJSON(), test));
    const expected = (
      model.predict(
        tf.tensor(preprocessor.transform(test).x, [test.n, ...preprocessor.inputShape]),
      ) as tf.Tensor
    ).dataSync();
    const got = out['output']!.data;
    expect(got.length).toBe(expected.length);
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
    expect(maxDiff).toBeLessThan(1e-4);
    // The int8 comparison ran on raw columns through the same graph.
    expect(r.evaluation!.float.value).toBeCloseTo(churn.test!.scalars['accuracy']!, 5);
    if (hasOnnxChecker())
      expect(onnxCheck([join(r.dir, 'model.onnx'), join(r.dir, 'model.int8.onnx')])).toEqual([]);
    await loaded.session.release();
  });

  it('tensor data: raw pixels in, scaled inside the graph', async () => {
    const mnist = await runTrainJob(
      {
        name: 'mnist-tiny',
        data: { source: 'mnist', limit: 300, testLimit: 100, split: { validation: 0, seed: 1 } },
        model: {
          seed: 1,
          layers: [{ type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }],
        },
        train: { epochs: 1, batchSize: 50 },
      },
      { store },
    );
    const r = await runExportJob(mnist.run.id, {
      store,
      format: 'onnx',
      includePreprocessing: true,
      int8: 'static',
      calibration: 64,
    });
    const { model, preprocessor, spec } = await loadBundle(store, mnist.run.id);
    const test = splitDataset(await loadDataset(spec.data, { baseDir: process.cwd() }), spec.data.split).test;
    const loaded = await loadOnnxExport(r.dir);
    const feeds = rawFeeds(preprocessor.toJSON(), test);
    expect(Math.max(...(feeds['input']!.data as Float32Array))).toBe(255);
    const got = (await runSession(loaded.session, feeds))['output']!.data;
    const expected = (
      model.predict(
        tf.tensor(preprocessor.transform(test).x, [test.n, ...preprocessor.inputShape]),
      ) as tf.Tensor
    ).dataSync();
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
    expect(maxDiff).toBeLessThan(1e-4);
    expect(r.evaluation!.int8.n).toBe(100);
    await loaded.session.release();
  });
});

describe('runExportJob options', () => {
  it('refuses options that do not fit the format, before doing anything', async () => {
    const bad = [
      [{ format: 'tfjs', int8: 'dynamic' }, /--format tfjs: --int8 applies to ONNX only/],
      [{ format: 'onnx', int8: 'dynamic', calibration: 10 }, /--calibration: only static int8/],
      [{ format: 'onnx', int8: 'static', calibration: 0 }, /--calibration: expected a positive integer/],
      [{ format: 'zip' }, /--format: expected tfjs or onnx/],
      [
        { format: 'onnx', int8: 'dynamic', calibrationMethod: 'percentile' },
        /--calibration-method: only static/,
      ],
      [
        { format: 'onnx', int8: 'static', percentile: 99 },
        /--percentile: goes with --calibration-method percentile/,
      ],
      [{ format: 'onnx', ranges: {} }, /--ranges: learned ranges are for static int8/],
      [
        { format: 'onnx', int8: 'dynamic', learnedRanges: false },
        /--no-learned-ranges: learned ranges are for static int8/,
      ],
      [{ format: 'tfjs', compact: false }, /--full-names: applies to ONNX only/],
    ] as const;
    for (const [options, message] of bad) {
      const err = await runExportJob(iris.run.id, {
        store,
        ...(options as unknown as { format: 'onnx' }),
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelautoError);
      expect((err as ModelautoError).code).toBe('USAGE');
      expect((err as ModelautoError).message).toMatch(message);
    }
    await expect(runExportJob('ffffffff', { store, format: 'onnx' })).rejects.toThrow();
  });

  it('names variants so that different exports of one run never collide', () => {
    expect(variantName({ format: 'tfjs' })).toBe('');
    expect(variantName({ format: 'onnx' })).toBe('float');
    expect(
      variantName({
        format: 'onnx',
        int8: 'static',
        calibration: 100,
        calibrationMethod: 'percentile',
        reduceRange: true,
        includePreprocessing: true,
      }),
    ).toBe('int8-static-percentile-n100-7bit-preprocessing');
    expect(variantName({ format: 'onnx', compact: false })).toBe('float-full-names');
  });

  it('a malformed qat-ranges.json on a run is an error that names it, not a silent calibration', async () => {
    const run = await runTrainJob({ ...IRIS_SPEC, train: { ...IRIS_SPEC.train, epochs: 2 } }, { store });
    await store.logArtifact(run.run.id, {
      name: QAT_RANGES_ARTIFACT,
      data: JSON.stringify({ dense_x: { min: 1, max: 0 } }),
    });
    await expect(
      runExportJob(run.run.id, { store, format: 'onnx', int8: 'static', calibration: 16 }),
    ).rejects.toThrow(/run [0-9a-f]{8}: qat-ranges\.json: ranges\.dense_x: expected min <= max/);
    // Opting out calibrates as for any run.
    const r = await runExportJob(run.run.id, {
      store,
      format: 'onnx',
      int8: 'static',
      calibration: 16,
      learnedRanges: false,
    });
    expect(r.manifest.quantization).toMatchObject({ activations: 'uint8 calibrated' });
  });

  it('exports into the run folder by default; a model folder without a run is exported but not recorded', async () => {
    const r = await runExportJob(iris.run.id, { store, format: 'onnx' });
    expect(r.dir).toBe(join(await store.runDir(iris.run.id), 'export', 'onnx', 'float'));
    expect(r.evaluation).toBeUndefined();
    const tfjsDir = join(root, 'iris-tfjs');
    await runExportJob(iris.run.id, { store, format: 'tfjs', outDir: tfjsDir });
    // The tfjs export (with its manifest) is itself a model folder that can be exported to ONNX.
    const fromFolder = await runExportJob(tfjsDir, {
      format: 'onnx',
      int8: 'dynamic',
      includePreprocessing: true,
      outDir: join(root, 'iris-onnx'),
    });
    expect(fromFolder.runId).toBeNull();
    expect(fromFolder.manifest.labels).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(fromFolder.sizes?.int8).toBeGreaterThan(0);
    await expect(
      runExportJob(tfjsDir, { format: 'onnx', int8: 'static', outDir: join(root, 'x') }),
    ).rejects.toThrow(/calibration needs a run/);
  });
});

describe('modelauto export (CLI command)', () => {
  it('exports a run, prints a summary or JSON, and records the artifacts', async () => {
    const program = new Command('modelauto').option('--store <uri>').option('--json').exitOverride();
    registerExport(program);
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await program.parseAsync(
        [
          '--store',
          storeDir,
          'export',
          iris.run.id.slice(0, 6),
          '--format',
          'onnx',
          '--int8',
          'static',
          '--calibration',
          '32',
        ],
        { from: 'user' },
      );
      await program.parseAsync(['--store', storeDir, '--json', 'export', iris.run.id, '--format', 'tfjs'], {
        from: 'user',
      });
      await program.parseAsync(
        ['--store', storeDir, 'export', iris.run.id, '--format', 'onnx', '--full-names'],
        { from: 'user' },
      );
    } finally {
      spy.mockRestore();
      err.mockRestore();
    }
    expect(out[0]).toMatch(/exported onnx to .* \(recorded on run [0-9a-f]{8}\)/);
    expect(out[0]).toMatch(/export\/onnx\/int8-static-minmax-n32\/model\.int8\.onnx/);
    expect(out[0]).toMatch(/test accuracy \(n=30\): float \d+\.\d\d%, int8 \d+\.\d\d%/);
    const json = JSON.parse(out[1]!);
    expect(json.format).toBe('tfjs');
    expect(json.files.map((f: { artifact: string }) => f.artifact)).toContain('export/tfjs/model.json');
    const run = await store.getRun(iris.run.id);
    expect(run.artifacts.map((a) => a.name)).toEqual(
      expect.arrayContaining([
        'export/onnx/int8-static-minmax-n32/modelauto.json',
        'export/tfjs/modelauto.json',
      ]),
    );
    expect(existsSync(json.dir)).toBe(true);
    expect(out[2]).toMatch(/export\/onnx\/float-full-names\/model\.onnx/);
    const described = decodeModel(
      readFileSync(join(await store.runDir(iris.run.id), 'export/onnx/float-full-names/model.onnx')),
    );
    expect(described.metadata_props).toEqual([
      { key: 'labels', value: JSON.stringify(['setosa', 'versicolor', 'virginica']) },
    ]);

    await expect(
      program.parseAsync(['--store', storeDir, 'export', iris.run.id, '--format', 'pb'], { from: 'user' }),
    ).rejects.toThrow(/--format: expected one of tfjs, onnx/);
    const rangesFile = join(root, 'ranges.json');
    writeFileSync(rangesFile, JSON.stringify({ dense_x: { min: 1, max: 0 } }));
    await expect(
      program.parseAsync(
        [
          '--store',
          storeDir,
          'export',
          iris.run.id,
          '--format',
          'onnx',
          '--int8',
          'static',
          '--ranges',
          rangesFile,
        ],
        { from: 'user' },
      ),
    ).rejects.toThrow(/ranges\.json: ranges\.dense_x: expected min <= max/);
  });
});
