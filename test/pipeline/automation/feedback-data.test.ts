/**
 * Fresh data from a real SQLite prediction log: the training data plus every labelled prediction
 * (inputs decoded from the log, labels from feedback), written as an IDX pair that loads back row for
 * row; waiting for enough labels, and the errors when there are not enough, or the data cannot be IDX.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadIdx } from '../../../src/data/idx.js';
import { parseDataSpec } from '../../../src/data/spec.js';
import { encodeTensor } from '../../../src/monitor/live/record.js';
import { collectFreshData } from '../../../src/pipeline/automation/feedback-data.js';
import { openPredictionLog } from '../../../src/store/prediction-log-open.js';
import type { PredictionRecord } from '../../../src/store/prediction-log.js';
import { parseMetricSamples, metricValue } from '../../../src/pipeline/automation/prometheus.js';

const dir = mkdtempSync(join(tmpdir(), 'modelauto-fresh-'));
const log = await openPredictionLog(join(dir, 'store'));
afterAll(async () => {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A 3x3 image IDX pair of `n` images: pixel values k + row, labels k % 3. */
function writeBase(n: number): { images: string; labels: string } {
  const header = (dims: number[]) => {
    const h = Buffer.alloc(4 + 4 * dims.length);
    h[2] = 0x08;
    h[3] = dims.length;
    dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
    return h;
  };
  const pixels = Buffer.from(
    Array.from({ length: n * 9 }, (_, i) => (Math.floor(i / 9) * 10 + (i % 9)) % 256),
  );
  const labels = Buffer.from(Array.from({ length: n }, (_, i) => i % 3));
  const files = { images: join(dir, 'base-images'), labels: join(dir, 'base-labels') };
  writeFileSync(files.images, Buffer.concat([header([n, 3, 3]), pixels]));
  writeFileSync(files.labels, Buffer.concat([header([n]), labels]));
  return files;
}

const base = parseDataSpec({ idx: writeBase(12), split: { validation: 0.1, test: 0.2, seed: 1 } });

/** A logged request of `rows` 3x3 images with values `fill + row`. */
function record(id: string, rows: number, fill: number, version = 1): PredictionRecord {
  const data = Float32Array.from({ length: rows * 9 }, (_, i) => fill + Math.floor(i / 9));
  return {
    requestId: id,
    model: 'digits',
    version,
    time: Date.now(),
    protocol: 'oip',
    rows,
    latencyMs: 1,
    inputs: { input: encodeTensor(data, [rows, 3, 3, 1], 100_000) },
    outputs: {},
    predicted: Array.from({ length: rows }, () => '0'),
    classes: ['0', '1', '2'],
  };
}

const options = (outDir: string, minRows = 0, timeoutMs = 2000) => ({
  model: 'digits',
  base,
  baseDir: dir,
  feedback: { limit: 1000, minRows, timeoutMs, recentMs: null },
  split: base.split,
  outDir: join(dir, outDir),
  predictionLog: log,
});

describe('fresh data', () => {
  it('waits for enough labels, then says how many there are', async () => {
    await log.append([record('r1', 2, 100), record('r2', 1, 200, 2)]);
    await log.label('digits', [{ requestId: 'r1', row: 1, label: '2' }], Date.now());
    await expect(collectFreshData(options('wait', 3, 600))).rejects.toThrow(
      /model digits has 1 labelled prediction\(s\), fewer than the 3 asked for, after waiting 1 s/,
    );
  });

  it('writes training rows + labelled feedback rows as IDX that loads back row for row', async () => {
    await log.label(
      'digits',
      [
        { requestId: 'r1', row: 0, label: '1' },
        { requestId: 'r2', label: '0' },
      ],
      Date.now(),
    );
    const fresh = await collectFreshData(options('ok', 3));
    expect(fresh.rows).toEqual({ base: 12, feedback: 3, skipped: 0, total: 15 });
    expect(fresh.feedbackByVersion).toEqual({ '1': 2, '2': 1 });
    // Predicted "0" everywhere: r1's two rows (labels 2 and 1) were wrong, r2's (label 0) right.
    expect(fresh.feedbackMispredicted).toBe(2);
    const ds = await loadIdx(fresh.files.images, fresh.files.labels);
    expect(ds.n).toBe(15);
    expect(ds.features.kind === 'tensor' && ds.features.shape).toEqual([3, 3, 1]);
    const pixels = ds.features.kind === 'tensor' ? ds.features.data : new Uint8Array();
    expect(pixels).toBeInstanceOf(Uint8Array);
    // The first training row, then the feedback rows (newest label first: r2, then r1's rows).
    expect([...pixels.subarray(0, 9)]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const feedbackRows = [12, 13, 14].map((r) => pixels[r * 9] as number).sort((a, b) => a - b);
    expect(feedbackRows).toEqual([100, 101, 200]);
    const y = ds.target.kind === 'classification' ? ds.target : null;
    const labelOf = (value: number) => {
      const r = [12, 13, 14].find((i) => pixels[i * 9] === value) as number;
      return y?.classes[y.y[r] as number];
    };
    expect([labelOf(100), labelOf(101), labelOf(200)]).toEqual(['1', '2', '0']);
    expect(fresh.spec).toMatchObject({ idx: fresh.files, name: 'digits-fresh', split: base.split });
  });

  it('refuses labels that IDX cannot hold and inputs of another size', async () => {
    await log.append([record('bad-label', 1, 50)]);
    await log.label('digits', [{ requestId: 'bad-label', label: '1' }], Date.now());
    const withText = { ...options('text'), model: 'words' };
    await log.append([{ ...record('w1', 1, 1), model: 'words', classes: ['cat', 'dog'] }]);
    await log.label('words', [{ requestId: 'w1', label: 'cat' }], Date.now());
    await expect(collectFreshData(withText)).rejects.toThrow(
      /feedback for request w1 row 0: class "cat" is not an integer/,
    );
    const wide = { ...record('wide', 1, 1), model: 'wide' };
    wide.inputs = { input: encodeTensor(new Float32Array(16), [1, 4, 4, 1], 100_000) };
    await log.append([wide]);
    await log.label('wide', [{ requestId: 'wide', label: '1' }], Date.now());
    await expect(collectFreshData({ ...options('wide'), model: 'wide' })).rejects.toThrow(
      /request wide of wide: its inputs hold 16 values per row, the training data 9/,
    );
  });
});

describe('metrics text', () => {
  it('reads samples with labels, escapes and special values', () => {
    const samples = parseMetricSamples(
      [
        '# HELP modelauto_live_accuracy Accuracy.',
        '# TYPE modelauto_live_accuracy gauge',
        'modelauto_live_accuracy{model="mnist",version="2"} 0.93',
        'modelauto_drift_share{model="a\\"b",version="1"} NaN',
        'process_start_time_seconds 1700000000 1700000000000',
        'not a sample',
      ].join('\n'),
    );
    expect(samples).toHaveLength(3);
    expect(metricValue(samples, 'modelauto_live_accuracy', { model: 'mnist', version: '2' })).toBe(0.93);
    expect(metricValue(samples, 'modelauto_live_accuracy', { version: '3' })).toBeNull();
    expect(samples[1]?.labels).toEqual({ model: 'a"b', version: '1' });
    expect(Number.isNaN(samples[1]?.value)).toBe(true);
    expect(metricValue(samples, 'process_start_time_seconds')).toBe(1700000000);
  });
});
