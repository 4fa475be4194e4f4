import type * as tf from '@tensorflow/tfjs';
import { ModelautoError } from '../../core/errors.js';
import { ConvertContext, unsupported, type Fold, type Value } from './context.js';
import { OnnxGraph, type ValueInfo } from './graph.js';
import { DataType } from './proto.js';
import { EXPORTABLE_ACTIVATIONS } from './layers/activation.js';
import { convertActivationLayer } from './layers/activation-layers.js';
import type { LayerConverter } from './layers/common.js';
import { convertConv } from './layers/conv.js';
import { convertDense } from './layers/dense.js';
import { convertConcatenate, convertMerge } from './layers/merge.js';
import { batchNormAffine, batchNormAxis, convertBatchNorm } from './layers/normalization.js';
import { convertGlobalPool, convertPool2d } from './layers/pooling.js';
import {
  convertEmbedding,
  convertFlatten,
  convertIdentity,
  convertPermute,
  convertReshape,
} from './layers/shape.js';

/** Every tfjs layer class the ONNX exporter converts, with its converter. */
const CONVERTERS: Record<string, LayerConverter> = {
  Dense: convertDense,
  Conv2D: convertConv,
  DepthwiseConv2D: convertConv,
  MaxPooling2D: convertPool2d,
  AveragePooling2D: convertPool2d,
  GlobalAveragePooling2D: convertGlobalPool,
  GlobalMaxPooling2D: convertGlobalPool,
  GlobalAveragePooling1D: convertGlobalPool,
  GlobalMaxPooling1D: convertGlobalPool,
  Flatten: convertFlatten,
  Reshape: convertReshape,
  Permute: convertPermute,
  Dropout: convertIdentity,
  SpatialDropout1D: convertIdentity,
  GaussianNoise: convertIdentity,
  GaussianDropout: convertIdentity,
  AlphaDropout: convertIdentity,
  BatchNormalization: convertBatchNorm,
  Activation: convertActivationLayer,
  ReLU: convertActivationLayer,
  LeakyReLU: convertActivationLayer,
  ELU: convertActivationLayer,
  Softmax: convertActivationLayer,
  ThresholdedReLU: convertActivationLayer,
  Embedding: convertEmbedding,
  Add: convertMerge,
  Multiply: convertMerge,
  Average: convertMerge,
  Maximum: convertMerge,
  Minimum: convertMerge,
  Concatenate: convertConcatenate,
};

export const ONNX_LAYER_CLASSES = Object.keys(CONVERTERS);
export { EXPORTABLE_ACTIVATIONS };

const FOLDABLE = new Set(['Dense', 'Conv2D', 'DepthwiseConv2D']);

export interface ConvertOptions {
  /** Names of the graph inputs (default: `input` for one input, else the tfjs input names). */
  inputNames?: string[];
  /** Names of the graph outputs (default: `output` for one output, else the tfjs output layer names). */
  outputNames?: string[];
  /** Fold a BatchNormalization into the Dense/Conv before it where possible (default true). */
  foldBatchNorm?: boolean;
  /**
   * Adds the nodes that produce the model's (single) input, e.g. the preprocessing transform, instead of a
   * plain graph input; returns the tensor the first layer reads.
   */
  inputStage?: (graph: OnnxGraph, input: { shape: (number | null)[] }) => string;
}

export interface ConvertResult {
  graph: OnnxGraph;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** ONNX tensor holding each layer's output (its last call), for ranges learned per layer. */
  layerOutputs: Map<string, string>;
  /** The layer each node was converted from (nodes of the input stage and output naming have none). */
  nodeLayers: Map<string, string>;
}

interface Call {
  layer: tf.layers.Layer;
  nodeIndex: number;
  inputs: tf.SymbolicTensor[];
}

const key = (t: tf.SymbolicTensor) => `${t.sourceLayer.name}:${t.nodeIndex}:${t.tensorIndex}`;

/** Layer calls that produce the model's outputs, inputs before consumers. */
function topologicalCalls(model: tf.LayersModel): Call[] {
  const order: Call[] = [];
  const seen = new Set<string>();
  const visit = (t: tf.SymbolicTensor, depth: number) => {
    const id = `${t.sourceLayer.name}:${t.nodeIndex}`;
    if (seen.has(id)) return;
    if (depth > 10_000)
      throw new ModelautoError('INVALID_ARGUMENT', 'ONNX export: the model graph has a cycle');
    seen.add(id);
    const node = t.sourceLayer.inboundNodes[t.nodeIndex];
    const inputs = node?.inputTensors ?? [];
    for (const i of inputs) visit(i, depth + 1);
    order.push({ layer: t.sourceLayer, nodeIndex: t.nodeIndex, inputs });
  };
  for (const out of model.outputs) visit(out, 0);
  return order;
}

function elemType(dtype: string, layerName: string): 1 | 6 {
  if (dtype === 'float32') return DataType.FLOAT;
  if (dtype === 'int32') return DataType.INT32;
  throw new ModelautoError(
    'INVALID_ARGUMENT',
    `ONNX export: input "${layerName}" has dtype ${dtype}; expected float32 or int32`,
  );
}

/**
 * Converts a tfjs layers model (Sequential or functional) into an ONNX graph with a dynamic batch
 * dimension. A layer without a converter fails with its name and class.
 */
