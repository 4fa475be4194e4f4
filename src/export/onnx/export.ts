import type * as tf from '@tensorflow/tfjs';
import type * as ort from 'onnxruntime-node';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.js';
import { ModelautoError } from '../../core/errors.js';
import { Preprocessor } from '../../data/preprocess.js';
import { VERSION } from '../../version.js';
import {
  verifyExport,
  writeManifest,
  type ExportManifest,
  type QuantizationInfo,
  type TensorSignature,
} from '../manifest.js';
import { labelsOf, type ExportCommon, type ExportResult } from '../tfjs.js';
import { compactNames } from './compact.js';
import { convertModel, type ConvertResult } from './convert.js';
import type { OnnxGraph, ValueInfo } from './graph.js';
import { preprocessingStage } from './preprocess.js';
import { DataType, encodeModel } from './proto.js';
import { calibrate, type CalibrationMethod } from './quantize/calibrate.js';
import { quantizeDynamic } from './quantize/dynamic.js';
import type { Range } from './quantize/params.js';
import { slowInt8Ops } from './quantize/float-ops.js';
import { lowerToIntegerOps } from './quantize/integer-ops.js';
import { cropFirstConvs, lowerSpaceToDepth, spaceToDepthConvs } from './quantize/space-to-depth.js';
import { propagateRanges, quantizableTensors, quantizeStatic } from './quantize/static.js';
import { createSession, type FeedValue, type SessionOptions } from './runtime.js';

export const ONNX_MODEL = 'model.onnx';
export const ONNX_INT8_MODEL = 'model.int8.onnx';
export const INT8_MODES = ['dynamic', 'static'] as const;
export type Int8Mode = (typeof INT8_MODES)[number];

export interface OnnxExportOptions extends ExportCommon {
  /** Put the preprocessing into the graph, so it takes raw data (needs `preprocessor`). */
  includePreprocessing?: boolean;
  /** Fold BatchNormalization into the layer before it where possible (default true). */
  foldBatchNorm?: boolean;
  /** Also write an int8 model: weights int8, activations quantized at run time (dynamic) or calibrated (static). */
  int8?: Int8Mode;
  /** static: batches run through the float graph to calibrate activation ranges, keyed by graph input name. */
  calibration?: Record<string, FeedValue>[];
  calibrationMethod?: CalibrationMethod;
  /** percentile calibration: share of values inside the range, in percent (default 99.999). */
  percentile?: number;
  /**
   * static: activation ranges learned by quantization-aware training, keyed by layer name (the range of
   * the layer's output) or by input name. Tensors without one are calibrated when calibration samples are
   * given, else left float (listed in the manifest's quantization.floatTensors).
   */
  ranges?: Record<string, Range>;
  /** 7-bit weights for CPUs without VNNI, where u8×s8 products can saturate (default false). */
  reduceRange?: boolean;
  /**
   * static: compute in float the ops onnxruntime runs slower in int8 (a convolution over one input channel),
   * their weights still stored as int8 (default true; listed in the manifest's quantization.floatLayers).
   */
  slowOpsInFloat?: boolean;
  /**
   * static: rewrite a one-channel first conv + 2x2 max pooling into a 4-channel conv on 2x2 blocks of the
   * image, which onnxruntime runs in int8 (space-to-depth.ts; default false: on the 2-core x86 machines
   * of bench:infer the float first conv is faster, 1.94x vs 1.71x over float for the small CNN).
   */
  spaceToDepth?: boolean;
  /**
   * static: write the QDQ groups onnxruntime fuses as the integer ops it fuses them into (QLinearConv,
   * ops on uint8; integer-ops.ts): a smaller file that runs the same kernels, but no longer in QDQ form
   * (default false).
   */
  integerOps?: boolean;
  /**
   * Short internal value names and no descriptive metadata in the .onnx files (default true): the manifest
   * holds the labels and the signature, and graph inputs/outputs keep their names. false writes the
   * converter's descriptive names, the labels as metadata and a doc string (for reading the graph).
   */
  compact?: boolean;
}

export interface OnnxBuild {
  float: OnnxGraph;
  int8?: OnnxGraph;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  quantization: QuantizationInfo | null;
  /** Tensor holding each layer's output in the float graph. */
  layerOutputs: Map<string, string>;
  /** The layer each node of the float graph was converted from. */
  nodeLayers: Map<string, string>;
}

