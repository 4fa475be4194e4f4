/**
 * The signature a version serves: what clients send and get back, independent of the runtime.
 *
 * Clients send raw data, as the training data was: the saved preprocessing runs in the server.
 * - tensor models (images): one input `input`, the raw samples (e.g. pixels 0-255), FP32;
 * - table models: one input per column, one value per row: FP32 for numeric columns, BYTES for
 *   categorical ones. A TF Serving instance is then exactly a record: `{"plan": "pro", "tenure": 12}`;
 * - models saved without preprocessing: the model's own inputs.
 * Outputs keep the exporter's names (`output` for a single output). A one-unit regression output is
 * served as one value per row (shape [-1]), as TF Serving's regress signature returns it.
 */
import type { PreprocessorState, TargetState } from '../data/preprocess-state.js';
import type { OipDatatype } from './datatypes.js';
import type { RuntimeTensorInfo } from './runtime.js';

export type ServedInput =
  | { name: string; role: 'tensor'; datatype: 'FP32'; sampleShape: number[] }
  | {
      name: string;
      role: 'column';
      datatype: 'FP32' | 'BYTES';
      kind: 'numeric' | 'categorical';
      /** NaN reads as a missing value (the model imputes); otherwise NaN is refused. */
      nanIsMissing: boolean;
      /** null reads as a missing value; refused when the model was trained with missing.policy error. */
      missingAllowed: boolean;
      /** Known categories (categorical columns), in one-hot order. */
      categories: string[];
    };

export interface ServedOutput {
  name: string;
  /** The runtime output it comes from. */
  runtimeName: string;
  datatype: 'FP32';
  /** Per-row shape as served. */
  sampleShape: number[];
}

export interface ServedSignature {
  inputs: ServedInput[];
  outputs: ServedOutput[];
  /** Class names in output order (classification models), else null. */
  labels: string[] | null;
  task: TargetState['kind'] | null;
}

/** Served inputs for a saved preprocessing, or null when the model takes its own inputs. */
export function preprocessedInputs(state: PreprocessorState): ServedInput[] {
  if (state.kind === 'tensor')
    return [{ name: 'input', role: 'tensor', datatype: 'FP32', sampleShape: [...state.shape] }];
  return state.columns.map((c) => ({
    name: c.name,
    role: 'column',
    datatype: c.kind === 'numeric' ? 'FP32' : 'BYTES',
    kind: c.kind,
    nanIsMissing: c.kind === 'numeric' && state.missing === 'impute',
    missingAllowed: state.missing === 'impute',
    categories: c.kind === 'categorical' ? [...c.categories] : [],
  }));
}

/** The runtime's own inputs, served as they are (a model saved without preprocessing). */
export function rawInputs(inputs: readonly RuntimeTensorInfo[]): ServedInput[] {
  return inputs.map((i) => ({
    name: i.name,
    role: 'tensor',
    datatype: 'FP32',
    sampleShape: i.shape.slice(1).map((d) => d ?? 1),
  }));
}

export function servedOutputs(
  outputs: readonly RuntimeTensorInfo[],
  target: TargetState | null,
): ServedOutput[] {
  return outputs.map((o) => {
    const sample = o.shape.slice(1).map((d) => d ?? 1);
    const scalar =
      target?.kind === 'regression' && outputs.length === 1 && sample.length === 1 && sample[0] === 1;
    return { name: o.name, runtimeName: o.name, datatype: 'FP32', sampleShape: scalar ? [] : sample };
  });
}

export function signatureOf(
  inputs: ServedInput[],
  outputs: ServedOutput[],
  target: TargetState | null,
): ServedSignature {
  return {
    inputs,
    outputs,
    labels: target?.kind === 'classification' ? [...target.classes] : null,
    task: target?.kind ?? null,
  };
}

/** Served shape with -1 for the batch, as both protocols' metadata show it. */
export function inputShape(input: ServedInput): number[] {
  return input.role === 'tensor' ? [-1, ...input.sampleShape] : [-1];
}

export function outputShape(output: ServedOutput): number[] {
  return [-1, ...output.sampleShape];
}

export function inputDatatype(input: ServedInput): OipDatatype {
  return input.datatype;
}
