/**
 * Registered models for the server tests, trained for real into a temp SQLite store (small and fast):
 * - `mnist`: raw-pixel images, flatten + dense 10, exported to ONNX; several versions with different seeds;
 * - `half_plus_three`: TF Serving's example model (y = 0.5 x + 3), a one-column regression table model;
 * - `churn`: the CSV example (categorical columns, missing values imputed);
 * - `flags`: a two-column table model with a numeric and a true/false column (the OIP example's types).
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';
import { fromArrays } from '../../src/data/memory.js';
import { runExportJob } from '../../src/pipeline/export-job.js';
import { runTrainJob } from '../../src/pipeline/train-job.js';
import { openStores, type Stores } from '../../src/store/open.js';
import { registerRun } from '../../src/store/register-run.js';
import type { ModelVersionRecord } from '../../src/store/registry.js';
import { startServer, type RunningServer, type StartServerOptions } from '../../src/serve/server.js';

export interface Fixture {
  dir: string;
  stores: Stores;
}

/** A fresh store in a temp folder, closed and removed after the file's tests. */
export async function fixtureStore(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'modelauto-serve-'));
  const stores = await openStores(dir);
  afterAll(async () => {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, stores };
}

async function exportAndRegister(
  f: Fixture,
  runId: string,
  model: string,
  options: { aliases?: string[]; onnx?: boolean; includePreprocessing?: boolean },
): Promise<ModelVersionRecord> {
  if (options.onnx !== false) {
    await runExportJob(runId, {
      store: f.stores.tracking,
      format: 'onnx',
      ...(options.includePreprocessing ? { includePreprocessing: true } : {}),
    });
  }
  return registerRun(f.stores.tracking, f.stores.registry, runId, model, {
    ...(options.aliases ? { aliases: options.aliases } : {}),
    actor: 'test',
  });
}

/** A tiny MNIST model (raw pixels in, 10 softmax scores out), registered as the next version of `name`. */
export async function registerMnist(
  f: Fixture,
  seed: number,
  options: { name?: string; aliases?: string[]; onnx?: boolean; includePreprocessing?: boolean } = {},
): Promise<ModelVersionRecord> {
  const r = await runTrainJob(
    {
      name: `mnist-tiny-${seed}`,
      data: { source: 'mnist', limit: 200, testLimit: 20, split: { validation: 0, seed: 1 } },
      model: { seed, layers: [{ type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }] },
      train: { epochs: 1, batchSize: 50, seed },
    },
    { store: f.stores.tracking },
  );
  return exportAndRegister(f, r.run.id, options.name ?? 'mnist', options);
}

/** TF Serving's half_plus_three: one numeric column `x`, y = 0.5 x + 3 exactly, no scaling. */
export async function registerHalfPlusThree(
  f: Fixture,
  options: { aliases?: string[] } = {},
): Promise<ModelVersionRecord> {
  const xs = [0, 1, 2, 3, 4, 5, 6, 7];
  const dataset = fromArrays({
    x: xs.map((x) => [x]),
    y: xs.map((x) => 0.5 * x + 3),
    featureNames: ['x'],
    task: 'regression',
    name: 'half',
  });
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
  const exact = {
    onTrainEnd: () => model.layers[0]!.setWeights([tf.tensor2d([[0.5]]), tf.tensor1d([3])]),
  };
  const r = await runTrainJob(
    {
      name: 'half-plus-three',
      data: {
        source: 'iris',
        split: { validation: 0, test: 0, stratify: false },
        preprocess: { numeric: 'none' },
      },
      train: { epochs: 1, batchSize: 8, optimizer: { type: 'sgd', learningRate: 0.001 } },
    },
    { store: f.stores.tracking, dataset, model, callbacks: [exact] },
  );
  return exportAndRegister(f, r.run.id, 'half_plus_three', options);
}

/** The churn CSV example, trained briefly. */
export async function registerChurn(
  f: Fixture,
  options: { aliases?: string[]; onnx?: boolean } = {},
): Promise<ModelVersionRecord> {
  const r = await runTrainJob(resolve('examples/churn.yaml'), {
    store: f.stores.tracking,
    overrides: { epochs: 2 },
  });
  return exportAndRegister(f, r.run.id, 'churn', options);
}

/** Two columns, `input0` (numbers) and `input1` (true/false), and classes a / b. */
export async function registerFlags(f: Fixture): Promise<ModelVersionRecord> {
  const csv = join(f.dir, 'flags.csv');
  const lines = ['input0,input1,y'];
  for (let i = 0; i < 40; i++)
    lines.push(`${i % 7},${i % 2 === 0 ? 'true' : 'false'},${i % 2 === 0 ? 'a' : 'b'}`);
  writeFileSync(csv, lines.join('\n') + '\n');
  const r = await runTrainJob(
    {
      name: 'flags',
      data: {
        csv,
        label: 'y',
        numeric: ['input0'],
        categorical: ['input1'],
        split: { validation: 0, test: 0 },
      },
      model: { seed: 2, layers: [{ type: 'dense', units: 2, activation: 'softmax' }] },
      train: { epochs: 2, batchSize: 10 },
    },
    { store: f.stores.tracking },
  );
  return exportAndRegister(f, r.run.id, 'flags', { aliases: ['champion'] });
}

export const TEST_TOKEN = 'test-admin-token-0123456789';

/** The server on 127.0.0.1, any free port, over the fixture's stores; closed after the file's tests. */
export async function testServer(
  f: Fixture,
  options: Omit<StartServerOptions, 'stores'> = {},
): Promise<RunningServer> {
  const server = await startServer({
    stores: f.stores,
    host: '127.0.0.1',
    port: 0,
    pollIntervalMs: 0,
    adminToken: TEST_TOKEN,
    ...options,
  });
  afterAll(() => server.close());
  return server;
}

/** 28x28 raw pixels (0-255) with a bright bar, as MNIST samples look. */
export function pixels(seed = 0): number[] {
  return Array.from(
    { length: 784 },
    (_, i) => ((i * 7 + seed * 13) % 255) * (i % 28 > 10 && i % 28 < 18 ? 1 : 0),
  );
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

// node:http with keep-alive: several times faster than fetch here, and the path goes out exactly as
// written (fetch would resolve "%2e%2e" segments before sending).
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
afterAll(() => agent.destroy());

/** One HTTP request; a string body is sent as is (no content type unless given), anything else as JSON. */
export function call(
  server: RunningServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const url = new URL(server.url);
  return new Promise((resolvePromise, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        agent,
        headers: {
          ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
          ...(payload !== undefined ? { 'content-length': String(Buffer.byteLength(payload)) } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
          resolvePromise({ status: res.statusCode ?? 0, headers: h, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