/** Converts (and optionally quantizes) a model in memory. */
export async function buildOnnx(model: tf.LayersModel, options: OnnxExportOptions = {}): Promise<OnnxBuild> {
  let converted: ConvertResult;
  let inputs: ValueInfo[];
  if (options.includePreprocessing) {
    if (!options.preprocessor) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        'includePreprocessing: no preprocessor was given to put into the graph',
      );
    }
    const stage = preprocessingStage(options.preprocessor.toJSON());
    converted = convertModel(model, { inputStage: (g) => stage.stage(g), ...foldOption(options) });
    inputs = stage.inputs;
  } else {
    converted = convertModel(model, foldOption(options));
    inputs = converted.inputs;
  }
  // A one-channel first conv whose later layers read only part of its output computes only that part
  // (the small MNIST CNN: 26x26 of the 28x28 image, so its second conv computes 10x10 outputs instead of
  // 11x11, of which the pooling dropped a row and a column). The same outputs, in every file.
  const float = cropFirstConvs(converted.graph) ?? converted.graph;
  const build: OnnxBuild = {
    float,
    inputs,
    outputs: converted.outputs,
    quantization: null,
    layerOutputs: converted.layerOutputs,
    nodeLayers: converted.nodeLayers,
  };
  const reduceRange = options.reduceRange ?? false;
  if (options.int8 === 'dynamic') {
    build.int8 = quantizeDynamic(float, { reduceRange });
    // Convolutions compute in float from int8-stored weights (ConvInteger is much slower on onnxruntime).
    const floatLayers = float.nodes
      .filter((n) => n.op_type === 'Conv')
      .map((n) => converted.nodeLayers.get(n.name) ?? n.name);
    build.quantization = {
      mode: 'dynamic',
      weights: 'int8 per-channel symmetric',
      activations: 'uint8 dynamic',
      reduceRange,
      ...(floatLayers.length ? { floatLayers } : {}),
    };
  } else if (options.int8 === 'static') {
    // Optionally, a one-channel first conv followed by a 2x2 max pooling is rewritten into a 4-channel conv
    // on 2x2 blocks that runs in int8 (space-to-depth.ts); otherwise it computes in float (slowInt8Ops).
    // Ranges are calibrated on the graph that is quantized.
    let s2d =
      options.spaceToDepth === true && options.slowOpsInFloat !== false
        ? spaceToDepthConvs(converted.graph)
        : undefined;
    let source = s2d?.graph ?? float;
    let floatNodes = options.slowOpsInFloat === false ? [] : slowInt8Ops(source);
    let { ranges, info } = await staticRanges(source, converted.layerOutputs, inputs, floatNodes, options);
    if (s2d?.rewrites.some((rw) => !ranges.has(rw.blocks))) {
      // No range for the image (learned ranges without calibration): the rewritten conv could not run in
      // int8, the float first conv is faster.
      s2d = undefined;
      source = float;
      floatNodes = slowInt8Ops(source);
      ({ ranges, info } = await staticRanges(source, converted.layerOutputs, inputs, floatNodes, options));
    }
    // With learned ranges and no calibration, what QAT did not learn stays float.
    const partial = options.ranges !== undefined && !options.calibration?.length;
    build.int8 = quantizeStatic(source, ranges, {
      reduceRange,
      missingRanges: partial ? 'float' : 'error',
      floatNodes,
    });
    for (const rw of s2d?.rewrites ?? []) lowerSpaceToDepth(build.int8, rw, reduceRange ? 7 : 8);
    if (options.integerOps === true) lowerToIntegerOps(build.int8);
    const layerOf = new Map([...converted.layerOutputs].map(([layer, t]) => [t, layer]));
    const floatTensors = partial
      ? quantizableTensors(source, floatNodes)
          .filter((t) => !ranges.has(t))
          .map((t) => layerOf.get(t) ?? t)
      : [];
    const floatLayers = floatNodes.map((n) => converted.nodeLayers.get(n) ?? n);
    build.quantization = {
      mode: 'static',
      weights: 'int8 per-channel symmetric',
      ...info,
      reduceRange,
      ...(floatTensors.length ? { floatTensors } : {}),
      ...(floatLayers.length ? { floatLayers } : {}),
    };
  } else if (options.int8 !== undefined) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `int8: expected one of dynamic, static, got ${String(options.int8)}`,
    );
  }
  return build;
}

function foldOption(options: OnnxExportOptions): { foldBatchNorm?: boolean } {
  return options.foldBatchNorm === undefined ? {} : { foldBatchNorm: options.foldBatchNorm };
}

