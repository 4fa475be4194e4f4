import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeFileAtomic } from '../core/atomic.js';
import { ModelautoError } from '../core/errors.js';
import { loadModelFrom, MODEL_JSON, WEIGHTS_BIN } from '../model/io.js';

/**
 * A model in tfjs's file format held in memory: model.json and one weights.bin, exactly as
 * `saveModel` writes them (so sizes measured here are the sizes of the files a run stores).
 */
export interface ModelFiles {
  modelJson: Uint8Array;
  weights: Uint8Array;
  weightSpecs: tf.io.WeightsManifestEntry[];
}

export interface CapturedModel {
  topology: tf.io.ModelArtifacts['modelTopology'];
  trainingConfig?: tf.io.TrainingConfig;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: Uint8Array;
}

/** What tfjs would save for the model: topology, weight specs (in save order) and the float weights. */
export async function captureModel(model: tf.LayersModel): Promise<CapturedModel> {
  let captured: CapturedModel | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data =
        a.weightData === undefined
          ? new ArrayBuffer(0)
          : a.weightData instanceof ArrayBuffer
            ? a.weightData
            : tf.io.concatenateArrayBuffers(a.weightData);
      captured = {
        topology: a.modelTopology,
        ...(a.trainingConfig ? { trainingConfig: a.trainingConfig } : {}),
        weightSpecs: a.weightSpecs ?? [],
        weightData: new Uint8Array(data),
      };
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    }),
  );
  if (!captured?.topology) throw new ModelautoError('INTERNAL', 'tfjs gave no model topology to save');
  return captured;
}

/** model.json + weights.bin bytes in the layout of `saveModel`, with the given weight specs and data. */
export function encodeModelFiles(
  captured: CapturedModel,
  weightSpecs: tf.io.WeightsManifestEntry[] = captured.weightSpecs,
  weights: Uint8Array = captured.weightData,
): ModelFiles {
  const json = {
    modelTopology: captured.topology,
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: 'modelauto',
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: weightSpecs }],
    ...(captured.trainingConfig ? { trainingConfig: captured.trainingConfig } : {}),
  };
  return {
    modelJson: new TextEncoder().encode(JSON.stringify(json, null, 2) + '\n'),
    weights,
    weightSpecs,
  };
}

export async function modelFiles(model: tf.LayersModel): Promise<ModelFiles> {
  return encodeModelFiles(await captureModel(model));
}

/** Writes the files into `dir` (weights first, so a model.json never points at a partial file). */
export function writeModelFiles(dir: string, files: ModelFiles): void {
  writeFileAtomic(join(dir, WEIGHTS_BIN), files.weights);
  writeFileAtomic(join(dir, MODEL_JSON), files.modelJson);
}

/** Loads model files through stock tfjs (quantized weights are dequantized by tfjs itself). */
export function loadModelFiles(files: ModelFiles, source = 'model files'): Promise<tf.LayersModel> {
  return loadModelFrom(source, files.modelJson, async () => files.weights);
}

export interface ModelSize {
  /** model.json + weights.bin, bytes. */
  rawBytes: number;
  /** Each file gzipped (zlib, level 9) as a server would send it, summed. */
  gzipBytes: number;
  weightsBytes: number;
  weightsGzipBytes: number;
}

export function gzipSize(data: Uint8Array): number {
  return gzipSync(data, { level: 9 }).byteLength;
}

export function sizeOfFiles(files: Pick<ModelFiles, 'modelJson' | 'weights'>): ModelSize {
  const weightsGzipBytes = gzipSize(files.weights);
  return {
    rawBytes: files.modelJson.byteLength + files.weights.byteLength,
    gzipBytes: gzipSize(files.modelJson) + weightsGzipBytes,
    weightsBytes: files.weights.byteLength,
    weightsGzipBytes,
  };
}

export async function modelSize(model: tf.LayersModel): Promise<ModelSize> {
  return sizeOfFiles(await modelFiles(model));
}
