import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ModelautoError } from '../core/errors.js';
import { BaseCallback } from '../train/callbacks.js';
import { magnitudeThreshold, mByNMask, thresholdMask, zeroFraction } from './masks.js';
import { parseWith } from './parse.js';
import { PruningScheduleSchema, finalSparsity, scheduleAt, type PruningSchedule } from './schedule.js';
import { checkLayerNames, kernelWeights, readValues, type KernelWeight } from './weights.js';

export const PRUNE_SCOPES = ['layer', 'global'] as const;
export type PruneScope = (typeof PRUNE_SCOPES)[number];

const positiveInt = z.number().int('expected an integer').positive('expected a positive integer');

export const MByNSchema = z
  .strictObject({ m: positiveInt, n: positiveInt })
  .refine((v) => v.m < v.n, { message: 'expected m < n (m zeros in every block of n weights)' });

export const MagnitudePruningSchema = z
  .strictObject({
    schedule: PruningScheduleSchema,
    /** layer: each layer reaches the sparsity on its own (tfmot); global: one threshold over all pruned layers. */
    scope: z.enum(PRUNE_SCOPES).default('layer'),
    /** Layers left dense, by name. */
    skip: z.array(z.string()).default([]),
    /** Per-layer schedules overriding `schedule` (scope layer only). */
    layerSchedules: z.record(z.string(), PruningScheduleSchema).default({}),
    /** m zeros in every block of n input weights (2:4) instead of a magnitude threshold; dense and conv kernels. */
    mByN: MByNSchema.optional(),
  })
  .superRefine((o, ctx) => {
    if (o.scope === 'global' && Object.keys(o.layerSchedules).length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['layerSchedules'],
        message: 'per-layer schedules need scope "layer"; a global threshold uses the one schedule',
      });
    }
  });

export type MagnitudePruning = z.infer<typeof MagnitudePruningSchema>;
export type MagnitudePruningInput = z.input<typeof MagnitudePruningSchema>;

export function parseMagnitudePruning(input: unknown, path = 'prune'): MagnitudePruning {
  return parseWith(MagnitudePruningSchema, input, path);
}

const M_BY_N_CLASSES = new Set(['Dense', 'Conv1D', 'Conv2D', 'Conv3D']);

export interface PruningTarget {
  weight: KernelWeight;
  schedule: PruningSchedule;
  /** 1 keeps, 0 prunes; all ones until the schedule's first update. */
  mask: Uint8Array;
}

/**
 * The kernels a pruning config applies to, checked against the model: unknown names in `skip` or
 * `layerSchedules` and a config that leaves nothing to prune are refused before any work.
 */
export function pruningTargets(
  model: tf.LayersModel,
  options: MagnitudePruning,
  path = 'prune',
): PruningTarget[] {
  checkLayerNames(model, options.skip, `${path}.skip`);
  checkLayerNames(model, Object.keys(options.layerSchedules), `${path}.layerSchedules`);
  const kernels = kernelWeights(model);
  const prunable = new Set(kernels.map((k) => k.layerName));
  for (const name of Object.keys(options.layerSchedules)) {
    if (!prunable.has(name)) {
      throw new ModelautoError(
        'INVALID_ARGUMENT',
        `${path}.layerSchedules: layer "${name}" has no kernel to prune; prunable layers: ${[...prunable].join(', ')}`,
      );
    }
  }
  const skip = new Set(options.skip);
  const targets = kernels
    .filter((k) => !skip.has(k.layerName))
    .filter((k) => !options.mByN || M_BY_N_CLASSES.has(k.className))
    .map((weight) => ({
      weight,
      schedule: options.layerSchedules[weight.layerName] ?? options.schedule,
      mask: new Uint8Array(weight.size).fill(1),
    }));
  if (targets.length === 0) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `${path}: no layer left to prune (prunable: ${[...prunable].join(', ') || 'none'}; skipped: ${options.skip.join(', ') || 'none'})`,
    );
  }
  return targets;
}

/**
 * Magnitude pruning during training, as a callback: at the schedule's steps the masks are recomputed
 * from the current weights (before the step), and after every optimizer step the masks are multiplied
 * back in, so pruned weights stay exactly zero whatever the optimizer's momentum does. Put it first in
 * the callback list so that checkpoints and validation see the masked weights. Call `strip()` at the end.
 */