/** Learned ranges first (mapped from layer names to tensors and carried across data movement), then calibration for the rest. */
async function staticRanges(
  float: OnnxGraph,
  layerOutputs: Map<string, string>,
  inputs: ValueInfo[],
  floatNodes: string[],
  options: OnnxExportOptions,
): Promise<{ ranges: Map<string, Range>; info: Pick<QuantizationInfo, 'activations' | 'calibration'> }> {
  const ranges = new Map<string, Range>();
  for (const [layer, range] of Object.entries(options.ranges ?? {})) {
    const tensor = layerOutputs.get(layer) ?? inputs.find((i) => i.name === layer)?.name;
    if (!tensor) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `ranges.${layer}: no layer or input of that name in the model`,
        {
          location: { path: `ranges.${layer}` },
        },
      );
    }
    if (!(range.max >= range.min)) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `ranges.${layer}: expected min <= max, got [${range.min}, ${range.max}]`,
      );
    }
    ranges.set(tensor, range);
  }
  propagateRanges(float, ranges);
  const missing = quantizableTensors(float, floatNodes).filter((t) => !ranges.has(t));
  const learned = options.ranges !== undefined;
  const method = options.calibrationMethod ?? 'minmax';
  if (missing.length === 0 || (learned && !options.calibration?.length)) {
    const calibration = { method: learned ? ('learned' as const) : method, samples: 0 };
    return { ranges, info: { activations: learned ? 'uint8 learned' : 'uint8 calibrated', calibration } };
  }
  if (!options.calibration || options.calibration.length === 0) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      'static int8: needs calibration samples (or ranges learned by quantization-aware training)',
    );
  }
  const calibrated = await calibrate(float, missing, options.calibration, {
    method,
    ...(options.percentile !== undefined ? { percentile: options.percentile } : {}),
  });
  for (const [t, r] of calibrated) ranges.set(t, r);
  const samples = options.calibration.reduce((s, b) => s + (Object.values(b)[0]?.dims[0] ?? 0), 0);
  return {
    ranges,
    info: {
      activations: learned ? 'uint8 learned' : 'uint8 calibrated',
      calibration: {
        method,
        samples,
        ...(method === 'percentile' ? { percentile: options.percentile ?? 99.999 } : {}),
      },
    },
  };
}

export interface SerializeOptions {
  /** Short internal names, no doc string or metadata (default true); see OnnxExportOptions.compact. */
  compact?: boolean;
  /** Not compact: the label names as metadata, for runtimes that show them. */
  labels?: string[] | null;
}

/** ModelProto bytes of a graph. */
export function serializeOnnx(graph: OnnxGraph, options: SerializeOptions = {}): Uint8Array {
  if (options.compact !== false)
    return encodeModel(compactNames(graph.toModel({ producerVersion: VERSION })));
  return encodeModel(
    graph.toModel({
      producerVersion: VERSION,
      docString: 'exported by modelauto from a TensorFlow.js layers model',
      metadata: options.labels ? { labels: JSON.stringify(options.labels) } : {},
    }),
  );
}

function signature(v: ValueInfo): TensorSignature {
  return {
    name: v.name,
    dtype: v.elemType === DataType.STRING ? 'string' : v.elemType === DataType.INT32 ? 'int32' : 'float32',
    shape: v.shape.map((d) => (typeof d === 'number' ? d : null)),
  };
}

/** Writes model.onnx (and model.int8.onnx) with the manifest. */
export async function exportOnnx(
  model: tf.LayersModel,
  outDir: string,
  options: OnnxExportOptions = {},
): Promise<ExportResult> {
  const build = await buildOnnx(model, options);
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const state = options.preprocessor?.toJSON();
  const labels = labelsOf(state);
  const serialize = { compact: options.compact !== false, labels };
  writeFileAtomic(join(dir, ONNX_MODEL), serializeOnnx(build.float, serialize));
  const files = [ONNX_MODEL];
  if (build.int8) {
    writeFileAtomic(join(dir, ONNX_INT8_MODEL), serializeOnnx(build.int8, serialize));
    files.push(ONNX_INT8_MODEL);
  }
  const manifest = writeManifest(
    dir,
    {
      format: 'onnx',
      createdBy: `modelauto ${VERSION}`,
      models: { float: ONNX_MODEL, ...(build.int8 ? { int8: ONNX_INT8_MODEL } : {}) },
      inputs: build.inputs.map(signature),
      outputs: build.outputs.map(signature),
      labels,
      target: state?.target ?? null,
      preprocessor: state ?? null,
      preprocessingInGraph: options.includePreprocessing === true,
      quantization: build.quantization,
      sourceRun: options.sourceRun ?? null,
    },
    files,
  );
  return { dir, manifest, files: [...files, 'modelauto.json'] };
}

export interface LoadedOnnxExport {
  session: ort.InferenceSession;
  manifest: ExportManifest;
  preprocessor?: Preprocessor;
}

/** Opens an ONNX export (float or int8 model) in onnxruntime after verifying every file's hash. */
export async function loadOnnxExport(
  dir: string,
  options: SessionOptions & { precision?: 'float' | 'int8' } = {},
): Promise<LoadedOnnxExport> {
  const { manifest, files } = verifyExport(resolve(dir));
  if (manifest.format !== 'onnx')
    throw new ModelautoError('INVALID_ARGUMENT', `${dir}: a ${manifest.format} export, expected onnx`);
  const precision = options.precision ?? 'float';
  const path = manifest.models[precision];
  if (!path) throw new ModelautoError('NOT_FOUND', `${dir}: the export has no ${precision} model`);
  const bytes = files.get(path);
  if (!bytes)
    throw new ModelautoError('INVALID_DATA', `${dir}: the manifest does not list ${path} among its files`);
  const { precision: _p, ...sessionOptions } = options;
  const session = await createSession(new Uint8Array(bytes), sessionOptions);
  return {
    session,
    manifest,
    ...(manifest.preprocessor ? { preprocessor: Preprocessor.fromJSON(manifest.preprocessor) } : {}),
  };
}