export function convertModel(model: tf.LayersModel, options: ConvertOptions = {}): ConvertResult {
  const graph = new OnnxGraph(model.name);
  const ctx = new ConvertContext(graph);
  const calls = topologicalCalls(model);
  for (const c of calls) {
    const cls = c.layer.getClassName();
    if (cls !== 'InputLayer' && !CONVERTERS[cls]) {
      throw unsupported(
        c.layer,
        cls === 'Sequential' || cls === 'Model' || cls === 'Functional'
          ? 'nested models are not supported; build the model flat'
          : `no ONNX converter for ${cls} (supported: ${ONNX_LAYER_CLASSES.join(', ')})`,
      );
    }
  }

  const consumers = new Map<string, number>();
  for (const c of calls) for (const t of c.inputs) consumers.set(key(t), (consumers.get(key(t)) ?? 0) + 1);
  const outputKeys = new Set(model.outputs.map(key));
  const { folds, foldedCalls } =
    options.foldBatchNorm === false
      ? { folds: new Map<string, Fold>(), foldedCalls: new Set<string>() }
      : planFolds(calls, consumers, outputKeys);
  const callsPerLayer = new Map<string, number>();
  for (const c of calls) callsPerLayer.set(c.layer.name, (callsPerLayer.get(c.layer.name) ?? 0) + 1);

  // Output names are claimed first, so that a layer whose name an output takes gets a suffixed tensor.
  const outputNames = model.outputs.map((t, i) =>
    graph.claim(options.outputNames?.[i] ?? (model.outputs.length === 1 ? 'output' : t.sourceLayer.name)),
  );
  const values = new Map<string, Value>();
  const inputs: ValueInfo[] = [];
  const layerOutputs = new Map<string, string>();
  const nodeLayers = new Map<string, string>();
  model.inputs.forEach((t, i) => {
    const name = options.inputNames?.[i] ?? (model.inputs.length === 1 ? 'input' : t.sourceLayer.name);
    const shape = t.shape;
    let tensor: string;
    if (options.inputStage) {
      if (model.inputs.length !== 1) {
        throw new ModelautoError(
          'INVALID_ARGUMENT',
          'ONNX export: preprocessing nodes need a model with one input',
        );
      }
      tensor = options.inputStage(graph, { shape });
    } else {
      const info: ValueInfo = {
        name,
        elemType: elemType(t.dtype, t.sourceLayer.name),
        shape: ['batch', ...shape.slice(1).map((d, j) => d ?? `${name}_d${j + 1}`)],
      };
      tensor = graph.addInput(info);
      inputs.push(info);
    }
    values.set(key(t), { name: tensor, shape, layout: 'tf' });
    layerOutputs.set(t.sourceLayer.name, tensor);
  });

  for (const c of calls) {
    const cls = c.layer.getClassName();
    if (cls === 'InputLayer') continue;
    const inValues = c.inputs.map((t) => {
      const v = values.get(key(t));
      if (!v) throw unsupported(c.layer, `input ${t.name} was not produced by an exported layer`);
      return v;
    });
    const outKey = `${c.layer.name}:${c.nodeIndex}:0`;
    if (foldedCalls.has(`${c.layer.name}:${c.nodeIndex}`) && inValues[0]) {
      values.set(outKey, inValues[0]);
      layerOutputs.set(c.layer.name, inValues[0].name);
      continue;
    }
    const fold = folds.get(`${c.layer.name}:${c.nodeIndex}`);
    const shared = (callsPerLayer.get(c.layer.name) ?? 1) > 1;
    const base = fold ? fold.name : shared ? `${c.layer.name}_${c.nodeIndex}` : c.layer.name;
    const converter = CONVERTERS[cls] as LayerConverter;
    const first = graph.nodes.length;
    const out = converter(ctx, { layer: c.layer, inputs: inValues, base, ...(fold ? { fold } : {}) });
    for (const n of graph.nodes.slice(first)) nodeLayers.set(n.name, c.layer.name);
    values.set(outKey, out);
    if (!fold) layerOutputs.set(c.layer.name, out.name);
  }

  const outputs: ValueInfo[] = model.outputs.map((t, i) => {
    const v = values.get(key(t));
    if (!v) throw new ModelautoError('INTERNAL', `ONNX export: output ${t.name} was not produced`);
    const name = outputNames[i] as string;
    graph.node('Identity', [ctx.tf(v)], [name], [], { name: `${name}/Identity` });
    const info: ValueInfo = {
      name,
      elemType: DataType.FLOAT,
      shape: ['batch', ...v.shape.slice(1).map((d, j) => d ?? `${name}_d${j + 1}`)],
    };
    graph.addOutput(info);
    return info;
  });
  return { graph, inputs, outputs, layerOutputs, nodeLayers };
}

/**
 * BatchNormalizations that fold into the Dense/Conv before them: the producer has a linear activation,
 * its output goes only to the BatchNorm (and is not a model output), and the BatchNorm normalizes the
 * channel (last) axis. Folds are keyed by the producer's call; `foldedCalls` are the BatchNorm calls.
 */
function planFolds(
  calls: Call[],
  consumers: Map<string, number>,
  outputKeys: Set<string>,
): { folds: Map<string, Fold>; foldedCalls: Set<string> } {
  const folds = new Map<string, Fold>();
  const foldedCalls = new Set<string>();
  for (const c of calls) {
    if (c.layer.getClassName() !== 'BatchNormalization' || c.inputs.length !== 1) continue;
    const t = c.inputs[0] as tf.SymbolicTensor;
    const producer = t.sourceLayer;
    if (!FOLDABLE.has(producer.getClassName())) continue;
    const act = (producer.getConfig() as { activation?: unknown }).activation;
    if (act !== 'linear' || consumers.get(key(t)) !== 1 || outputKeys.has(key(t))) continue;
    if (batchNormAxis(c.layer, t.shape.length) !== t.shape.length - 1) continue;
    folds.set(`${producer.name}:${t.nodeIndex}`, batchNormAffine(c.layer));
    foldedCalls.add(`${c.layer.name}:${c.nodeIndex}`);
  }
  return { folds, foldedCalls };
}
