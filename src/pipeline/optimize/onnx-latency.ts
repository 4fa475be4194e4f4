import type * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { toModelautoError } from '../../core/errors.js';
import { buildOnnx, serializeOnnx } from '../../export/onnx/export.js';
import { createSession } from '../../export/onnx/runtime.js';
import { measureInterleaved, type Latency, type LatencyOptions } from '../../optimize/latency.js';

/**
 * Latency of models as they are served: each tfjs model is exported to ONNX (float, the graph
 * `modelauto export --format onnx` writes, without preprocessing) and run by onnxruntime with one
 * intra-op thread (the serve default), timed in interleaved rounds like the tfjs measurement. tfjs's
 * predict carries a fixed cost per call that hides part of a smaller model's gain at small sizes; the
 * served runtime shows what users get.
 */
export async function measureOnnxLatency(
  models: tf.LayersModel[],
  inputShape: number[],
  options: LatencyOptions & { threads?: number } = {},
): Promise<Latency[][]> {
  const sessions: ort.InferenceSession[] = [];
  try {
    for (const m of models) {
      const bytes = serializeOnnx((await buildOnnx(m)).float);
      sessions.push(await createSession(bytes, { threads: options.threads ?? 1 }));
    }
    const d = inputShape.reduce((a, b) => a * b, 1);
    return await measureInterleaved(
      sessions.length,
      (batch, x) =>
        Promise.resolve(
          sessions.map((s) => {
            const feeds = {
              [s.inputNames[0] as string]: new ort.Tensor('float32', x, [batch, ...inputShape]),
            };
            return {
              call: async () => {
                await s.run(feeds);
              },
            };
          }),
        ),
      d,
      options,
    );
  } finally {
    for (const s of sessions) await s.release();
  }
}

/**
 * The ONNX latency of `models`, or the reason it could not be measured (a layer the ONNX converter does
 * not cover): a candidate is still scored on tfjs then.
 */
export async function tryOnnxLatency(
  models: tf.LayersModel[],
  inputShape: number[],
  options: LatencyOptions = {},
): Promise<{ latency: Latency[][] } | { error: string }> {
  try {
    return { latency: await measureOnnxLatency(models, inputShape, options) };
  } catch (e) {
    return { error: toModelautoError(e).message };
  }
}
