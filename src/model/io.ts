import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../core/atomic.js';
import { ModelautoError } from '../core/errors.js';

/**
 * Saves and loads a layers model as a folder in tfjs's own format (model.json + weights.bin), so that
 * stock `tf.loadLayersModel` can read what modelauto writes. No tfjs-node here, hence our own handler.
 */
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      if (!(artifacts.weightData instanceof ArrayBuffer) && artifacts.weightData !== undefined) {
        // tfjs 4 may hand over an array of buffers for very large models; join them into one shard.
        artifacts.weightData = tf.io.concatenateArrayBuffers(artifacts.weightData);
      }
      const weights = new Uint8Array((artifacts.weightData as ArrayBuffer | undefined) ?? new ArrayBuffer(0));
      // Weights first: a model.json is only written once the file it points to is complete.
      writeFileAtomic(join(dir, WEIGHTS_BIN), weights);
      writeJsonAtomic(join(dir, MODEL_JSON), {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: 'modelauto',
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
      });
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
}

export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const jsonPath = join(dir, MODEL_JSON);
  if (!existsSync(jsonPath)) throw new ModelautoError('NOT_FOUND', `no ${MODEL_JSON} in ${dir}`);
  return loadModelFrom(jsonPath, readFileSync(jsonPath), async (p) => {
    const file = join(dir, p);
    if (!existsSync(file)) throw new ModelautoError('NOT_FOUND', `${jsonPath}: weight file ${p} is missing`);
    return readFileSync(file);
  });
}

/**
 * Loads a model from a model.json's bytes and a reader for the weight files it names (a folder, the
 * tracking store's artifacts, ...). `source` names the model.json in error messages.
 */
export async function loadModelFrom(
  source: string,
  modelJson: Uint8Array,
  readWeights: (path: string) => Promise<Uint8Array>,
): Promise<tf.LayersModel> {
  let json: {
    modelTopology?: object;
    weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  try {
    json = JSON.parse(Buffer.from(modelJson).toString('utf8'));
  } catch (e) {
    throw new ModelautoError('INVALID_DATA', `${source}: not valid JSON (${(e as Error).message})`, {
      cause: e,
    });
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new ModelautoError('INVALID_DATA', `${source}: expected modelTopology and weightsManifest`);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(await readWeights(p));
  }
  const total = buffers.reduce((s, b) => s + b.byteLength, 0);
  const expected = specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * bytesPerValue(w), 0);
  if (total !== expected) {
    throw new ModelautoError(
      'INVALID_DATA',
      `${source}: weight files hold ${total} bytes, the manifest needs ${expected}`,
    );
  }
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    weightData.set(b, offset);
    offset += b.byteLength;
  }
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: specs,
      weightData: weightData.buffer,
    }),
  );
}

/** Stored bytes per value, honouring tfjs's weight quantization (uint8: 1, uint16/float16: 2). */
function bytesPerValue(w: tf.io.WeightsManifestEntry): number {
  const q = w.quantization?.dtype;
  if (q === 'uint8') return 1;
  if (q === 'uint16' || q === 'float16') return 2;
  return w.dtype === 'bool' ? 1 : 4;
}
