import * as tf from '@tensorflow/tfjs';
import { readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import { fromArrays } from '../../src/data/memory.js';
import { fitPreprocessor } from '../../src/data/preprocess.js';
import { EXPORT_MANIFEST, readManifest, verifyExport } from '../../src/export/manifest.js';
import { exportTfjs, loadTfjsExport } from '../../src/export/tfjs.js';
import { randomValues, randomizeWeights, tempDir } from './helpers.js';

const root = tempDir();

function cnn(): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  randomizeWeights(model, 5);
  return model;
}

const preprocessor = fitPreprocessor(
  fromArrays({
    x: [
      [0, 1],
      [2, 3],
      [4, 5],
    ],
    y: ['cat', 'dog', 'cat'],
  }),
  { numeric: 'standardize' },
);

/** A static file server over a folder: what a browser or a CDN would do for tf.loadLayersModel(url). */
let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    try {
      const data = readFileSync(join(root, decodeURIComponent((req.url ?? '/').slice(1))));
      res.writeHead(200, {
        'content-type': req.url?.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      });
      res.end(data);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('tfjs format export', () => {
  it('writes model.json + weight shards that stock tf.loadLayersModel loads from a URL, predicting the same', async () => {
    const model = cnn();
    const dir = join(root, 'cnn');
    // Small shards, to exercise a multi-shard weights manifest as the tfjs converter writes it.
    const result = await exportTfjs(model, dir, { shardBytes: 256, preprocessor, sourceRun: 'abc' });
    const shards = readdirSync(dir)
      .filter((f) => f.endsWith('.bin'))
      .sort();
    expect(shards.length).toBeGreaterThan(2);
    expect(shards[0]).toMatch(/^group1-shard1of\d+\.bin$/);
    expect(result.files).toEqual([
      'model.json',
      ...result.manifest.files.slice(1).map((f) => f.path),
      EXPORT_MANIFEST,
    ]);

    const stock = await tf.loadLayersModel(`${base}/cnn/model.json`);
    const x = tf.tensor(randomValues(2 * 64, 9, 0, 1), [2, 8, 8, 1]);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (stock.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));

    const manifest = readManifest(dir);
    expect(manifest).toMatchObject({
      format: 'tfjs',
      formatVersion: 1,
      models: { float: 'model.json' },
      labels: ['cat', 'dog'],
      sourceRun: 'abc',
      inputs: [{ dtype: 'float32', shape: [null, 8, 8, 1] }],
      outputs: [{ dtype: 'float32', shape: [null, 3] }],
    });
    expect(manifest.preprocessor).toEqual(preprocessor.toJSON());
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.trainingConfig).toBeUndefined();
  });

  it('loads its own export after verifying the hashes, with the preprocessing', async () => {
    const model = cnn();
    const dir = join(root, 'verified');
    await exportTfjs(model, dir, { preprocessor });
    const loaded = await loadTfjsExport(dir);
    expect(loaded.preprocessor?.toJSON()).toEqual(preprocessor.toJSON());
    const x = tf.tensor(randomValues(64, 3, 0, 1), [1, 8, 8, 1]);
    expect(Array.from((loaded.model.predict(x) as tf.Tensor).dataSync())).toEqual(
      Array.from((model.predict(x) as tf.Tensor).dataSync()),
    );
    // Same model, same options: byte-identical files (no timestamps).
    const again = await exportTfjs(model, join(root, 'verified-again'), { preprocessor });
    expect(again.manifest).toEqual(readManifest(dir));
  });

  it('refuses a file with one corrupted byte, a truncated file and a missing file, naming the file', async () => {
    const dir = join(root, 'corrupt');
    await exportTfjs(cnn(), dir, { shardBytes: 256 });
    const shard = join(dir, 'group1-shard2of3.bin');
    const original = readFileSync(shard);

    const flipped = Buffer.from(original);
    flipped[10] = (flipped[10] as number) ^ 0x01;
    writeFileSync(shard, flipped);
    await expect(loadTfjsExport(dir)).rejects.toThrow(
      /group1-shard2of3\.bin: SHA-256 [0-9a-f]{64} does not match .* corrupted/,
    );

    writeFileSync(shard, original);
    truncateSync(shard, original.length - 4);
    const err = await loadTfjsExport(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelautoError);
    expect((err as ModelautoError).code).toBe('INVALID_DATA');
    expect((err as ModelautoError).message).toMatch(
      /group1-shard2of3\.bin: \d+ bytes, modelauto\.json records \d+: the file is truncated/,
    );

    writeFileSync(shard, original);
    const json = readFileSync(join(dir, 'model.json'));
    const edited = Buffer.from(json.toString('utf8').replace('"layers-model"', '"layers-modeL"'));
    writeFileSync(join(dir, 'model.json'), edited);
    expect(() => verifyExport(dir)).toThrow(/model\.json: SHA-256/);

    writeFileSync(join(dir, 'model.json'), json);
    expect(() => verifyExport(dir)).not.toThrow();
    rmSync(shard);
    expect(() => verifyExport(dir)).toThrow(/group1-shard2of3\.bin: listed in modelauto\.json but missing/);
  });

  it('refuses a manifest that is not valid', async () => {
    const dir = join(root, 'bad-manifest');
    await exportTfjs(cnn(), dir);
    const m = JSON.parse(readFileSync(join(dir, EXPORT_MANIFEST), 'utf8'));
    m.files[0].sha256 = 'nope';
    writeFileSync(join(dir, EXPORT_MANIFEST), JSON.stringify(m));
    expect(() => verifyExport(dir)).toThrow(/modelauto\.json: manifest\.files\[0\]\.sha256/);
    expect(() => verifyExport(join(root, 'nowhere'))).toThrow(/no export manifest/);
  });
});
