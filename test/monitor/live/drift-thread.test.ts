/**
 * Drift computed in the drift thread gives exactly the reports computed on the server's thread, and
 * the server's event loop keeps turning while it computes; references are freed and errors come back.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadBuiltin } from '../../../src/data/builtin.js';
import type { Dataset } from '../../../src/data/types.js';
import { columnarFromTensor } from '../../../src/monitor/drift/columnar.js';
import { parseMonitorConfig } from '../../../src/monitor/live/config-file.js';
import { storeDriftEngine } from '../../../src/monitor/live/drift-engine.js';
import type { WindowSlice } from '../../../src/monitor/live/input-window.js';
import { fixtureStore, registerMnist } from '../../serve/fixtures.js';

const f = await fixtureStore();
await registerMnist(f, 1, { aliases: ['champion'] });

const ROWS = 120;
const test = (await loadBuiltin('mnist', { limit: 1, testLimit: ROWS })).predefinedTest as Dataset;
const pixels = test.features.kind === 'tensor' ? test.features.data : new Uint8Array();

/** A window of real digits (inverted: clearly drifted), as InputWindow.slice gives it; fresh arrays each time. */
function window(invert: boolean): WindowSlice {
  const values = Float32Array.from(pixels.subarray(0, ROWS * 784), (v) => (invert ? 255 - v : v));
  const data = columnarFromTensor(values, ROWS, [784]);
  delete data.order;
  return {
    data,
    predictions: Array.from({ length: ROWS }, (_, i) => String(i % 3)),
    start: 1_000,
    end: 2_000,
  };
}

const config = (compute: 'thread' | 'inline') =>
  parseMonitorConfig({ drift: { compute, options: { numericMethod: 'ks' } } }).drift;
const threaded = storeDriftEngine(f.stores, config('thread'));
const inline = storeDriftEngine(f.stores, config('inline'));
afterAll(async () => {
  await threaded.close?.();
  await inline.close?.();
});

describe('drift thread', () => {
  it('gives the same reports as the computation on the server thread', async () => {
    const rt = await threaded.reference('mnist', 1);
    const ri = await inline.reference('mnist', 1);
    if (!('reference' in rt) || !('reference' in ri)) throw new Error('expected references');
    for (const invert of [false, true]) {
      const t = await threaded.detect(rt.reference, window(invert));
      const i = await inline.detect(ri.reference, window(invert));
      expect(t.features.length).toBe(784);
      expect({ ...t, computedAt: 0 }).toEqual({ ...i, computedAt: 0 });
    }
    const drifted = await threaded.detect(rt.reference, window(true));
    expect(drifted.datasetDrift).toBe(true);
    expect(drifted.prediction).not.toBeNull();
  });

  it('leaves the event loop free while it computes', async () => {
    const r = await threaded.reference('mnist', 1);
    if (!('reference' in r)) throw new Error('expected a reference');
    let turned = false;
    const report = threaded.detect(r.reference, window(true));
    setImmediate(() => (turned = true));
    const done = await Promise.resolve(report).then(() => turned);
    expect(done).toBe(true);
  });

  it('frees a forgotten reference; unknown versions and a stopped thread are errors', async () => {
    const r = await threaded.reference('mnist', 1);
    if (!('reference' in r)) throw new Error('expected a reference');
    threaded.forget?.(r.reference);
    await expect(Promise.resolve(threaded.detect(r.reference, window(false)))).rejects.toThrow(
      'no drift reference loaded for mnist:1',
    );
    await expect(threaded.reference('mnist', 7)).rejects.toThrow(/version 7|not found/i);
    const other = storeDriftEngine(f.stores, config('thread'));
    const o = await other.reference('mnist', 1);
    await other.close?.();
    if (!('reference' in o)) throw new Error('expected a reference');
    await expect(Promise.resolve(other.detect(o.reference, window(false)))).rejects.toThrow('stopped');
  });
});
