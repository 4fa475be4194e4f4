import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../core/atomic.js';
import { ModelautoError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { formatZodError } from '../core/zod-error.js';
import { PreprocessorStateSchema, TargetStateSchema } from '../data/preprocess-state.js';

/**
 * `modelauto.json`, written next to every export: what the files are, what goes in and comes out, the
 * preprocessing and label names, and the SHA-256 of every file, so a corrupted or truncated copy is
 * refused at load time instead of predicting garbage.
 */
export const EXPORT_MANIFEST = 'modelauto.json';
export const EXPORT_FORMAT_VERSION = 1;
export const EXPORT_FORMATS = ['tfjs', 'onnx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const TensorSignatureSchema = z.strictObject({
  name: z.string().min(1),
  dtype: z.enum(['float32', 'int32', 'string']),
  /** null = any size (the batch). */
  shape: z.array(z.int().positive().nullable()),
});
export type TensorSignature = z.infer<typeof TensorSignatureSchema>;

export const FileEntrySchema = z.strictObject({
  /** Relative to the export folder, '/'-separated. */
  path: z.string().min(1),
  bytes: z.int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 digest of 64 lowercase hex characters'),
});
export type FileEntry = z.infer<typeof FileEntrySchema>;

export const QuantizationInfoSchema = z.strictObject({
  mode: z.enum(['dynamic', 'static']),
  weights: z.literal('int8 per-channel symmetric'),
  activations: z.enum(['uint8 dynamic', 'uint8 calibrated', 'uint8 learned']),
  calibration: z
    .strictObject({
      method: z.enum(['minmax', 'percentile', 'learned']),
      samples: z.int().nonnegative(),
      percentile: z.number().optional(),
    })
    .optional(),
  reduceRange: z.boolean(),
  /** Activations left float (no learned range for them), by the layer that produces them. */
  floatTensors: z.array(z.string()).optional(),
  /**
   * Layers that compute in float in the int8 model, their weights still stored as int8, because
   * onnxruntime's int8 kernel is slower for them: static, a convolution over one input channel; dynamic,
   * every convolution (ConvInteger).
   */
  floatLayers: z.array(z.string()).optional(),
});
export type QuantizationInfo = z.infer<typeof QuantizationInfoSchema>;

export const ExportManifestSchema = z.strictObject({
  formatVersion: z.literal(EXPORT_FORMAT_VERSION),
  format: z.enum(EXPORT_FORMATS),
  /** No timestamp: exporting the same model twice gives byte-identical files (and artifacts). */
  createdBy: z.string(),
  /** The model files by precision: model.json (tfjs) or model.onnx, and model.int8.onnx when quantized. */
  models: z.strictObject({ float: z.string(), int8: z.string().optional() }),
  inputs: z.array(TensorSignatureSchema).min(1),
  outputs: z.array(TensorSignatureSchema).min(1),
  /** Class names in output order (classification), else null. */
  labels: z.array(z.string()).nullable(),
  target: TargetStateSchema.nullable(),
  /** The fitted preprocessing; null when the model was exported without one. */
  preprocessor: PreprocessorStateSchema.nullable(),
  /** ONNX: whether the graph applies the preprocessing itself (its inputs are then raw data). */
  preprocessingInGraph: z.boolean(),
  quantization: QuantizationInfoSchema.nullable(),
  /** The tracked run the model came from. */
  sourceRun: z.string().nullable(),
  files: z.array(FileEntrySchema).min(1),
});
export type ExportManifest = z.infer<typeof ExportManifestSchema>;
export type ManifestContent = Omit<ExportManifest, 'files' | 'formatVersion'>;

/** Hashes the listed files (relative to `dir`) and writes the manifest last, once every file is complete. */
export function writeManifest(dir: string, content: ManifestContent, files: string[]): ExportManifest {
  const entries = files.map((path) => {
    const data = readFileSync(join(dir, path));
    return { path, bytes: data.byteLength, sha256: sha256(data) };
  });
  const manifest: ExportManifest = {
    formatVersion: EXPORT_FORMAT_VERSION,
    ...content,
    files: entries,
  };
  writeJsonAtomic(join(dir, EXPORT_MANIFEST), manifest);
  return manifest;
}

/** Reads and validates `dir/modelauto.json` without checking the files. */
export function readManifest(dir: string): ExportManifest {
  const path = join(dir, EXPORT_MANIFEST);
  if (!existsSync(path)) {
    throw new ModelautoError('NOT_FOUND', `${path}: no export manifest; is ${dir} a modelauto export?`, {
      location: { file: path },
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ModelautoError('INVALID_DATA', `not valid JSON (${(e as Error).message})`, {
      location: { file: path },
      cause: e,
    });
  }
  const r = ExportManifestSchema.safeParse(json);
  if (!r.success)
    throw new ModelautoError('INVALID_DATA', formatZodError(r.error, 'manifest'), {
      location: { file: path },
    });
  return r.data;
}

/**
 * Reads the manifest and checks every file it lists: present, of the recorded size, with the recorded
 * SHA-256. Returns the manifest and the verified bytes of each file (so nothing is read twice and no
 * file can change between the check and the use).
 */
export function verifyExport(dir: string): { manifest: ExportManifest; files: Map<string, Buffer> } {
  const manifest = readManifest(dir);
  const files = new Map<string, Buffer>();
  for (const f of manifest.files) {
    const path = join(dir, f.path);
    const location = { file: path };
    if (!existsSync(path) || !statSync(path).isFile()) {
      throw new ModelautoError('NOT_FOUND', `listed in ${EXPORT_MANIFEST} but missing`, { location });
    }
    const data = readFileSync(path);
    if (data.byteLength !== f.bytes) {
      throw new ModelautoError(
        'INVALID_DATA',
        `${data.byteLength} bytes, ${EXPORT_MANIFEST} records ${f.bytes}: the file is ${data.byteLength < f.bytes ? 'truncated' : 'longer than exported'}; refusing to load it`,
        { location },
      );
    }
    const digest = sha256(data);
    if (digest !== f.sha256) {
      throw new ModelautoError(
        'INVALID_DATA',
        `SHA-256 ${digest} does not match ${f.sha256} recorded in ${EXPORT_MANIFEST}: the file is corrupted; refusing to load it`,
        { location },
      );
    }
    files.set(f.path, data);
  }
  return { manifest, files };
}
