/**
 * The dashboard's registry and run routes over a real SQLite store holding a really trained MNIST
 * model, a real optimize candidate of it (float16 weights) and registered versions with alias moves.
 */
import { describe, expect, it } from 'vitest';
import type {
  ModelDetailResponse,
  ModelsResponse,
  RunDetailResponse,
  RunsResponse,
  VersionDetailResponse,
} from '../../../src/monitor/dashboard/api-types.js';
import { runQuantizeJob } from '../../../src/pipeline/optimize-job.js';
import { runTrainJob } from '../../../src/pipeline/train-job.js';
import { registerRun } from '../../../src/store/register-run.js';
import { dashboardServer, tempStores } from './helpers.js';

const { stores } = await tempStores();
const source = await runTrainJob(
  {
    name: 'mnist-dash',
    data: { source: 'mnist', limit: 300, testLimit: 60, split: { validation: 0.2, seed: 3 } },
    model: {
      seed: 5,
      layers: [
        { type: 'flatten' },
        { type: 'dense', units: 16, activation: 'relu' },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
    },
    train: { epochs: 3, batchSize: 32, metrics: ['accuracy'] },
  },
  { store: stores.tracking },
);
const candidate = await runQuantizeJob(
  source.run.id,
  { dtype: 'float16' },
  { store: stores.tracking, latencyRounds: 3 },
);
await registerRun(stores.tracking, stores.registry, source.run.id, 'mnist', {
  aliases: ['champion'],
  actor: 'alice',
  description: 'the trained MLP',
});
await registerRun(stores.tracking, stores.registry, candidate.candidate.runId, 'mnist', {
  parentModel: { name: 'mnist', version: 1 },
  actor: 'bob',
  metricPrefix: 'test_',
});
await stores.registry.setAlias('mnist', 'champion', 2, {
  actor: 'bob',
  reason: 'half the size, same accuracy',
});
await stores.registry.setAlias('mnist', 'challenger', 1, { actor: 'bob' });

const server = await dashboardServer({ stores });

describe('dashboard registry API', () => {
  it('lists models with aliases and the latest version headline, without the store location', async () => {
    const r = await server.get('/api/models');
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    const body = r.json as ModelsResponse;
    expect(body.monitored).toEqual([]);
    expect(body.models).toHaveLength(1);
    const m = body.models[0]!;
    expect(m).toMatchObject({ name: 'mnist', latestVersion: 2, versionCount: 2, monitored: false });
    expect(m.aliases).toEqual({ champion: 2, challenger: 1 });
    expect(m.headline?.key).toBe('test_accuracy');
    expect(m.headline?.value).toBeCloseTo(candidate.candidate.testEvaluation!.scalars['accuracy']!, 10);
    expect(r.text).not.toContain(stores.tracking.location);
  });

  it('shows a model: versions newest first, every alias move newest first with actor and reason', async () => {
    const r = await server.get('/api/models/mnist');
    expect(r.status).toBe(200);
    const body = r.json as ModelDetailResponse;
    expect(body.versions.map((v) => v.version)).toEqual([2, 1]);
    expect(body.versions[0]!.parentModel).toEqual({ name: 'mnist', version: 1 });
    expect(body.versions[0]!.aliases).toEqual(['champion']);
    expect(body.versions[1]!.aliases).toEqual(['challenger']);
    expect(body.versions[1]!.artifactBytes).toBeGreaterThan(1000);
    const moves = body.aliasHistory.map((m) => [m.alias, m.fromVersion, m.toVersion, m.actor]);
    expect(moves).toEqual([
      ['challenger', null, 1, 'bob'],
      ['champion', 1, 2, 'bob'],
      ['champion', null, 1, 'alice'],
    ]);
    expect(body.aliasHistory[1]!.reason).toBe('half the size, same accuracy');
  });

  it('shows a version: test evaluation with its confusion matrix, and the optimization lineage', async () => {
    const r = await server.get('/api/models/mnist/versions/1');
    expect(r.status).toBe(200);
    const body = r.json as VersionDetailResponse;
    expect(body.run?.id).toBe(source.run.id);
    const e = body.evaluation!;
    expect(e.task).toBe('classification');
    expect(e.n).toBe(60);
    expect(e.classes).toHaveLength(10);
    expect(e.confusionMatrix!.flat().reduce((a, b) => a + b, 0)).toBe(60);
    expect(e.scalars['accuracy']).toBeCloseTo(source.test!.scalars['accuracy']!, 10);

    const [src, cand] = body.lineage.rows;
    expect(body.lineage.sourceRunId).toBe(source.run.id);
    expect(body.lineage.rows).toHaveLength(2);
    expect(src).toMatchObject({ role: 'source', runId: source.run.id, versions: [1], current: true });
    expect(src!.testScore).toBeCloseTo(source.test!.scalars['accuracy']!, 10);
    expect(src!.params).toBe(784 * 16 + 16 + 16 * 10 + 10);
    const c = candidate.candidate;
    expect(cand).toMatchObject({
      role: 'candidate',
      runId: c.runId,
      technique: 'quantize',
      versions: [2],
      current: false,
      sizeGzipBytes: c.size.gzipBytes,
      sizeRawBytes: c.size.rawBytes,
    });
    expect(cand!.testScore).toBeCloseTo(c.test, 10);
    expect(cand!.latencyB1Ms).toBeCloseTo(c.latencyMs.b1, 10);
    // The source's size and latency are the ones the candidate measured for it.
    expect(src!.sizeGzipBytes).toBe(candidate.source.gzipBytes);
    expect(src!.latencyB1Ms).toBeCloseTo(c.latencyMs.b1 * c.speedup.b1, 6);
    // float16 weights: about half the gzipped bytes of the float32 source.
    expect(cand!.sizeGzipBytes!).toBeLessThan(src!.sizeGzipBytes! * 0.75);
  });

  it('marks the optimized version in its own lineage and links it to its parent version', async () => {
    const body = (await server.get('/api/models/mnist/versions/2')).json as VersionDetailResponse;
    expect(body.parent?.version).toBe(1);
    expect(body.lineage.sourceRunId).toBe(source.run.id);
    expect(body.lineage.rows.map((r) => [r.role, r.current])).toEqual([
      ['source', false],
      ['candidate', true],
    ]);
  });

  it('lists runs (filtered by kind) and shows a run with its per-epoch curves and children', async () => {
    const all = (await server.get('/api/runs')).json as RunsResponse;
    expect(all.kinds).toEqual(['optimize', 'train']);
    const train = (await server.get('/api/runs?kind=train')).json as RunsResponse;
    expect(train.runs.map((r) => r.id)).toEqual([source.run.id]);
    expect(train.runs[0]!.headline?.key).toBe('test_accuracy');

    const r = await server.get(`/api/runs/${source.run.id.slice(0, 8)}`);
    expect(r.status).toBe(200);
    const body = r.json as RunDetailResponse;
    expect(body.run.id).toBe(source.run.id);
    const keys = body.curves.map((c) => c.key);
    expect(keys).toEqual(expect.arrayContaining(['loss', 'val_loss']));
    const loss = body.curves.find((c) => c.key === 'loss')!;
    expect(loss.points.map(([step]) => step)).toEqual([1, 2, 3]);
    expect(loss.points.map(([, v]) => v)).toEqual(source.fit.history.map((h) => h['loss']));
    // One-point metrics (the final test scores) are not curves.
    expect(keys.some((k) => k.startsWith('test_'))).toBe(false);
    expect(body.children.map((c) => c.id)).toEqual([candidate.candidate.runId]);
    expect(body.artifacts.map((a) => a.name)).toContain('evaluation.json');
  });

  it('answers bad and unknown input with a JSON error naming what was wrong', async () => {
    const missing = await server.get('/api/models/nope');
    expect(missing.status).toBe(404);
    expect((missing.json as { error: string }).error).toMatch(/nope/);
    const badName = await server.get('/api/models/Bad%20Name');
    expect(badName.status).toBe(400);
    expect((badName.json as { error: string }).error).toMatch(/path\.name/);
    const badVersion = await server.get('/api/models/mnist/versions/zero');
    expect(badVersion.status).toBe(400);
    expect((badVersion.json as { error: string }).error).toMatch(/path\.version/);
    expect((await server.get('/api/models/mnist/versions/9')).status).toBe(404);
    const badLimit = await server.get('/api/runs?limit=0');
    expect(badLimit.status).toBe(400);
    expect((badLimit.json as { error: string }).error).toMatch(/query\.limit: expected a limit >= 1/);
    const unknownKey = await server.get('/api/runs?sort=name');
    expect(unknownKey.status).toBe(400);
    expect((unknownKey.json as { error: string }).error).toMatch(/query\.sort: unknown key/);
    expect((await server.get('/api/runs/zzzz')).status).toBe(400);
    expect((await server.get('/api/runs/ffffffff')).status).toBe(404);
    const route = await server.get('/api/nothing');
    expect(route.status).toBe(404);
    expect((route.json as { error: string }).error).toMatch(/\/api\/models/);
  });

  it('is read-only: no route accepts a write', async () => {
    for (const [method, path] of [
      ['POST', '/api/models'],
      ['PUT', '/api/models/mnist'],
      ['DELETE', '/api/models/mnist'],
      ['POST', '/api/runs'],
      ['PATCH', '/api/alerts'],
    ] as const) {
      const r = await server.call(method, path, '{}');
      expect(r.status, `${method} ${path}`).toBe(404);
    }
    expect((await stores.registry.listVersions('mnist')).length).toBe(2);
  });
});