export class PruningCallback extends BaseCallback {
  readonly options: MagnitudePruning;
  readonly targets: PruningTarget[];
  private maskTensors: (tf.Tensor | undefined)[];
  private lastSparsity = 0;

  constructor(model: tf.LayersModel, options: MagnitudePruning | MagnitudePruningInput) {
    super();
    this.options = parseMagnitudePruning(options);
    this.targets = pruningTargets(model, this.options);
    this.maskTensors = this.targets.map(() => undefined);
  }

  onBatchBegin(): void {
    this.updateMasks(this.ctx.globalStep);
  }

  onBatchEnd(): void {
    this.applyMasks();
  }

  /** Recomputes the masks whose schedule updates at `step`, and applies them. */
  updateMasks(step: number): void {
    const due = this.targets
      .map((t, i) => ({ t, i, d: scheduleAt(t.schedule, step) }))
      .filter((e) => e.d.update);
    if (due.length === 0) return;
    const values = due.map((e) => readValues(e.t.weight.variable));
    if (this.options.mByN) {
      const { m, n } = this.options.mByN;
      due.forEach((e, j) => (e.t.mask = mByNMask(values[j] as Float32Array, e.t.weight.shape, m, n)));
    } else if (this.options.scope === 'global') {
      const sparsity = (due[0] as (typeof due)[number]).d.sparsity;
      const threshold = magnitudeThreshold(values, sparsity);
      due.forEach((e, j) => (e.t.mask = thresholdMask(values[j] as Float32Array, threshold)));
      this.lastSparsity = sparsity;
    } else {
      due.forEach((e, j) => {
        const v = values[j] as Float32Array;
        e.t.mask = thresholdMask(v, magnitudeThreshold([v], e.d.sparsity));
      });
      this.lastSparsity = (due[0] as (typeof due)[number]).d.sparsity;
    }
    for (const e of due) {
      this.maskTensors[e.i]?.dispose();
      this.maskTensors[e.i] = tf.tensor(Float32Array.from(e.t.mask), e.t.weight.shape, 'float32');
    }
    this.applyMasks();
  }

  /** weights ← weights ⊙ mask for every target whose mask exists. */
  applyMasks(): void {
    tf.tidy(() => {
      this.targets.forEach((t, i) => {
        const mask = this.maskTensors[i];
        // + 0 turns the -0 of pruned negative weights into +0: one zero pattern compresses better.
        if (mask) t.weight.variable.write(tf.add(tf.mul(t.weight.variable.read(), mask), 0));
      });
    });
  }

  /** The sparsity the schedule asked for at its latest update. */
  get scheduledSparsity(): number {
    return this.lastSparsity;
  }

  /**
   * The export step: applies the masks a last time and releases them. The model is then a plain tfjs
   * model whose pruned weights are zeros (nothing wraps its layers, so there is nothing else to remove).
   */
  strip(): PrunedLayer[] {
    this.applyMasks();
    this.maskTensors.forEach((t) => t?.dispose());
    this.maskTensors = this.targets.map(() => undefined);
    return this.targets.map((t) => ({
      layer: t.weight.layerName,
      targetSparsity: finalSparsity(t.schedule),
      sparsity: zeroFraction(t.weight.variable.read().dataSync()),
    }));
  }
}

export interface PrunedLayer {
  layer: string;
  targetSparsity: number;
  /** Share of the kernel that is exactly zero. */
  sparsity: number;
}

export interface OneShotPruning {
  sparsity: number;
  scope?: PruneScope;
  skip?: string[];
  mByN?: { m: number; n: number };
}

/** Prunes a model to its final sparsity at once (no fine-tuning): the starting point or a quick probe. */
export function pruneOnce(model: tf.LayersModel, options: OneShotPruning): PrunedLayer[] {
  const cb = new PruningCallback(model, {
    schedule: { type: 'constantSparsity', targetSparsity: options.sparsity, beginStep: 0, frequency: 1 },
    scope: options.scope ?? 'layer',
    skip: options.skip ?? [],
    ...(options.mByN ? { mByN: options.mByN } : {}),
  });
  cb.updateMasks(0);
  return cb.strip();
}
