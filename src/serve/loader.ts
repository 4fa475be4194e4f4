/**
 * Loads one registered version for serving, from the version's own (immutable) artifact list: the
 * blobs are the tracking store's content-addressed files, each read once and checked against its
 * SHA-256 before use.
 *
 * Runtime choice (`runtime`): `auto` takes an ONNX export when the version has one (`export/onnx/...`,
 * written by `modelauto export --format onnx` before registering) and tfjs otherwise; `onnx` and
 * `tfjs` insist. Among ONNX exports, those that take preprocessed features come first (the server's
 * JS preprocessing validates records better than a graph can), then by folder name.
 */
import { readFile } from 'node:fs/promises';
import { ModelautoError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { formatZodError } from '../core/zod-error.js';
import { Preprocessor } from '../data/preprocess.js';
import type { TargetState } from '../data/preprocess-state.js';
import { EXPORT_MANIFEST, ExportManifestSchema, type ExportManifest } from '../export/manifest.js';
import type { ModelVersionRecord, VersionArtifact } from '../store/registry.js';
import type { TrackingStore } from '../store/tracking-store.js';
import {
  passThroughFeatures,
  tableFeatures,
  tableGraphFeatures,
  tensorFeatures,
  type FeatureBuilder,
} from './features.js';
import { OnnxModelRuntime } from './onnx-runtime.js';
import { OnnxThreadRuntime } from './onnx-thread.js';
import type { ModelRuntime, RuntimeTensorInfo } from './runtime.js';
import {
  preprocessedInputs,
  rawInputs,
  servedOutputs,
  signatureOf,
  type ServedSignature,
} from './signature.js';

export const RUNTIME_CHOICES = ['auto', 'onnx', 'tfjs'] as const;
export type RuntimeChoice = (typeof RUNTIME_CHOICES)[number];
export const PRECISIONS = ['float', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];
/** Where ONNX sessions run: an inference thread per version (onnx-thread.ts), or the server's thread. */
export const INFERENCE_THREADS = ['worker', 'main'] as const;
export type InferenceThread = (typeof INFERENCE_THREADS)[number];

export interface LoadOptions {
  runtime: RuntimeChoice;
  precision: Precision;
  /** onnxruntime intra-op threads. */
  threads: number;
  /** Default 'main'. */
  inferenceThread?: InferenceThread;
}

export interface LoadedModel {
  runtime: ModelRuntime;
  signature: ServedSignature;
  features: FeatureBuilder;
  /** What was loaded, e.g. `export/onnx/float/model.onnx`. */
  source: string;
}

class VersionFiles {
  private readonly byName: Map<string, VersionArtifact>;
  constructor(
    private readonly store: TrackingStore,
    readonly record: ModelVersionRecord,
  ) {
    this.byName = new Map(record.artifacts.map((a) => [a.name, a]));
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  async read(name: string, expectedSha?: string): Promise<Buffer> {
    const a = this.byName.get(name);
    const where = `${this.record.model}:${this.record.version}`;
    if (!a) throw new ModelautoError('NOT_FOUND', `version ${where} has no artifact ${name}`);
    const data = await readFile(await this.store.artifactPath(a.sha256));
    const digest = sha256(data);
    if (digest !== a.sha256 || (expectedSha !== undefined && digest !== expectedSha)) {
      throw new ModelautoError(
        'INVALID_DATA',
        `artifact ${name} of ${where}: SHA-256 ${digest} does not match the recorded ${expectedSha ?? a.sha256}; refusing to serve it`,
      );
    }
    return data;
  }
}

export async function loadVersion(
  store: TrackingStore,
  record: ModelVersionRecord,
  options: LoadOptions,
): Promise<LoadedModel> {
  const files = new VersionFiles(store, record);
  if (options.runtime !== 'tfjs') {
    const onnx = await onnxExports(files, options.precision);
    if (onnx.length > 0) return loadOnnx(files, onnx[0] as OnnxExport, options);
    if (options.runtime === 'onnx' || options.precision === 'int8') {
      throw new ModelautoError(
        'NOT_FOUND',
        `version ${record.model}:${record.version} has no ${options.precision} ONNX export: ` +
          `export its run with \`modelauto export <run> --format onnx${options.precision === 'int8' ? ' --int8 dynamic' : ''}\` ` +
          `and register it again${options.runtime === 'onnx' ? ', or serve with --runtime auto' : ''}`,
      );
    }
  }
  return loadTfjs(files);
}

interface OnnxExport {
  prefix: string;
  manifest: ExportManifest;
}

async function onnxExports(files: VersionFiles, precision: Precision): Promise<OnnxExport[]> {
  const found: OnnxExport[] = [];
  for (const name of files.names) {
    if (!name.startsWith('export/onnx/') || !name.endsWith(`/${EXPORT_MANIFEST}`)) continue;
    const manifest = parseManifest(await files.read(name), name);
    if (manifest.format !== 'onnx' || manifest.models[precision] === undefined) continue;
    found.push({ prefix: name.slice(0, -EXPORT_MANIFEST.length), manifest });
  }
  return found.sort(
    (a, b) =>
      Number(a.manifest.preprocessingInGraph) - Number(b.manifest.preprocessingInGraph) ||
      a.prefix.localeCompare(b.prefix),
  );
}

function parseManifest(data: Buffer, name: string): ExportManifest {
  let json: unknown;
  try {
    json = JSON.parse(data.toString('utf8'));
  } catch (e) {
    throw new ModelautoError('INVALID_DATA', `artifact ${name}: not valid JSON`, { cause: e });
  }
  const r = ExportManifestSchema.safeParse(json);
  if (!r.success)
    throw new ModelautoError('INVALID_DATA', `artifact ${name}: ${formatZodError(r.error, 'manifest')}`);
  return r.data;
}

async function loadOnnx(files: VersionFiles, exp: OnnxExport, options: LoadOptions): Promise<LoadedModel> {
  const m = exp.manifest;
  const file = m.models[options.precision] as string;
  const entry = m.files.find((f) => f.path === file);
  const name = `${exp.prefix}${file}`;
  const bytes = await files.read(name, entry?.sha256);
  const create = options.inferenceThread === 'worker' ? OnnxThreadRuntime.create : OnnxModelRuntime.create;
  const runtime: ModelRuntime = await create(
    new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    {
      threads: options.threads,
      source: name,
    },
  );
  try {
    const pre = m.preprocessor ? Preprocessor.fromJSON(m.preprocessor) : undefined;
    return { runtime, source: name, ...wire(runtime, pre, m.preprocessingInGraph, m.target, name) };
  } catch (e) {
    await runtime.release();
    throw e;
  }
}

async function loadTfjs(files: VersionFiles): Promise<LoadedModel> {
  const { loadModelFrom } = await import('../model/io.js');
  const { TfjsModelRuntime } = await import('./tfjs-runtime.js');
  const where = `${files.record.model}:${files.record.version}`;
  let modelJson: string;
  let prefix: string;
  let pre: Preprocessor | undefined;
  let target: TargetState | null = null;
  let verify: (path: string) => string | undefined = () => undefined;
  const tfjsManifest = `export/tfjs/${EXPORT_MANIFEST}`;
  if (files.has(tfjsManifest)) {
    const m = parseManifest(await files.read(tfjsManifest), tfjsManifest);
    prefix = 'export/tfjs/';
    modelJson = m.models.float;
    pre = m.preprocessor ? Preprocessor.fromJSON(m.preprocessor) : undefined;
    target = m.target;
    verify = (p) => m.files.find((f) => f.path === p)?.sha256;
  } else if (files.has('model/model.json')) {
    prefix = 'model/';
    modelJson = 'model.json';
    if (files.has('preprocessor.json')) {
      const state: unknown = JSON.parse((await files.read('preprocessor.json')).toString('utf8'));
      pre = Preprocessor.fromJSON(state);
      target = pre.target;
    }
  } else {
    throw new ModelautoError(
      'NOT_FOUND',
      `version ${where} has neither an ONNX export nor a tfjs model (model/model.json or export/tfjs/): nothing to serve`,
    );
  }
  const source = `${prefix}${modelJson}`;
  const model = await loadModelFrom(source, await files.read(source, verify(modelJson)), (p) =>
    files.read(`${prefix}${p}`, verify(p)),
  );
  const runtime = new TfjsModelRuntime(model);
  try {
    return { runtime, source, ...wire(runtime, pre, false, target, source) };
  } catch (e) {
    await runtime.release();
    throw e;
  }
}

/** Connects the served signature to the runtime's tensors, checking that they fit each other. */
function wire(
  runtime: ModelRuntime,
  pre: Preprocessor | undefined,
  inGraph: boolean,
  target: TargetState | null,
  source: string,
): { signature: ServedSignature; features: FeatureBuilder } {
  const outputs = servedOutputs(runtime.outputs, target ?? pre?.target ?? null);
  const tgt = target ?? pre?.target ?? null;
  if (!pre) {
    const inputs = rawInputs(runtime.inputs);
    return {
      signature: signatureOf(inputs, outputs, tgt),
      features: passThroughFeatures(runtime.inputs.map((m) => ({ served: m.name, model: m }))),
    };
  }
  const state = pre.toJSON();
  const inputs = preprocessedInputs(state);
  const signature = signatureOf(inputs, outputs, tgt);
  if (inGraph) {
    if (state.kind === 'tensor') {
      return {
        signature,
        features: passThroughFeatures([{ served: 'input', model: single(runtime, source) }]),
      };
    }
    const names = new Set(runtime.inputs.map((i) => i.name));
    const missing = state.columns.find((c) => !names.has(c.name));
    if (missing) throw mismatch(source, `the graph has no input for column ${missing.name}`);
    return { signature, features: tableGraphFeatures(pre, state) };
  }
  const model = single(runtime, source);
  const expected = pre.inputShape.reduce((a, b) => a * b, 1);
  const actual = model.shape.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
  if (expected !== actual) {
    throw mismatch(
      source,
      `the model takes ${actual} values per sample, the saved preprocessing gives ${expected}`,
    );
  }
  return {
    signature,
    features: state.kind === 'tensor' ? tensorFeatures(pre, model, 'input') : tableFeatures(pre, model),
  };
}

function single(runtime: ModelRuntime, source: string): RuntimeTensorInfo {
  if (runtime.inputs.length !== 1)
    throw mismatch(source, `expected one model input, found ${runtime.inputs.length}`);
  const input = runtime.inputs[0] as RuntimeTensorInfo;
  if (input.type !== 'float32')
    throw mismatch(source, `input ${input.name} is ${input.type}, expected float32`);
  return input;
}

function mismatch(source: string, why: string): ModelautoError {
  return new ModelautoError('INVALID_DATA', `${source} does not fit its saved preprocessing: ${why}`);
}
