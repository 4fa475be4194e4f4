import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromArrays } from '../../../src/data/memory.js';
import { profileDataset } from '../../../src/data/profile.js';
import type { Dataset } from '../../../src/data/types.js';
import { columnarFromDataset, columnarFromRecords } from '../../../src/monitor/drift/columnar.js';
import { detectDrift } from '../../../src/monitor/drift/detect.js';
import {
  loadDriftReference,
  REFERENCE_ARTIFACTS,
  sampleReference,
} from '../../../src/monitor/drift/reference.js';
import { ARTIFACTS } from '../../../src/pipeline/bundle.js';
import { runTrainJob } from '../../../src/pipeline/train-job.js';
import { openTrackingStore } from '../../../src/store/open.js';

function mixedTable(n: number): Dataset {
  return {
    name: 'mixed',
    n,
    features: {
      kind: 'table',
      columns: [
        {
          name: 'age',
          kind: 'numeric',
          values: Float64Array.from({ length: n }, (_, i) => (i % 7 === 0 ? NaN : 20 + (i % 50))),
        },
        {
          name: 'plan',
          kind: 'categorical',
          values: Array.from({ length: n }, (_, i) =>
            i % 11 === 0 ? null : (['a', 'b', 'c'][i % 3] as string),
          ),
        },
      ],
    },
    target: {
      kind: 'classification',
      name: 'y',
      classes: ['0', '1'],
      y: Int32Array.from({ length: n }, (_, i) => i % 2),
    },
    source: { kind: 'memory', location: 'test' },
  };
}

function artifacts(files: Record<string, string | Uint8Array>) {
  return async (name: string): Promise<Uint8Array | undefined> => {
    const v = files[name];
    return v === undefined ? undefined : typeof v === 'string' ? new TextEncoder().encode(v) : v;
  };
}

describe('columnar data', () => {
  it('columnarFromDataset keeps raw values, kinds and column order', () => {
    const c = columnarFromDataset(mixedTable(30));
    expect(c.rows).toBe(30);
    expect(c.order).toEqual(['age', 'plan']);
    expect(Number.isNaN(c.numeric.get('age')?.[0] as number)).toBe(true);
    expect(c.categorical.get('plan')?.[1]).toBe('b');
    const img = fromArrays({
      x: { data: Float32Array.from({ length: 12 }, (_, i) => i), shape: [3, 2, 2] },
      y: ['a', 'b', 'a'],
    });
    const t = columnarFromDataset(img);
    expect([...t.numeric.keys()]).toEqual(['px_0', 'px_1', 'px_2', 'px_3']);
    expect(Array.from(t.numeric.get('px_1') as Float64Array)).toEqual([1, 5, 9]);
  });

  it('columnarFromRecords reads prediction inputs the way the profile names them', () => {
    const profile = profileDataset(mixedTable(30));
    const c = columnarFromRecords(
      [{ age: 31, plan: 'a' }, { age: null, plan: 'b', extra: 1 }, { age: '44' }],
      profile,
    );
    expect(Array.from(c.numeric.get('age') as Float64Array)).toEqual([31, NaN, 44]);
    expect(c.categorical.get('plan')).toEqual(['a', 'b', null]);
    expect(() => columnarFromRecords([{ age: 1 }, { age: 'old' }], profile)).toThrow(
      /records\[1\]\.age: expected a finite number, got "old"/,
    );
    const img = profileDataset(
      fromArrays({ x: { data: new Float32Array(8), shape: [2, 2, 2] }, y: ['a', 'b'] }),
    );
    const t = columnarFromRecords(
      [
        [
          [1, 2],
          [3, 4],
        ],
        [5, 6, 7, 8],
      ],
      img,
    );
    expect(Array.from(t.numeric.get('px_3') as Float64Array)).toEqual([4, 8]);
    expect(() => columnarFromRecords([[1, 2, 3]], img)).toThrow(/records\[0\]: expected 4 values/);
  });
});

