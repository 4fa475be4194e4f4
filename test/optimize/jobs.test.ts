import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerOptimize } from '../../src/cli/commands/optimize.js';
import { loadBundle } from '../../src/pipeline/bundle.js';
import { runEvaluateJob } from '../../src/pipeline/evaluate-job.js';
import {
  runDistillJob,
  runOptimizeSearch,
  runPruneJob,
  runQuantizeJob,
} from '../../src/pipeline/optimize-job.js';
import { runTrainJob } from '../../src/pipeline/train-job.js';
import { tempStore } from '../pipeline/helpers.js';

const { store: st, dir } = await tempStore();
// Few latency rounds: the numbers are not under test here, the records are.
const store = st;
const fast = { store, latencyRounds: 3 };

// A few thousand MNIST rows and the seed MLP: big enough for real numbers, small enough for seconds.
const source = await runTrainJob(
  {
    name: 'mnist-mini',
    data: {
      source: 'mnist',
      limit: 1500,
      testLimit: 500,
      split: { validation: 0.1, seed: 42 },
      preprocess: { pixels: 'scale' },
    },
    model: {
      seed: 7,
      layers: [
        { type: 'flatten' },
        { type: 'dense', units: 64, activation: 'relu' },
        { type: 'dense', units: 32, activation: 'relu' },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
    },
    train: {
      epochs: 3,
      batchSize: 32,
      optimizer: { type: 'adam', learningRate: 0.002 },
      metrics: ['accuracy'],
    },
  },
  { store },
);
const sourceId = source.run.id;
const runCount = async (): Promise<number> => (await store.listRuns()).length;

describe('optimize jobs on a tracked run', () => {
  it('prune + uint8: a tracked candidate linked to its parent, loadable by stock tfjs and by modelauto evaluate', async () => {
    const r = await runPruneJob(
      sourceId,
      { sparsity: 0.8, initialSparsity: 0.5, frequency: 10, epochs: 2 },
      { ...fast, quantize: { dtype: 'uint8' } },
    );
    const c = r.candidate;
    expect(c.status).toBe('finished');
    const run = await store.getRun(c.runId);
    expect(run).toMatchObject({ kind: 'optimize', status: 'finished', parentRunId: sourceId });
    expect(run.tags['technique']).toBe('prune+quantize');
    for (const k of [
      'val_score',
      'test_score',
      'size_raw_bytes',
      'size_gzip_bytes',
      'latency_b1_ms',
      'latency_b128_ms',
      'speedup_b128',
      'onnx_latency_b128_ms',
      'onnx_speedup_b128',
      'size_ratio_gzip',
    ]) {
      expect(Number.isFinite(run.metrics[k]?.value)).toBe(true);
    }
    const layerSparsity = Object.entries(run.metrics).filter(([k]) => k.startsWith('sparsity_'));
    expect(layerSparsity).toHaveLength(3);
    for (const [, m] of layerSparsity) expect(m.value).toBeGreaterThan(0.78);
    expect(c.sizeRatio).toBeGreaterThan(8);
    expect(c.drop).toBeLessThan(0.08);
    const modelJson = JSON.parse((await store.readArtifact(c.runId, 'model/model.json')).toString('utf8'));
    expect(modelJson.weightsManifest[0].weights[0].quantization.dtype).toBe('uint8');
    const bundle = await loadBundle(store, c.runId);
    expect(bundle.model.countParams()).toBe(source.run.params['parameters']);
    const ev = await runEvaluateJob(c.runId, { store });
    expect(ev.evaluation.scalars['accuracy']).toBeCloseTo(c.test, 10);
  });

  it('distill: a narrower student; int8 QAT keeps a float model on the int8 grid', async () => {
    const d = await runDistillJob(sourceId, { width: 0.5, epochs: 2, temperature: 4, alpha: 0.1 }, fast);
    expect(d.candidate.params).toBeLessThan(d.source.params / 1.9);
    expect(d.candidate.validation).toBeGreaterThan(0.6);
    const q = await runQuantizeJob(sourceId, { dtype: 'int8', qatEpochs: 1 }, fast);
    expect(q.candidate.status).toBe('finished');
    const b = await loadBundle(store, q.candidate.runId);
    const k = b.model.layers[1]!.getWeights()[0]!;
    const scale = tf.tidy(() => tf.max(tf.abs(k), 0).div(127));
    const steps = tf.tidy(() => k.div(scale).sub(k.div(scale).round()).abs().max().dataSync()[0] as number);
    expect(steps).toBeLessThan(1e-3);
  });

  it('refuses bad input with a clear message before any run is created', async () => {
    const before = await runCount();
    await expect(runPruneJob(sourceId, { sparsity: 1 }, { store })).rejects.toThrow(
      'candidate.prune.sparsity: expected a sparsity in [0, 1)',
    );
    await expect(runPruneJob(sourceId, { sparsity: -0.2 }, { store })).rejects.toThrow(
      /sparsity in \[0, 1\)/,
    );
    await expect(runPruneJob(sourceId, { sparsity: 0.5, skip: ['dense_Nope'] }, { store })).rejects.toThrow(
      /prune\.skip: unknown layer "dense_Nope"; the model's layers are/,
    );
    await expect(
      runDistillJob(
        sourceId,
        { student: { layers: [{ type: 'flatten' }, { type: 'dense', units: 7, activation: 'softmax' }] } },
        { store },
      ),
    ).rejects.toThrow('the teacher outputs shape [batch, 10] but the student outputs [batch, 7]');
    await expect(
      runQuantizeJob(sourceId, { dtype: 'uint8', layers: { nope: 'uint16' } }, { store }),
    ).rejects.toThrow(/quantize\.layers: unknown layer "nope"/);
    await expect(runOptimizeSearch(sourceId, { tolerance: -0.01 }, { store })).rejects.toThrow(
      'optimize.tolerance: expected a tolerance >= 0',
    );
    await expect(runOptimizeSearch(sourceId, { budget: '3 bananas' }, { store })).rejects.toThrow(
      /expected <n>trials or <n>minutes/,
    );
    expect(await runCount()).toBe(before);
  });

  it('search: tracked candidates, Pareto table, best within tolerance; an interrupted search resumes', async () => {
    const candidates = [
      { quantize: { dtype: 'uint8' } },
      { prune: { sparsity: 0.5, epochs: 1, frequency: 10 }, quantize: { dtype: 'uint8' } },
      { quantize: { dtype: 'float16' } },
    ];
    const controller = new AbortController();
    const lines: string[] = [];
    const first = await runOptimizeSearch(
      sourceId,
      { tolerance: 0.02, budget: '3trials', candidates },
      {
        ...fast,
        signal: controller.signal,
        // Ctrl-C while the second candidate fine-tunes.
        log: (l) => {
          lines.push(l);
          if (l.includes('pruning to 0.5')) controller.abort();
        },
      },
    );
    expect(first.stopReason).toBe('interrupted');
    expect(first.run.status).toBe('interrupted');
    expect(first.rows.map((r) => r.key)).toEqual(['uint8']);
    expect(lines.some((l) => l.startsWith('candidate 1/3 uint8'))).toBe(true);

    const second = await runOptimizeSearch(
      sourceId,
      { tolerance: 0.02, budget: '3trials', candidates, resume: true },
      fast,
    );
    expect(second.run.status).toBe('finished');
    expect(second.rootId).toBe(first.run.id);
    expect(second.rows.map((r) => [r.key, r.resumed])).toEqual([
      ['uint8', true],
      ['prune-0.5+uint8', false],
      ['float16', false],
    ]);
    expect(second.stopReason).toBe('budget');
    const best = second.best!;
    expect(best.withinTolerance && best.pareto).toBe(true);
    // Best = the smallest gzipped model within tolerance.
    const within = second.rows.filter((r) => r.withinTolerance);
    expect(best.size.gzipBytes).toBe(Math.min(...within.map((r) => r.size.gzipBytes)));
    for (const row of second.rows) expect((await store.getRun(row.runId)).parentRunId).toBe(sourceId);
    // The interrupted prune candidate is on record as interrupted; uint8 ran once.
    const optimizeRuns = await store.listRuns({ kind: 'optimize' });
    const uint8Runs = optimizeRuns.filter(
      (r) => r.tags['search_root'] === first.run.id && r.tags['candidate'] === 'uint8',
    );
    expect(uint8Runs).toHaveLength(1);
    expect(
      optimizeRuns.some((r) => r.tags['candidate'] === 'prune-0.5+uint8' && r.status === 'interrupted'),
    ).toBe(true);
    await expect(
      runOptimizeSearch(
        sourceId,
        { tolerance: 0.02, budget: '3trials', candidates, resume: true },
        { store },
      ),
    ).rejects.toThrow(/--resume: no unfinished optimize search/);
  });
});

/** The optimize commands in-process, as the CLI program registers them; returns stdout. */
async function cli(...args: string[]): Promise<string> {
  const program = new Command('modelauto').option('--store <uri>').option('--json').exitOverride();
  registerOptimize(program);
  program.commands.forEach((c) => c.exitOverride());
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  const stderr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    await program.parseAsync(['node', 'modelauto', '--store', dir, ...args]);
  } finally {
    process.stdout.write = write;
    process.stderr.write = stderr;
  }
  return out;
}

