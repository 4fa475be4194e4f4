import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import { fromArrays } from '../../src/data/memory.js';
import { ARTIFACTS, loadBundle } from '../../src/pipeline/bundle.js';
import { runEvaluateJob } from '../../src/pipeline/evaluate-job.js';
import { runTrainJob } from '../../src/pipeline/train-job.js';
import { BaseCallback } from '../../src/train/callbacks.js';
import { listEventFiles, readEventFile } from '../../src/train/tensorboard/index.js';
import { IRIS_SPEC, tempStore } from './helpers.js';

const { store, dir } = await tempStore();

describe('runTrainJob', () => {
  it('trains iris end to end and records params, metrics per epoch, artifacts and the test evaluation', async () => {
    const r = await runTrainJob(
      { ...IRIS_SPEC, train: { ...IRIS_SPEC.train, tensorboard: true } },
      { store },
    );
    expect(r.run.status).toBe('finished');
    expect(r.sizes).toEqual({ train: 90, validation: 30, test: 30 });
    expect(r.test?.scalars['accuracy']).toBeGreaterThan(0.85);

    const run = await store.getRun(r.run.id);
    expect(run.kind).toBe('train');
    expect(run.params['loss']).toBe('categoricalCrossentropy');
    expect(run.params['classes']).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(run.dataFingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(run.metrics['test_accuracy']?.value).toBe(r.test?.scalars['accuracy']);
    const losses = await store.getMetricHistory(r.run.id, 'loss');
    expect(losses.map((p) => p.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(losses[39]!.value).toBeLessThan(losses[0]!.value);
    const names = run.artifacts.map((a) => a.name);
    for (const a of Object.values(ARTIFACTS)) expect(names).toContain(a);
    expect(names.some((n) => n.startsWith('tensorboard/train/events.out.tfevents.'))).toBe(true);

    // TensorBoard: one epoch_loss point per epoch, steps 1..40, values equal to the recorded metrics.
    const [trainFile] = listEventFiles(join(r.runDir, 'tensorboard', 'train'));
    const scalars = readEventFile(trainFile!).flatMap((e) =>
      (e.summary?.value ?? []).map((v) => ({ step: e.step, ...v })),
    );
    const tbLoss = scalars.filter((s) => s.tag === 'epoch_loss');
    expect(tbLoss.map((s) => s.step)).toEqual(losses.map((p) => p.step));
    tbLoss.forEach((s, i) => expect(s.simpleValue).toBeCloseTo(losses[i]!.value, 5));
    const [valFile] = listEventFiles(join(r.runDir, 'tensorboard', 'val'));
    expect(
      readEventFile(valFile!).some((e) => e.summary?.value.some((v) => v.tag === 'epoch_accuracy')),
    ).toBe(true);

    // The stored bundle predicts exactly what the trained model predicted.
    const bundle = await loadBundle(store, r.run.id);
    const x = tf.tensor2d([[0.1, -0.5, 1.2, 0.8]]);
    const a = (bundle.model.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(a).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);

    // Evaluating the run again on its test split reproduces the training-time evaluation.
    const ev = await runEvaluateJob(r.run.id.slice(0, 6), { store });
    expect(ev.run.kind).toBe('evaluate');
    expect(ev.run.parentRunId).toBe(r.run.id);
    expect(ev.evaluation.scalars['accuracy']).toBeCloseTo(r.test!.scalars['accuracy']!, 10);
    expect(ev.evaluation.confusionMatrix).toEqual(r.test!.confusionMatrix);
    expect((await store.getRun(ev.run.id)).metrics['f1_macro']?.value).toBeCloseTo(
      r.test!.scalars['f1_macro']!,
      10,
    );
  });

  it('trains the CSV example with categorical columns and evaluates a new file', async () => {
    const r = await runTrainJob('examples/churn.yaml', { store, overrides: { epochs: 8 } });
    expect(r.run.status).toBe('finished');
    expect(r.test?.classes).toEqual(['no', 'yes']);
    const pre = JSON.parse((await store.readArtifact(r.run.id, ARTIFACTS.preprocessor)).toString('utf8'));
    expect(JSON.stringify(pre)).toContain('enterprise');
    const csv = join(dir, 'new-customers.csv');
    writeFileSync(
      csv,
      'customer_id,plan,region,tenure_months,monthly_spend,support_tickets,autopay,churned\n' +
        'X1,basic,south,2,19.5,6,no,yes\nX2,enterprise,north,60,150,0,yes,no\nX3,pro,,30,50,1,yes,no\n',
    );
    const ev = await runEvaluateJob(r.run.id, { store, data: csv, output: join(dir, 'eval.json') });
    expect(ev.evaluation.n).toBe(3);
    expect(ev.split).toContain('new-customers.csv');
  });

  it('trains a model built in code on an in-memory data set', async () => {
    const x = Array.from({ length: 60 }, (_, i) => [
      i % 2 ? 1 + (i % 7) / 10 : -1 - (i % 5) / 10,
      (i % 3) / 3,
    ]);
    const y = x.map((r) => (r[0]! > 0 ? 'pos' : 'neg'));
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [2], units: 4, activation: 'relu' }),
        tf.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    const r = await runTrainJob(
      {
        name: 'in-code',
        data: { source: 'iris', split: { validation: 0.2, test: 0.2 } },
        train: { epochs: 30, optimizer: { type: 'adam', learningRate: 0.05 } },
      },
      { store, model, dataset: fromArrays({ x, y, name: 'toy' }) },
    );
    expect(r.run.status).toBe('finished');
    expect(r.test?.scalars['accuracy']).toBeGreaterThan(0.8);
  });

  it('records a failure as a failed run with the error, and rethrows it', async () => {
    const boom = new (class extends BaseCallback {
      onEpochEnd(epoch: number) {
        if (epoch === 1) throw new Error('disk full while writing logs');
      }
    })();
    await expect(runTrainJob(IRIS_SPEC, { store, callbacks: [boom] })).rejects.toThrow(/disk full/);
    const [last] = await store.listRuns({ limit: 1 });
    expect(last?.status).toBe('failed');
    expect(last?.error).toMatch(/disk full while writing logs/);
    expect(last?.metrics['loss']?.step).toBe(2);
  });

  it('records a model that does not fit the data as a failed run naming the layer', async () => {
    const bad = {
      ...IRIS_SPEC,
      model: { layers: [{ type: 'dense' as const, units: 4, activation: 'softmax' as const }] },
    };
    const err = await runTrainJob(bad, { store }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelautoError);
    expect((err as ModelautoError).message).toMatch(
      /model\.layers\[0\]: the model outputs shape \[batch, 4\] .* needs \[batch, 3\]/,
    );
    const [last] = await store.listRuns({ limit: 1 });
    expect(last?.status).toBe('failed');
  });

  it('records Ctrl-C as an interrupted run', async () => {
    const controller = new AbortController();
    const stopper = new (class extends BaseCallback {
      onBatchEnd() {
        if (this.ctx.globalStep === 7) controller.abort();
      }
    })();
    const r = await runTrainJob(IRIS_SPEC, { store, callbacks: [stopper], signal: controller.signal });
    expect(r.run.status).toBe('interrupted');
    expect(r.run.error).toMatch(/interrupted/);
    expect(r.fit.epochsCompleted).toBe(1);
    expect(r.test).toBeUndefined();
  });
});
