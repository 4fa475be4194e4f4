import type * as tf from '@tensorflow/tfjs';
import { ModelautoError } from '../core/errors.js';
import { quantizableLayers, quantizeModelFiles, type QuantDtype, type QuantizationPlan } from './quantize.js';
import { encodeModelFiles, loadModelFiles, type CapturedModel, type ModelFiles } from './serialize.js';

/** Higher is better (accuracy on validation data, typically). */
export type ScoreFn = (model: tf.LayersModel) => Promise<number>;

/** Precisions tried for a layer, cheapest first, ending at float32 (always acceptable). */
export function precisionChain(dtype: QuantDtype): QuantDtype[] {
  switch (dtype) {
    case 'uint8':
      return ['uint8', 'uint16', 'float32'];
    case 'uint16':
      return ['uint16', 'float32'];
    case 'float16':
      return ['float16', 'float32'];
    case 'float32':
      return ['float32'];
  }
}

export interface LayerSensitivity {
  layer: string;
  /** Score drop with only this layer quantized, for each dtype tried. */
  tried: { dtype: QuantDtype; drop: number }[];
  /** The dtype the plan gives this layer. */
  dtype: QuantDtype;
}

export interface SensitivityResult {
  baseline: number;
  layers: LayerSensitivity[];
  plan: QuantizationPlan;
  /** Score of the whole plan, measured on the model stock tfjs loads from the quantized files. */
  score: number;
  drop: number;
  files: ModelFiles;
}

export interface SensitivityOptions {
  /** The precision wanted everywhere. */
  dtype: QuantDtype;
  /** Largest accepted score drop (absolute), for each layer alone and for the whole model. */
  maxDrop: number;
  /** Layers whose dtype is fixed by the user and not searched. */
  fixed?: Record<string, QuantDtype>;
  /** Baseline score of the float model, when already known. */
  baseline?: number;
  log?: (line: string) => void;
}

async function scoreFiles(files: ModelFiles, score: ScoreFn): Promise<number> {
  const model = await loadModelFiles(files, 'quantized model');
  try {
    return await score(model);
  } finally {
    model.dispose();
  }
}

/**
 * Per-layer sensitivity check: each layer is quantized alone and scored; a layer that costs more than
 * `maxDrop` moves up its precision chain (uint8 → uint16 → float32). The combined plan is then scored,
 * and while it still costs more than `maxDrop` the most sensitive layer still quantized moves up one
 * step. Every score is taken on the model as stock tfjs loads it from the quantized files.
 */
export async function chooseQuantization(
  captured: CapturedModel,
  score: ScoreFn,
  options: SensitivityOptions,
): Promise<SensitivityResult> {
  if (!(options.maxDrop >= 0)) {
    throw new ModelautoError('INVALID_ARGUMENT', `maxDrop: expected a number >= 0, got ${options.maxDrop}`);
  }
  const log = options.log ?? (() => undefined);
  const fixed = options.fixed ?? {};
  const baseline = options.baseline ?? (await scoreFiles(encodeModelFiles(captured), score));
  const layers = quantizableLayers(captured).filter((l) => !(l in fixed));
  const chain = precisionChain(options.dtype);
  const sensitivity: LayerSensitivity[] = [];
  for (const layer of layers) {
    const tried: LayerSensitivity['tried'] = [];
    let chosen: QuantDtype = 'float32';
    for (const dtype of chain) {
      if (dtype === 'float32') break;
      const files = quantizeModelFiles(captured, {
        default: 'float32',
        layers: { ...fixed, [layer]: dtype },
      }).files;
      const drop = baseline - (await scoreFiles(files, score));
      tried.push({ dtype, drop });
      log(`sensitivity: ${layer} as ${dtype}: drop ${drop.toFixed(4)}`);
      if (drop <= options.maxDrop) {
        chosen = dtype;
        break;
      }
    }
    sensitivity.push({ layer, tried, dtype: chosen });
  }

  const planOf = (): QuantizationPlan => ({
    default: 'float32',
    layers: { ...fixed, ...Object.fromEntries(sensitivity.map((s) => [s.layer, s.dtype])) },
  });
  for (;;) {
    const plan = planOf();
    const { files } = quantizeModelFiles(captured, plan);
    const s = await scoreFiles(files, score);
    const drop = baseline - s;
    log(`sensitivity: whole plan drop ${drop.toFixed(4)}`);
    const raisable = sensitivity.filter((l) => l.dtype !== 'float32');
    if (drop <= options.maxDrop || raisable.length === 0) {
      return { baseline, layers: sensitivity, plan, score: s, drop, files };
    }
    const worst = raisable.reduce((a, b) => (dropAt(b) > dropAt(a) ? b : a));
    const next = chain[chain.indexOf(worst.dtype) + 1] ?? 'float32';
    log(`sensitivity: raising ${worst.layer} from ${worst.dtype} to ${next}`);
    worst.dtype = next;
  }
}

function dropAt(l: LayerSensitivity): number {
  return l.tried.find((t) => t.dtype === l.dtype)?.drop ?? 0;
}