describe('optimize CLI commands', () => {
  it('quantize --json prints the candidate; the human output has the size table', async () => {
    const json = JSON.parse(
      await cli(
        '--json',
        'quantize',
        sourceId.slice(0, 8),
        '--dtype',
        'float16',
        '--no-progress',
        '--latency-rounds',
        '3',
      ),
    );
    expect(json.candidate.status).toBe('finished');
    expect(json.candidate.sizeRatio).toBeGreaterThan(1.5);
    expect(json.source.runId).toBe(sourceId);
    const text = await cli(
      'prune',
      sourceId,
      '--structured',
      '0.5',
      '--epochs',
      '1',
      '--no-progress',
      '--latency-rounds',
      '3',
    );
    expect(text).toMatch(/candidate structured-0\.5: run [0-9a-f]{32}/);
    expect(text).toMatch(/per layer/);
  });

  it('usage errors name the flag', async () => {
    await expect(cli('prune', sourceId)).rejects.toThrow('prune: give --sparsity, --m-by-n or --structured');
    await expect(cli('optimize', sourceId, '--objective', 'speed')).rejects.toThrow(
      /--objective: expected one of size, latency, got "speed"/,
    );
    await expect(cli('prune', sourceId, '--m-by-n', '2-4')).rejects.toThrow(
      /--m-by-n: expected m:n such as 2:4/,
    );
  });
});
