import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { BaseCallback } from '../train/callbacks.js';
import { parseWith } from './parse.js';
import { quantizeAffine } from './quantize.js';
import { checkLayerNames, kernelWeights } from './weights.js';
import { copyWeights, modelFromTopology, sequentialTopology } from './topology.js';

/**
 * Quantization-aware training. Weights: the forward pass runs on fake-quantized weights (quantize then
 * dequantize) while the optimizer updates float shadow weights with the gradient taken at the quantized
 * point — the straight-through estimator, d fq(w)/dw = 1. Schemes: `int8` is the int8 export's
 * (symmetric, one scale per output channel, q in [-127, 127], kernels only), `uint8`/`uint16` are tfjs's
 * affine weight formats (one range per tensor, kernel and bias). After training the model holds the
 * fake-quantized weights, so exporting with the same scheme loses nothing more than training already saw.
 */
export const QAT_SCHEMES = ['int8', 'uint8', 'uint16'] as const;
export type QatScheme = (typeof QAT_SCHEMES)[number];

export const QatSchema = z.strictObject({
  scheme: z.enum(QAT_SCHEMES).default('int8'),
  /** Layers left in float. */
  skip: z.array(z.string()).default([]),
  /** Weights that are exactly zero when training starts stay zero (QAT of a pruned model). */
  keepZeros: z.boolean().default(false),
  /** int8 only: 7-bit weights in [-63, 63], for the int8 export's reduce-range mode (no VNNI saturation). */
  reduceRange: z.boolean().default(false),
});
export type Qat = z.infer<typeof QatSchema>;
export type QatInput = z.input<typeof QatSchema>;

/**
 * Symmetric int8 per output channel (last axis), as the ONNX int8 export quantizes weights:
 * scale = max|w| / qmax, q = round(w / scale) (halves to even) clipped to [-qmax, qmax]; qmax 127, or 63
 * for 7-bit (reduce-range) weights.
 */
export function fakeQuantInt8(w: tf.Tensor, bits: 7 | 8 = 8): tf.Tensor {
  const qmax = bits === 8 ? 127 : 63;
  return tf.tidy(() => {
    const axes = w.shape.slice(0, -1).map((_, i) => i);
    const absMax = axes.length > 0 ? tf.max(tf.abs(w), axes) : tf.abs(w);
    const scale = tf.where(tf.greater(absMax, 0), tf.div(absMax, qmax), tf.onesLike(absMax));
    return tf.mul(tf.clipByValue(tf.round(tf.div(w, scale)), -qmax, qmax), scale);
  });
}

/** tfjs affine per tensor: the exact values stock tfjs loads from uint8/uint16 weights. */
export function fakeQuantAffine(values: Float32Array, dtype: 'uint8' | 'uint16'): Float32Array {
  const a = quantizeAffine(values, dtype);
  const out = new Float32Array(values.length);
  for (let i = 0; i < out.length; i++) out[i] = (a.q[i] as number) * a.scale + a.min;
  return out;
}

interface Shadowed {
  variable: tf.LayerVariable;
  /** 1 where the weight may move, 0 where it was zero at the start (keepZeros). */
  mask?: tf.Tensor;
  /** Float weights the optimizer really trains. */
  shadow: tf.Tensor;
  /** The fake-quantized weights currently in the model. */
  quantized: tf.Tensor;
}

/** Weight fake-quantization with a straight-through gradient, as a training callback (put it first). */
export class WeightFakeQuant extends BaseCallback {
  readonly options: Qat;
  private readonly variables: tf.LayerVariable[];
  private state: Shadowed[] = [];

  constructor(model: tf.LayersModel, options: Qat | QatInput = {}) {
    super();
    this.options = parseWith(QatSchema, options, 'qat');
    checkLayerNames(model, this.options.skip, 'qat.skip');
    const skip = new Set(this.options.skip);
    const kernels = kernelWeights(model).filter((k) => !skip.has(k.layerName));
    this.variables =
      this.options.scheme === 'int8'
        ? kernels.map((k) => k.variable)
        : kernels.flatMap((k) => k.layer.weights.filter((w) => w.dtype === 'float32' && w.trainable));
  }

  private quantize(w: tf.Tensor): tf.Tensor {
    if (this.options.scheme === 'int8') return fakeQuantInt8(w, this.options.reduceRange ? 7 : 8);
    const values = fakeQuantAffine(w.dataSync() as Float32Array, this.options.scheme);
    return tf.tensor(values, w.shape, 'float32');
  }

  onTrainBegin(): void {
    this.state = this.variables.map((variable) => {
      const shadow = tf.keep(variable.read().clone());
      const quantized = tf.keep(this.quantize(shadow));
      variable.write(quantized);
      const mask = this.options.keepZeros
        ? tf.keep(tf.tidy(() => tf.cast(tf.notEqual(shadow, 0), 'float32')))
        : undefined;
      return { variable, shadow, quantized, ...(mask ? { mask } : {}) };
    });
  }

  onBatchEnd(): void {
    for (const s of this.state) {
      // The optimizer moved the quantized weights by some delta; the float shadow takes the same step.
      const shadow = tf.keep(
        tf.tidy(() => {
          const moved = tf.add(s.shadow, tf.sub(s.variable.read(), s.quantized));
          return s.mask ? tf.add(tf.mul(moved, s.mask), 0) : moved;
        }),
      );
      s.shadow.dispose();
      s.quantized.dispose();
      s.shadow = shadow;
      s.quantized = tf.keep(this.quantize(shadow));
      s.variable.write(s.quantized);
    }
  }

  onTrainEnd(): void {
    this.strip();
  }

