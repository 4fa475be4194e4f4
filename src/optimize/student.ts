import type * as tf from '@tensorflow/tfjs';
import { ModelautoError } from '../core/errors.js';
import { structuredCandidates } from './structured.js';
import { modelFromTopology, sequentialTopology, type LayerJson } from './topology.js';

const UNITS_KEY: Record<string, string> = {
  Dense: 'units',
  Conv1D: 'filters',
  Conv2D: 'filters',
  Conv3D: 'filters',
};

/** Gives every initializer in a layer config a seed derived from `seed`, so a fresh model is reproducible. */
function seedInitializers(layer: LayerJson, seed: number): void {
  for (const [key, value] of Object.entries(layer.config)) {
    if (!key.endsWith('_initializer') || typeof value !== 'object' || value === null || Array.isArray(value))
      continue;
    const config = (value as Record<string, unknown>)['config'];
    if (typeof config === 'object' && config !== null && 'seed' in config) {
      (config as Record<string, unknown>)['seed'] = seed;
    }
  }
}

/**
 * A freshly initialised, narrower copy of a model's architecture: every dense/conv layer whose units
 * can change (all but the output) gets round(units * width) units (at least 1). The usual student for
 * distillation when no student spec is given.
 */
export async function narrowedStudent(
  teacher: tf.LayersModel,
  width: number,
  seed = 1,
): Promise<tf.LayersModel> {
  if (!(width > 0 && width <= 1)) {
    throw new ModelautoError('INVALID_ARGUMENT', `student width: expected a factor in (0, 1], got ${width}`);
  }
  const topology = sequentialTopology(teacher, 'a narrowed student');
  const resizable = new Set(
    structuredCandidates(teacher)
      .filter((c) => !c.blocked)
      .map((c) => c.layer),
  );
  topology.config.layers.forEach((layer, i) => {
    const key = UNITS_KEY[layer.class_name];
    const units = key ? layer.config[key] : undefined;
    if (key && typeof units === 'number' && resizable.has(layer.config.name)) {
      layer.config[key] = Math.max(1, Math.round(units * width));
    }
    seedInitializers(layer, seed * 1000 + i);
  });
  return modelFromTopology(topology);
}
