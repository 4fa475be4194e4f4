/**
 * Both protocols against real registered models: the documented examples round-trip byte for byte
 * where the documents show bytes (TF Serving's half_plus_three), and predictions equal the trained
 * tfjs model on the saved preprocessing.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadBundle } from '../../src/pipeline/bundle.js';
import type { ModelVersionRecord } from '../../src/store/registry.js';
import {
  call,
  fixtureStore,
  pixels,
  registerChurn,
  registerFlags,
  registerHalfPlusThree,
  registerMnist,
  testServer,
  type Fixture,
} from './fixtures.js';

const f = await fixtureStore();
await registerHalfPlusThree(f, { aliases: ['champion'] });
const mnist = await registerMnist(f, 1, { aliases: ['champion'] });
const churn = await registerChurn(f, { aliases: ['champion'] });
await registerFlags(f);
const mnistTfjs = await registerMnist(f, 3, { name: 'mnist-tfjs', onnx: false });
const churnGraph = await registerChurnInGraph(f);
const server = await testServer(f);

async function registerChurnInGraph(fx: Fixture): Promise<ModelVersionRecord> {
  const { runExportJob } = await import('../../src/pipeline/export-job.js');
  const { registerRun } = await import('../../src/store/register-run.js');
  const runId = churn.sourceRunId as string;
  // A second run would retrain; this version takes the same run's artifacts plus a graph that preprocesses.
  await runExportJob(runId, { store: fx.stores.tracking, format: 'onnx', includePreprocessing: true });
  const record = await registerRun(fx.stores.tracking, fx.stores.registry, runId, 'churn-graph');
  // Only the in-graph export: drop the float one so the server has to take the graph.
  return fx.stores.registry.registerVersion('churn-graph', {
    artifacts: record.artifacts.filter((a) => !a.name.startsWith('export/onnx/float/')),
    sourceRunId: runId,
    aliases: ['champion'],
  });
}

async function expectedScores(
  record: ModelVersionRecord,
  input: { pixels?: number[][]; records?: Record<string, unknown>[] },
): Promise<number[][]> {
  const b = await loadBundle(f.stores.tracking, record.sourceRunId as string);
  const x = input.pixels
    ? b.preprocessor.transformTensor(Float32Array.from(input.pixels.flat()), input.pixels.length)
    : b.preprocessor.transformRecords(input.records ?? []);
  const y = b.model.predict(tf.tensor(x.x, x.shape)) as tf.Tensor;
  const rows = y.arraySync() as number[][];
  y.dispose();
  b.model.dispose();
  return rows;
}

function expectClose(actual: unknown, expected: number[][], tol = 1e-5): void {
  const a = actual as number[][];
  expect(a.length).toBe(expected.length);
  a.forEach((row, i) =>
    row.forEach((v, j) => expect(Math.abs(v - (expected[i]?.[j] as number))).toBeLessThan(tol)),
  );
}

const CHURN_RECORDS = [
  {
    plan: 'basic',
    region: 'south',
    tenure_months: 2,
    monthly_spend: 19.5,
    support_tickets: 6,
    autopay: 'no',
  },
  {
    plan: 'enterprise',
    region: 'north',
    tenure_months: 60,
    monthly_spend: 150,
    support_tickets: 0,
    autopay: 'yes',
  },
  { plan: 'pro', region: null, tenure_months: 30, monthly_spend: 50, support_tickets: 1, autopay: '' },
];

describe('TF Serving REST: the documented examples', () => {
  it('half_plus_three predict, posted as curl -d posts it: {"predictions": [3.5, 4.0, 5.5]}', async () => {
    const r = await call(
      server,
      'POST',
      '/v1/models/half_plus_three:predict',
      '{"instances": [1.0,2.0,5.0]}',
      {
        'content-type': 'application/x-www-form-urlencoded',
      },
    );
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.text).toBe('{"predictions":[3.5,4.0,5.5]}');
  });

  it('regress with the signature name of the example: {"results": [3.5, 4.0]}', async () => {
    const body = '{"signature_name": "tensorflow/serving/regress", "examples": [{"x": 1.0}, {"x": 2.0}]}';
    const r = await call(server, 'POST', '/v1/models/half_plus_three:regress', body);
    expect(r.status).toBe(200);
    expect(r.text).toBe('{"results":[3.5,4.0]}');
  });

  it('model status', async () => {
    const r = await call(server, 'GET', '/v1/models/half_plus_three');
    expect(r.json).toEqual({
      model_version_status: [
        { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
      ],
    });
    expect((await call(server, 'GET', '/v1/models/half_plus_three/versions/1')).json).toEqual(r.json);
    expect((await call(server, 'GET', '/v1/models/half_plus_three/labels/champion')).json).toEqual(r.json);
  });

  it('an unknown model is a 404 with {"error": ...}', async () => {
    const r = await call(server, 'POST', '/v1/models/half:predict', '{"instances": [1.0,5.0]}');
    expect(r.status).toBe(404);
    expect(Object.keys(r.json as object)).toEqual(['error']);
    expect((r.json as { error: string }).error).toContain('"half"');
  });

  it('versions, labels, signature_name and columnar inputs as in the handler tests', async () => {
    const p = (path: string, body: string) => call(server, 'POST', `/v1/models/half_plus_three${path}`, body);
    expect((await p('/versions/1:predict', '{"instances": [1.0, 2.0]}')).text).toBe(
      '{"predictions":[3.5,4.0]}',
    );
    expect((await p('/labels/champion:predict', '{"instances": [1.0, 2.0]}')).text).toBe(
      '{"predictions":[3.5,4.0]}',
    );
    expect((await p(':predict', '{"signature_name": "serving_default", "instances": [3.0, 4.0]}')).text).toBe(
      '{"predictions":[4.5,5.0]}',
    );
    expect((await p('/versions/1:predict', '{"inputs": [3.0, 4.0]}')).text).toBe('{"outputs":[4.5,5.0]}');
    expect((await p(':predict', '{"inputs": {"x": [3.0, 4.0]}}')).text).toBe('{"outputs":[4.5,5.0]}');
    expect((await p(':predict', '{"instances": [{"x": 1.0}, {"x": [2.0]}]}')).text).toBe(
      '{"predictions":[3.5,4.0]}',
    );
  });

  it('metadata: the serving_default SignatureDef as TF Serving prints it', async () => {
    const r = await call(server, 'GET', '/v1/models/half_plus_three/metadata');
    expect(r.json).toEqual({
      model_spec: { name: 'half_plus_three', signature_name: '', version: '1' },
      metadata: {
        signature_def: {
          signature_def: {
            serving_default: {
              inputs: {
                x: {
                  dtype: 'DT_FLOAT',
                  tensor_shape: { dim: [{ size: '-1', name: '' }], unknown_rank: false },
                  name: 'x:0',
                },
              },
              outputs: {
                output: {
                  dtype: 'DT_FLOAT',
                  tensor_shape: { dim: [{ size: '-1', name: '' }], unknown_rank: false },
                  name: 'output:0',
                },
              },
              method_name: 'tensorflow/serving/predict',
              defaults: {},
            },
          },
        },
      },
    });
    const m = await call(server, 'GET', '/v1/models/mnist/versions/1/metadata');
    const input = (
      m.json as {
        metadata: {
          signature_def: {
            signature_def: {
              serving_default: { inputs: Record<string, { tensor_shape: { dim: { size: string }[] } }> };
            };
          };
        };
      }
    ).metadata.signature_def.signature_def.serving_default.inputs['input'];
    expect(input?.tensor_shape.dim.map((d) => d.size)).toEqual(['-1', '28', '28', '1']);
  });
});

describe('TF Serving REST on image and table models', () => {
  it("raw pixels, nested 28x28 or flat, scaled in the server: the trained model's scores", async () => {
    const a = pixels(1);
    const b = pixels(2);
    const nested = Array.from({ length: 28 }, (_, r) => b.slice(r * 28, r * 28 + 28));
    const r = await call(server, 'POST', '/v1/models/mnist:predict', { instances: [a, nested] });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-model-version')).toBe('1');
    const expected = await expectedScores(mnist, { pixels: [a, b] });
    expectClose((r.json as { predictions: number[][] }).predictions, expected);
    const columnar = await call(server, 'POST', '/v1/models/mnist:predict', { inputs: [a, b] });
    expectClose((columnar.json as { outputs: number[][] }).outputs, expected);
  });

  it('records with missing values (null, an empty text), row and columnar; classify with the class names', async () => {
    const expected = await expectedScores(churn, { records: CHURN_RECORDS });
    const rows = await call(server, 'POST', '/v1/models/churn:predict', { instances: CHURN_RECORDS });
    expect(rows.status).toBe(200);
    expectClose((rows.json as { predictions: number[][] }).predictions, expected);
    const inputs = Object.fromEntries(
      Object.keys(CHURN_RECORDS[0]!).map((k) => [
        k,
        CHURN_RECORDS.map((r) => r[k as keyof (typeof CHURN_RECORDS)[0]]),
      ]),
    );
    const b64 = await call(server, 'POST', '/v1/models/churn:predict', {
      instances: [{ ...CHURN_RECORDS[0], plan: { b64: Buffer.from('basic').toString('base64') } }],
    });
    expectClose((b64.json as { predictions: number[][] }).predictions, expected.slice(0, 1));
    const cols = await call(server, 'POST', '/v1/models/churn:predict', { inputs });
    expectClose((cols.json as { outputs: number[][] }).outputs, expected);
    const classify = await call(server, 'POST', '/v1/models/churn:classify', {
      context: { region: 'north' },
      examples: CHURN_RECORDS.map(({ region: _region, ...rest }) => rest),
    });
    expect(classify.status).toBe(200);
    const results = (classify.json as { results: [string, number][][] }).results;
    expect(results.map((r) => r.map(([label]) => label))).toEqual([
      ['no', 'yes'],
      ['no', 'yes'],
      ['no', 'yes'],
    ]);
    const north = await expectedScores(churn, {
      records: CHURN_RECORDS.map((r) => ({ ...r, region: 'north' })),
    });
    expectClose(
      results.map((r) => r.map(([, score]) => score)),
      north,
    );
  });

  it('a graph that preprocesses itself gets raw columns and answers the same', async () => {
    const expected = await expectedScores(churnGraph, { records: CHURN_RECORDS });
    const r = await call(server, 'POST', '/v1/models/churn-graph:predict', { instances: CHURN_RECORDS });
    expect(r.status).toBe(200);
    expectClose((r.json as { predictions: number[][] }).predictions, expected, 1e-4);
    const state = await call(server, 'GET', '/admin/models/churn-graph', undefined, {
      authorization: 'Bearer test-admin-token-0123456789',
    });
    expect((state.json as { versions: { source: string }[] }).versions[0]?.source).toMatch(
      /preprocessing\/model\.onnx$/,
    );
  });

  it('a version without an ONNX export is served by tfjs', async () => {
    await call(
      server,
      'POST',
      '/admin/models/mnist-tfjs/load',
      {},
      { authorization: 'Bearer test-admin-token-0123456789' },
    );
    const a = pixels(3);
    const r = await call(server, 'POST', '/v1/models/mnist-tfjs:predict', { instances: [a] });
    expect(r.status).toBe(200);
    expectClose(
      (r.json as { predictions: number[][] }).predictions,
      await expectedScores(mnistTfjs, { pixels: [a] }),
    );
    const meta = await call(server, 'GET', '/v2/models/mnist-tfjs');
    expect((meta.json as { platform: string }).platform).toBe('tensorflowjs_layersmodel');
  });
});

describe('batching over HTTP', () => {
  it('requests with their own batches, split and merged across small batches, each get their own rows', async () => {
    const small = await testServer(f, { maxBatch: 3, maxDelayMs: 5, models: ['mnist'] });
    const sizes = [1, 5, 2, 4, 3, 1, 5];
    const requests = sizes.map((n, k) => Array.from({ length: n }, (_, i) => pixels(10 * k + i)));
    const expected = await expectedScores(mnist, { pixels: requests.flat() });
    const replies = await Promise.all(
      requests.map((instances) => call(small, 'POST', '/v1/models/mnist:predict', { instances })),
    );
    let row = 0;
    replies.forEach((r, k) => {
      expect(r.status).toBe(200);
      expectClose(
        (r.json as { predictions: number[][] }).predictions,
        expected.slice(row, row + (sizes[k] as number)),
      );
      row += sizes[k] as number;
    });
    const state = small.manager.describe('mnist').versions[0]!;
    expect(state.largestBatch).toBeLessThanOrEqual(3);
    expect(state.rows).toBe(21);
  });
});

describe('Open Inference Protocol v2', () => {
  it('server live, ready and metadata', async () => {
    expect((await call(server, 'GET', '/v2/health/live')).json).toEqual({ live: true });
    expect((await call(server, 'GET', '/v2/health/ready')).json).toEqual({ ready: true });
    const meta = await call(server, 'GET', '/v2');
    expect(meta.json).toMatchObject({ name: 'modelauto', extensions: ['classification'] });
  });

  it('model metadata and readiness', async () => {
    expect((await call(server, 'GET', '/v2/models/mnist')).json).toEqual({
      name: 'mnist',
      versions: ['1'],
      platform: 'onnx_onnxv1',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 28, 28, 1] }],
      outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 10] }],
    });
    expect((await call(server, 'GET', '/v2/models/churn/versions/1')).json).toMatchObject({
      inputs: expect.arrayContaining([
        { name: 'plan', datatype: 'BYTES', shape: [-1] },
        { name: 'tenure_months', datatype: 'FP32', shape: [-1] },
      ]),
    });
    expect((await call(server, 'GET', '/v2/models/mnist/ready')).json).toEqual({
      name: 'mnist',
      ready: true,
    });
    expect((await call(server, 'GET', '/v2/models/mnist/versions/1/ready')).json).toEqual({
      name: 'mnist',
      ready: true,
    });
  });

  it('the documented inference example: id echoed, UINT32 and BOOL inputs, one requested output', async () => {
    const r = await call(server, 'POST', '/v2/models/flags/infer', {
      id: '42',
      inputs: [
        { name: 'input0', shape: [2], datatype: 'UINT32', data: [1, 2] },
        { name: 'input1', shape: [2, 1], datatype: 'BOOL', data: [[true], [false]] },
      ],
      outputs: [{ name: 'output' }],
    });
    expect(r.status).toBe(200);
    const body = r.json as {
      model_name: string;
      model_version: string;
      id: string;
      outputs: { name: string; shape: number[]; datatype: string; data: number[] }[];
    };
    expect(Object.keys(body)).toEqual(['model_name', 'model_version', 'id', 'outputs']);
    expect(body).toMatchObject({ model_name: 'flags', model_version: '1', id: '42' });
    expect(body.outputs.map(({ name, shape, datatype }) => ({ name, shape, datatype }))).toEqual([
      { name: 'output', shape: [2, 2], datatype: 'FP32' },
    ]);
    const tf = await call(server, 'POST', '/v1/models/flags:predict', {
      instances: [
        { input0: 1, input1: true },
        { input0: 2, input1: false },
      ],
    });
    expectClose([body.outputs[0]!.data], [(tf.json as { predictions: number[][] }).predictions.flat()]);
  });

  it('data flat or nested, any numeric datatype, the id only when sent', async () => {
    const a = pixels(4);
    const expected = (await expectedScores(mnist, { pixels: [a] })).flat();
    for (const [datatype, shape, data] of [
      ['UINT8', [1, 784], a],
      ['FP32', [1, 28, 28], [Array.from({ length: 28 }, (_, r) => a.slice(r * 28, r * 28 + 28))]],
      ['FP64', [1, 28, 28], a],
      ['INT32', [1, 784], a],
      ['FP16', [1, 784], a],
    ] as const) {
      const r = await call(server, 'POST', '/v2/models/mnist/versions/1/infer', {
        inputs: [{ name: 'input', shape, datatype, data }],
      });
      expect(r.status, `${datatype} ${r.text}`).toBe(200);
      const body = r.json as { id?: string; outputs: { data: number[] }[] };
      expect(body.id).toBeUndefined();
      expectClose([body.outputs[0]!.data], [expected]);
    }
  });

  it('classification extension: the top classes as "score:index:label"', async () => {
    const r = await call(server, 'POST', '/v2/models/churn/infer', {
      inputs: Object.keys(CHURN_RECORDS[0]!).map((name) => {
        const values = CHURN_RECORDS.map((rec) => rec[name as keyof (typeof CHURN_RECORDS)[0]]);
        const numeric = typeof values[0] === 'number';
        return { name, shape: [3], datatype: numeric ? 'FP32' : 'BYTES', data: values };
      }),
      outputs: [{ name: 'output', parameters: { classification: 1 } }],
    });
    expect(r.status, r.text).toBe(200);
    const out = (r.json as { outputs: { shape: number[]; datatype: string; data: string[] }[] }).outputs[0]!;
    expect(out.shape).toEqual([3, 1]);
    expect(out.datatype).toBe('BYTES');
    const expected = await expectedScores(churn, { records: CHURN_RECORDS });
    out.data.forEach((s, i) => {
      const [score, index, label] = s.split(':');
      const best = expected[i]![0]! >= expected[i]![1]! ? 0 : 1;
      expect(Number(index)).toBe(best);
      expect(label).toBe(['no', 'yes'][best]);
      expect(Number(score)).toBeCloseTo(expected[i]![best]!, 5);
      expect(score).toMatch(/^\d\.\d{6}$/);
    });
  });
});
