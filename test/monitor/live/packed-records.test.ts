/**
 * Packed prediction log records (what goes to the writer thread) unpack to exactly the records made
 * from the request itself: tensors as bytes or float32, cells, summaries past the limit, scores.
 */
import { describe, expect, it } from 'vitest';
import { RecordPacker, unpackRecords } from '../../../src/monitor/live/packed-records.js';
import { encodeInputs, encodeOutputs, predictedClasses } from '../../../src/monitor/live/record.js';
import type { InferenceEvent } from '../../../src/serve/index.js';

function event(id: string, pixels: number[], scores: number[], rows = 1): InferenceEvent {
  return {
    requestId: id,
    model: 'm',
    version: 2,
    protocol: 'tfserving',
    status: 200,
    rows,
    inputs: new Map<string, InferenceEvent['inputs'] extends Map<string, infer V> | null ? V : never>([
      ['input', { role: 'tensor', data: Float32Array.from(pixels) }],
      ['plan', { role: 'column', values: Array.from({ length: rows }, (_, i) => (i ? null : 'pro')) }],
    ]),
    outputs: {
      rows,
      // A batch buffer with rows of other requests after this one's.
      tensors: new Map([['output', { data: Float32Array.from([...scores, 9, 9]), sampleShape: [2] }]]),
    },
    signature: {
      inputs: [{ name: 'input', role: 'tensor', datatype: 'FP32', sampleShape: [pixels.length / rows] }],
      outputs: [{ name: 'output', runtimeName: 'output', datatype: 'FP32', sampleShape: [2] }],
      labels: ['no', 'yes'],
      task: 'classification',
    },
    receivedAt: 1_234,
    totalSeconds: 0.0025,
    inferenceSeconds: 0.002,
  };
}

describe('packed records', () => {
  it('unpack to the records made from the request', () => {
    const events = [
      event('bytes', [0, 128, 255, 7], [0.25, 0.75]),
      event('floats', [0.5, -1, 3.25, 1e-7, 2, 2], [0.9, 0.1, 0.3, 0.7], 2),
      event(
        'big',
        Array.from({ length: 40 }, (_, i) => i / 3),
        [0.5, 0.5],
      ),
    ];
    for (const max of [100, 5]) {
      const packer = new RecordPacker();
      for (const e of events) packer.add(e, predictedClasses(e.outputs!, e.signature));
      const packed = packer.take();
      expect(packer.take()).toBeUndefined();
      const expected = events.map((e) => ({
        requestId: e.requestId,
        model: e.model,
        version: e.version,
        time: e.receivedAt,
        protocol: e.protocol,
        rows: e.rows,
        latencyMs: e.totalSeconds * 1000,
        inputs: encodeInputs(e.inputs!, e.rows, e.signature, max),
        outputs: encodeOutputs(e.outputs!, max),
        predicted: predictedClasses(e.outputs!, e.signature),
        classes: ['no', 'yes'],
      }));
      // Through a structured clone, as the writer thread receives them.
      const received = structuredClone(packed!, { transfer: [packed!.values.buffer as ArrayBuffer] });
      expect(unpackRecords(received, max)).toEqual(expected);
    }
  });
});