  /** Releases the shadows; the model keeps the fake-quantized weights. */
  strip(): void {
    for (const s of this.state) {
      s.variable.write(s.quantized);
      s.quantized.dispose();
      s.shadow.dispose();
      s.mask?.dispose();
    }
    this.state = [];
  }
}

/**
 * Activation fake-quantization: a layer inserted after a chosen layer that quantizes its output to uint8
 * over a range tracked by exponential moving average of batch min/max while training (TF's
 * MovingAverageQuantize; the range always holds 0, like the export's activation parameters). Gradients
 * pass straight through inside the range and are zero outside (clipped values do not move).
 */
export class FakeQuant extends tf.layers.Layer {
  static readonly className = 'ModelautoFakeQuant';
  readonly momentum: number;
  private rangeMin?: tf.LayerVariable;
  private rangeMax?: tf.LayerVariable;
  private seen?: tf.LayerVariable;

  constructor(args: { name?: string; momentum?: number; trainable?: boolean } = {}) {
    super(args);
    this.momentum = args.momentum ?? 0.99;
  }

  override build(): void {
    this.rangeMin = this.addWeight('range_min', [], 'float32', tf.initializers.zeros(), undefined, false);
    this.rangeMax = this.addWeight('range_max', [], 'float32', tf.initializers.zeros(), undefined, false);
    this.seen = this.addWeight('seen', [], 'float32', tf.initializers.zeros(), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
    const lo = this.rangeMin as tf.LayerVariable;
    const hi = this.rangeMax as tf.LayerVariable;
    const seen = this.seen as tf.LayerVariable;
    if (kwargs['training'] === true) {
      tf.tidy(() => {
        const first = tf.equal(seen.read(), 0);
        const bMin = tf.minimum(tf.min(x), 0);
        const bMax = tf.maximum(tf.max(x), 0);
        const m = this.momentum;
        lo.write(tf.where(first, bMin, tf.add(tf.mul(lo.read(), m), tf.mul(bMin, 1 - m))));
        hi.write(tf.where(first, bMax, tf.add(tf.mul(hi.read(), m), tf.mul(bMax, 1 - m))));
        seen.write(tf.onesLike(seen.read()));
      });
    }
    return fakeQuantRange(x, lo.read(), hi.read());
  }

  /** The tracked range, for the int8 export's activation parameters. */
  range(): { min: number; max: number } {
    return {
      min: (this.rangeMin?.read().dataSync()[0] as number | undefined) ?? 0,
      max: (this.rangeMax?.read().dataSync()[0] as number | undefined) ?? 0,
    };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum };
  }
}
tf.serialization.registerClass(FakeQuant);

/** uint8 quantize-dequantize of x over [lo, hi] with a straight-through gradient inside the range. */
export const fakeQuantRange = tf.customGrad((...args) => {
  const [x, lo, hi, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const value = tf.tidy(() => {
    const scale = tf.maximum(tf.div(tf.sub(hi, lo), 255), 1e-12);
    const zero = tf.round(tf.div(tf.neg(lo), scale));
    const q = tf.clipByValue(tf.add(tf.round(tf.div(x, scale)), zero), 0, 255);
    // An untrained range (0, 0) passes values through unchanged.
    return tf.where(tf.greater(hi, lo), tf.mul(tf.sub(q, zero), scale), x);
  });
  save([x, lo, hi]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, slo, shi] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const inside = tf.logicalOr(
        tf.logicalNot(tf.greater(shi, slo)),
        tf.logicalAnd(tf.greaterEqual(sx, slo), tf.lessEqual(sx, shi)),
      );
      return [tf.mul(dy, tf.cast(inside, 'float32')), tf.zerosLike(slo), tf.zerosLike(shi)];
    },
  };
});

/** Ranges of every FakeQuant layer, keyed by the layer whose output it quantizes. */
export function activationRanges(model: tf.LayersModel): Record<string, { min: number; max: number }> {
  const out: Record<string, { min: number; max: number }> = {};
  model.layers.forEach((l, i) => {
    if (l instanceof FakeQuant) {
      const prev = model.layers[i - 1];
      out[prev ? prev.name : l.name] = l.range();
    }
  });
  return out;
}

/**
 * A copy of the model with a FakeQuant layer after each named layer (default: every layer with a kernel
 * except the last, whose softmax output the export keeps in float). Weights are copied.
 */
export async function withActivationFakeQuant(
  model: tf.LayersModel,
  layers?: string[],
): Promise<tf.LayersModel> {
  const topology = sequentialTopology(model, 'activation fake-quantization');
  const kernels = kernelWeights(model).map((k) => k.layerName);
  const chosen = layers ?? kernels.slice(0, -1);
  checkLayerNames(model, chosen, 'qat.activations');
  const wanted = new Set(chosen);
  topology.config.layers = topology.config.layers.flatMap((l) =>
    wanted.has(l.config.name)
      ? [
          l,
          {
            class_name: FakeQuant.className,
            config: { name: `${l.config.name}_fakequant`, momentum: 0.99, trainable: true },
          },
        ]
      : [l],
  );
  const out = await modelFromTopology(topology);
  copyWeights(model, out, new Set(model.layers.map((l) => l.name)));
  return out;
}

/** The stock tfjs model without its FakeQuant layers, and the ranges they learned. */
export async function withoutFakeQuant(
  model: tf.LayersModel,
): Promise<{ model: tf.LayersModel; ranges: Record<string, { min: number; max: number }> }> {
  const ranges = activationRanges(model);
  const topology = sequentialTopology(model, 'activation fake-quantization');
  topology.config.layers = topology.config.layers.filter((l) => l.class_name !== FakeQuant.className);
  const out = await modelFromTopology(topology);
  copyWeights(model, out);
  return { model: out, ranges };
}
