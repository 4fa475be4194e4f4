/**
 * The inference thread (src/serve/onnx-thread.ts): the same outputs as a session on the calling thread,
 * errors with their codes, a thread that dies fails its batch and is replaced, release stops it.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import { convertModel } from '../../src/export/onnx/convert.js';
import { serializeOnnx } from '../../src/export/onnx/export.js';
import { buildModel } from '../../src/model/build.js';
import { OnnxModelRuntime } from '../../src/serve/onnx-runtime.js';
import { OnnxThreadRuntime } from '../../src/serve/onnx-thread.js';
import type { RuntimeTensor } from '../../src/serve/runtime.js';

await tf.setBackend('cpu');
const model = buildModel(
  {
    seed: 3,
    layers: [
      { type: 'dense', units: 16, activation: 'relu' },
      { type: 'dense', units: 3, activation: 'softmax' },
    ],
  },
  { inputShape: [5], name: 'small' },
);
const bytes = serializeOnnx(convertModel(model).graph);
const source = 'test/small.onnx';

function feeds(rows: number, seed: number): Record<string, RuntimeTensor> {
  const data = Float32Array.from({ length: rows * 5 }, (_, i) => Math.sin(i * 1.7 + seed));
  return { input: { type: 'float32', data, dims: [rows, 5] } };
}

describe('OnnxThreadRuntime', () => {
  it('answers like a session on the calling thread, batch after batch, and leaves the feeds intact', async () => {
    const here = await OnnxModelRuntime.create(bytes, { threads: 1, source });
    const there = await OnnxThreadRuntime.create(bytes, { threads: 1, source });
    try {
      expect(there.inputs).toEqual(here.inputs);
      expect(there.outputs).toEqual(here.outputs);
      const name = here.inputs[0]?.name as string;
      for (const rows of [1, 7, 64]) {
        const f = feeds(rows, rows);
        const input = { [name]: f.input as RuntimeTensor };
        const copy = Float32Array.from((f.input as { data: Float32Array }).data);
        // Several batches in flight at once come back to their callers.
        const [a, b] = await Promise.all([there.run(input), there.run(input)]);
        const want = await here.run(input);
        for (const out of [a, b]) {
          for (const [k, t] of Object.entries(want)) {
            expect(out[k]?.dims).toEqual(t.dims);
            expect(Array.from(out[k]?.data ?? [])).toEqual(Array.from(t.data));
          }
        }
        expect((f.input as { data: Float32Array }).data).toEqual(copy);
      }
    } finally {
      await here.release();
      await there.release();
    }
  });

  it("a bad feed fails that batch with onnxruntime's message; the thread goes on", async () => {
    const rt = await OnnxThreadRuntime.create(bytes, { threads: 1, source });
    try {
      const name = rt.inputs[0]?.name as string;
      const wrong = { [name]: { type: 'float32', data: new Float32Array(6), dims: [1, 6] } as RuntimeTensor };
      await expect(rt.run(wrong)).rejects.toThrow(/input|dimension|shape/i);
      const ok = await rt.run({ [name]: feeds(2, 1).input as RuntimeTensor });
      expect(Object.values(ok)[0]?.dims).toEqual([2, 3]);
    } finally {
      await rt.release();
    }
  });

  it('a thread that dies fails its batches (503) and the next batch starts a new one', async () => {
    const rt = await OnnxThreadRuntime.create(bytes, { threads: 1, source });
    try {
      const name = rt.inputs[0]?.name as string;
      const input = { [name]: feeds(3, 2).input as RuntimeTensor };
      const before = await rt.run(input);
      const worker = (rt as unknown as { worker: { terminate(): Promise<number> } }).worker;
      // Batches in flight when the thread goes: those it had not answered fail with a 503.
      const pending = Array.from({ length: 50 }, () =>
        rt.run(input).then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
      await worker.terminate();
      const errors = (await Promise.all(pending)).filter((e) => e !== undefined);
      expect(errors.length).toBeGreaterThan(0);
      for (const e of errors) {
        expect(e).toBeInstanceOf(ModelautoError);
        expect((e as ModelautoError).httpStatus).toBe(503);
        expect((e as Error).message).toContain(`${source}: the inference thread stopped`);
      }
      const after = await rt.run(input);
      expect(Array.from(Object.values(after)[0]?.data ?? [])).toEqual(
        Array.from(Object.values(before)[0]?.data ?? []),
      );
    } finally {
      await rt.release();
    }
  });

  it('refuses a file that is not a model, with its source named; a released runtime refuses to run', async () => {
    await expect(
      OnnxThreadRuntime.create(new Uint8Array([1, 2, 3, 4]), { threads: 1, source }),
    ).rejects.toMatchObject({ code: 'INVALID_DATA' });
    const rt = await OnnxThreadRuntime.create(bytes, { threads: 1, source });
    await rt.release();
    await rt.release();
    await expect(rt.run(feeds(1, 1))).rejects.toThrow('released');
  });
});
