import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { convertModel } from '../../src/export/onnx/convert.js';
import { serializeOnnx } from '../../src/export/onnx/export.js';
import { createSession, runSession } from '../../src/export/onnx/runtime.js';

/** A temp folder removed after the file's tests. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'modelauto-export-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Seeded values in [lo, hi). */
export function randomValues(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.next());
}

/** Replaces every weight of the model with seeded random values (variances kept positive). */
export function randomizeWeights(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    layer.setWeights(
      layer.weights.map((w, i) => {
        const shape = (ws[i] as tf.Tensor).shape;
        const size = shape.reduce((a, b) => a * b, 1);
        const variance = w.name.endsWith('moving_variance');
        return tf.tensor(randomValues(size, s++, variance ? 0.5 : -1, variance ? 2 : 1), shape);
      }),
    );
  }
}

export interface ParityResult {
  maxDiff: number;
  bytes: Uint8Array;
  opTypes: string[];
}

/**
 * Exports the model, runs onnxruntime and tfjs on the same random batch and returns the largest absolute
 * difference of the outputs.
 */
export async function parity(
  model: tf.LayersModel,
  seed = 1,
  batch = 3,
  range: [number, number] = [-1, 1],
): Promise<ParityResult> {
  const converted = convertModel(model);
  const bytes = serializeOnnx(converted.graph);
  const session = await createSession(bytes);
  const feeds: Parameters<typeof runSession>[1] = {};
  const tensors: tf.Tensor[] = [];
  model.inputs.forEach((t, i) => {
    const shape = [batch, ...(t.shape.slice(1) as number[])];
    const data = randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed + i,
      range[0],
      range[1],
    );
    const name = converted.inputs[i]?.name as string;
    feeds[name] = { type: 'float32', data, dims: shape };
    tensors.push(tf.tensor(data, shape));
  });
  const predicted = model.predict(tensors.length === 1 ? (tensors[0] as tf.Tensor) : tensors);
  const expected = (Array.isArray(predicted) ? predicted : [predicted]).map((t) => ({
    data: t.dataSync(),
    shape: t.shape,
  }));
  const got = await runSession(session, feeds);
  await session.release();
  let maxDiff = 0;
  converted.outputs.forEach((o, i) => {
    const out = got[o.name];
    const exp = expected[i];
    expect(out, `output ${o.name}`).toBeDefined();
    expect(out!.dims).toEqual(exp!.shape);
    for (let k = 0; k < exp!.data.length; k++)
      maxDiff = Math.max(maxDiff, Math.abs((exp!.data[k] as number) - (out!.data[k] as number)));
  });
  return { maxDiff, bytes, opTypes: converted.graph.nodes.map((n) => n.op_type) };
}

const PYTHON = '/usr/bin/python3';

/** Whether Debian's python3-onnx is installed (the checker test runs only then). */
export function hasOnnxChecker(): boolean {
  if (!existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0;
}

/** Runs onnx.checker.check_model(full_check=True) on each file; returns the error output per failing file. */
export function onnxCheck(files: string[]): { file: string; error: string }[] {
  const script = [
    'import sys, onnx',
    'bad = 0',
    'for f in sys.argv[1:]:',
    '    try:',
    '        onnx.checker.check_model(onnx.load(f), full_check=True)',
    '    except Exception as e:',
    '        bad += 1',
    '        print(f + "\\t" + str(e).replace("\\n", " "))',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', script, ...files], { encoding: 'utf8' });
  if (r.status !== 0) return [{ file: '(python)', error: r.stderr }];
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [file, error] = l.split('\t');
      return { file: file ?? '', error: error ?? '' };
    });
}
