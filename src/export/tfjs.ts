import * as tf from '@tensorflow/tfjs';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../core/atomic.js';
import { ModelautoError } from '../core/errors.js';
import { Preprocessor } from '../data/preprocess.js';
import type { PreprocessorState } from '../data/preprocess-state.js';
import { loadModelFrom } from '../model/io.js';
import { VERSION } from '../version.js';
import { verifyExport, writeManifest, type ExportManifest, type TensorSignature } from './manifest.js';

/**
 * The tfjs format: tfjs's own model.json and weight shards (`group1-shard1ofN.bin`, 4 MB each as the
 * tfjs converter writes them), loadable by stock `tf.loadLayersModel` from a URL or from files in
 * Node and in the browser, plus modelauto.json with the preprocessing, label names and file hashes.
 */
export const TFJS_MODEL_JSON = 'model.json';
export const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;

export interface ExportCommon {
  /** The fitted preprocessing the model was trained with (saved in the manifest, and for ONNX in the graph on request). */
  preprocessor?: Preprocessor;
  /** Run the model came from, recorded in the manifest. */
  sourceRun?: string;
}

export interface TfjsExportOptions extends ExportCommon {
  /** Bytes per weight shard (default 4 MB). */
  shardBytes?: number;
}

export interface ExportResult {
  dir: string;
  manifest: ExportManifest;
  /** Every written file, relative to `dir` ('/'-separated), the manifest last. */
  files: string[];
}

/** tfjs signature of a model's inputs and outputs. */
export function tfjsSignature(model: tf.LayersModel): {
  inputs: TensorSignature[];
  outputs: TensorSignature[];
} {
  const sig = (t: tf.SymbolicTensor, name: string): TensorSignature => ({
    name,
    dtype: t.dtype === 'int32' ? 'int32' : 'float32',
    shape: t.shape.map((d) => d),
  });
  // Layer names: stable, unlike a Sequential's outputNames, which change once the model has been called.
  return {
    inputs: model.inputs.map((t) => sig(t, t.sourceLayer.name)),
    outputs: model.outputs.map((t) => sig(t, t.sourceLayer.name)),
  };
}

export function labelsOf(state: PreprocessorState | undefined): string[] | null {
  return state?.target.kind === 'classification' ? [...state.target.classes] : null;
}

export async function exportTfjs(
  model: tf.LayersModel,
  outDir: string,
  options: TfjsExportOptions = {},
): Promise<ExportResult> {
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const shardBytes = options.shardBytes ?? DEFAULT_SHARD_BYTES;
  if (!Number.isInteger(shardBytes) || shardBytes < 4) {
    throw new ModelautoError('INVALID_ARGUMENT', `shardBytes: expected an integer >= 4, got ${shardBytes}`);
  }
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    }),
  );
  if (!artifacts?.modelTopology)
    throw new ModelautoError('INTERNAL', 'tfjs gave no model topology to export');
  const weights = new Uint8Array(
    artifacts.weightData === undefined
      ? new ArrayBuffer(0)
      : artifacts.weightData instanceof ArrayBuffer
        ? artifacts.weightData
        : tf.io.concatenateArrayBuffers(artifacts.weightData),
  );
  const count = Math.max(1, Math.ceil(weights.byteLength / shardBytes));
  const shards = Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
  shards.forEach((name, i) =>
    writeFileAtomic(join(dir, name), weights.subarray(i * shardBytes, (i + 1) * shardBytes)),
  );
  // No trainingConfig: an exported model is for inference, and a custom optimizer in it (AdamW) would
  // make stock loaders fail to compile it.
  writeJsonAtomic(join(dir, TFJS_MODEL_JSON), {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: `modelauto ${VERSION}`,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: shards, weights: artifacts.weightSpecs ?? [] }],
  });
  const files = [TFJS_MODEL_JSON, ...shards];
  const state = options.preprocessor?.toJSON();
  const manifest = writeManifest(
    dir,
    {
      format: 'tfjs',
      createdBy: `modelauto ${VERSION}`,
      models: { float: TFJS_MODEL_JSON },
      ...tfjsSignature(model),
      labels: labelsOf(state),
      target: state?.target ?? null,
      preprocessor: state ?? null,
      preprocessingInGraph: false,
      quantization: null,
      sourceRun: options.sourceRun ?? null,
    },
    files,
  );
  return { dir, manifest, files: [...files, 'modelauto.json'] };
}

export interface LoadedExport {
  model: tf.LayersModel;
  manifest: ExportManifest;
  preprocessor?: Preprocessor;
}

/** Loads a tfjs-format export after verifying every file against the manifest's hashes. */
export async function loadTfjsExport(dir: string): Promise<LoadedExport> {
  const { manifest, files } = verifyExport(resolve(dir));
  if (manifest.format !== 'tfjs') {
    throw new ModelautoError('INVALID_ARGUMENT', `${dir}: a ${manifest.format} export, expected tfjs`);
  }
  const jsonPath = manifest.models.float;
  const json = files.get(jsonPath);
  if (!json)
    throw new ModelautoError(
      'INVALID_DATA',
      `${dir}: the manifest does not list ${jsonPath} among its files`,
    );
  const model = await loadModelFrom(join(dir, jsonPath), json, async (p) => {
    const data = files.get(p);
    if (!data) {
      throw new ModelautoError(
        'INVALID_DATA',
        `weight file ${p} is not listed (with a hash) in the manifest`,
        {
          location: { file: join(dir, jsonPath) },
        },
      );
    }
    return data;
  });
  return {
    model,
    manifest,
    ...(manifest.preprocessor ? { preprocessor: Preprocessor.fromJSON(manifest.preprocessor) } : {}),
  };
}
