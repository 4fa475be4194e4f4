import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ModelautoError } from '../core/errors.js';

/**
 * Editing a model through its Keras JSON topology (what model.json holds): change a layer's config,
 * drop or insert layers, then rebuild with tfjs's own deserializer and copy the weights over. This keeps
 * every rebuilt model a stock tfjs model.
 */
const LayerJsonSchema = z.looseObject({
  class_name: z.string(),
  config: z.looseObject({ name: z.string() }),
});
const SequentialJsonSchema = z.looseObject({
  class_name: z.literal('Sequential'),
  config: z.looseObject({ name: z.string().optional(), layers: z.array(LayerJsonSchema) }),
});

export type LayerJson = z.infer<typeof LayerJsonSchema>;
export type SequentialJson = z.infer<typeof SequentialJsonSchema>;

/** A deep copy of a Sequential model's topology; other model kinds are refused with the reason. */
export function sequentialTopology(model: tf.LayersModel, what: string): SequentialJson {
  const raw: unknown = JSON.parse(JSON.stringify(model.toJSON(null, false)));
  const r = SequentialJsonSchema.safeParse(raw);
  if (!r.success) {
    const kind =
      typeof raw === 'object' && raw !== null && 'class_name' in raw ? String(raw.class_name) : 'unknown';
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `${what} works on Sequential models (a chain of layers, as model specs build); this model is a ${kind}`,
    );
  }
  return r.data;
}

export async function modelFromTopology(topology: SequentialJson): Promise<tf.LayersModel> {
  type ModelConfig = Parameters<typeof tf.models.modelFromJSON>[0];
  return tf.models.modelFromJSON({ modelTopology: topology } as unknown as ModelConfig);
}

/** Weight suffix (`kernel`, `bias`, `gamma`, ...) of a layer variable. */
export function weightKey(v: tf.LayerVariable): string {
  return v.originalName.slice(v.originalName.lastIndexOf('/') + 1);
}

/** Copies weights layer by layer, matched by layer name and weight suffix; shapes must agree. */
export function copyWeights(from: tf.LayersModel, to: tf.LayersModel, only?: ReadonlySet<string>): void {
  for (const target of to.layers) {
    if (only && !only.has(target.name)) continue;
    if (target.weights.length === 0) continue;
    const source = from.layers.find((l) => l.name === target.name);
    if (!source)
      throw new ModelautoError('INTERNAL', `copyWeights: no layer ${target.name} in the source model`);
    const byKey = new Map(source.weights.map((w) => [weightKey(w), w]));
    target.setWeights(
      target.weights.map((w) => {
        const s = byKey.get(weightKey(w));
        if (!s)
          throw new ModelautoError('INTERNAL', `copyWeights: ${target.name} has no weight ${weightKey(w)}`);
        return s.read();
      }),
    );
  }
}

/** The same model with the final softmax removed, so that it outputs logits (weights shared by copy). */
export async function withLogitsOutput(
  model: tf.LayersModel,
  what = 'distillation',
): Promise<tf.LayersModel> {
  const topology = sequentialTopology(model, what);
  const layers = topology.config.layers;
  const last = layers[layers.length - 1];
  if (!last) throw new ModelautoError('INVALID_ARGUMENT', `${what}: the model has no layers`);
  if (last.class_name === 'Activation' && last.config['activation'] === 'softmax') {
    layers.pop();
  } else if (last.config['activation'] === 'softmax') {
    last.config['activation'] = 'linear';
  } else {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `${what} needs a classifier ending in softmax; the last layer ${last.config.name} (${last.class_name}) has activation ${String(last.config['activation'] ?? 'none')}`,
    );
  }
  const logits = await modelFromTopology(topology);
  copyWeights(model, logits);
  return logits;
}