describe('reference sample', () => {
  it('round-trips a table sample: seeded, at most maxRows rows, missing values kept', async () => {
    const ds = mixedTable(2500);
    const enc = sampleReference(ds, { seed: 7 });
    expect(enc.data).toBeUndefined();
    expect(sampleReference(ds, { seed: 7 }).json).toBe(enc.json); // deterministic
    const profile = profileDataset(ds);
    const ref = await loadDriftReference(
      artifacts({ 'profile.json': JSON.stringify(profile), [REFERENCE_ARTIFACTS.sample]: enc.json }),
    );
    expect(ref.source).toBe('sample');
    expect(ref.referenceRows).toBe(2500);
    expect(ref.data.rows).toBe(1000);
    const ages = ref.data.numeric.get('age') as Float64Array;
    expect(ages.some(Number.isNaN)).toBe(true);
    expect(ref.data.categorical.get('plan')?.includes(null)).toBe(true);
    // the sample is a fair draw: comparing it with the full data shows no drift
    const r = detectDrift(ref.data, columnarFromDataset(ds), { referenceRows: ref.referenceRows });
    expect(r.datasetDrift).toBe(false);
  });

  it('stores byte images as bytes and other tensors as float32, and decodes both', async () => {
    const bytes = fromArrays({
      x: { data: Float32Array.from({ length: 40 }, (_, i) => i % 256), shape: [10, 4] },
      y: Array(10).fill('a'),
    });
    const b = sampleReference(bytes, { maxRows: 6 });
    expect(b.data?.length).toBe(6 * 4);
    expect(JSON.parse(b.json).tensor).toEqual({ shape: [4], dtype: 'uint8', file: 'reference-sample.bin' });
    const floats = fromArrays({
      x: { data: Float32Array.from({ length: 40 }, (_, i) => i / 3), shape: [10, 4] },
      y: Array(10).fill('a'),
    });
    const f = sampleReference(floats, { maxRows: 6 });
    expect(f.data?.length).toBe(6 * 4 * 4);
    const ref = await loadDriftReference(
      artifacts({
        'profile.json': JSON.stringify(profileDataset(floats)),
        [REFERENCE_ARTIFACTS.sample]: f.json,
        [REFERENCE_ARTIFACTS.data]: f.data as Uint8Array,
      }),
    );
    const px = ref.data.numeric.get('px_1') as Float64Array;
    expect(px.length).toBe(6);
    for (const v of px) expect(Math.abs(v * 3 - Math.round(v * 3))).toBeLessThan(1e-5); // float32 of i/3
    await expect(
      loadDriftReference(
        artifacts({
          'profile.json': JSON.stringify(profileDataset(floats)),
          [REFERENCE_ARTIFACTS.sample]: f.json,
          [REFERENCE_ARTIFACTS.data]: new Uint8Array(5),
        }),
      ),
    ).rejects.toThrow(/reference-sample\.bin: expected 96 bytes/);
  });

  it('older runs without a sample: a clear NOT_FOUND, or an approximate reference from the profile when allowed', async () => {
    const ds = mixedTable(400);
    const files = artifacts({ 'profile.json': JSON.stringify(profileDataset(ds)) });
    await expect(loadDriftReference(files)).rejects.toThrow(
      /reference-sample\.json not found: this model was trained before/,
    );
    const approx = await loadDriftReference(files, { allowProfileFallback: true });
    expect(approx.source).toBe('profile');
    expect(approx.data.rows).toBe(400);
    const ages = Array.from(approx.data.numeric.get('age') as Float64Array);
    expect(ages.filter(Number.isNaN).length).toBe(58); // the profile's missing share, 58 of 400
    const plans = approx.data.categorical.get('plan') as (string | null)[];
    expect(new Set(plans)).toEqual(new Set(['a', 'b', 'c', null]));
    await expect(loadDriftReference(artifacts({}))).rejects.toThrow(/profile\.json not found/);
    await expect(loadDriftReference(artifacts({ 'profile.json': '{"version": 9}' }))).rejects.toThrow(
      /profile\.json: /,
    );
  });
});

describe('training records the reference sample', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelauto-drift-ref-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a train run stores reference-sample.json of raw features, loadable as the drift reference', async () => {
    const store = await openTrackingStore(dir);
    try {
      const result = await runTrainJob(
        {
          name: 'iris-drift',
          data: { source: 'iris', split: { validation: 0.2, test: 0.2, seed: 3 } },
          model: { seed: 1, layers: [{ type: 'dense', units: 3, activation: 'softmax' }] },
          train: { epochs: 1, batchSize: 32 },
        },
        { store },
      );
      const names = result.run.artifacts.map((a) => a.name);
      expect(names).toContain(ARTIFACTS.referenceSample);
      expect(names).not.toContain(REFERENCE_ARTIFACTS.data); // table data: no binary part
      const ref = await loadDriftReference(async (name) =>
        names.includes(name) ? new Uint8Array(await store.readArtifact(result.run.id, name)) : undefined,
      );
      expect(ref.source).toBe('sample');
      expect(ref.referenceRows).toBe(result.sizes.train);
      expect(ref.data.rows).toBe(result.sizes.train); // iris' 90 training rows are all kept
      // raw, unscaled centimetres: sepal length lies in 4.3..7.9, not standardized around 0
      const sepal = Array.from(ref.data.numeric.get('sepal_length') as Float64Array);
      expect(Math.min(...sepal)).toBeGreaterThanOrEqual(4.3);
      expect(Math.max(...sepal)).toBeLessThanOrEqual(7.9);
    } finally {
      await store.close();
    }
  });
});
