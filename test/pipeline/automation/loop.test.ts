/**
 * The drift-triggered retrain loop, end to end on a small MNIST set, everything real: a pipeline
 * trains and registers a champion, deploys it with the live monitor, sends normal digits (nothing
 * fires) and rotated digits with their labels; the drift alert fires (its webhook reaches a local
 * receiver) and starts the retraining pipeline through the automation loop: fresh data (training rows
 * + the labelled feedback from the prediction log), warm-start retrain, gate against @champion on the
 * same holdout, canary (its holdout replayed through the server), @champion. Then two retrains the
 * loop is asked for directly: one whose gate fails and one whose canary check fails — the champion
 * stays where it was, and every alias move is recorded with its reason.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelDetailResponse } from '../../../src/monitor/dashboard/api-types.js';
import { ServerClient } from '../../../src/pipeline/automation/client.js';
import { closeDeployments, requireDeployment } from '../../../src/pipeline/automation/deployments.js';
import { mnistTestDigits, shiftImages } from '../../../src/pipeline/automation/digits.js';
import { onAutomationLog } from '../../../src/pipeline/automation/events.js';
import { scoreVersions } from '../../../src/pipeline/automation/holdout.js';
import type { TriggeredRun } from '../../../src/pipeline/automation/loop.js';
import { startWebhookReceiver } from '../../../src/pipeline/automation/webhook-receiver.js';
import { listPipelineRuns, runPipeline } from '../../../src/pipeline/flow/api.js';
import type { PipelineRunRecord } from '../../../src/store/pipeline-types.js';
import { openStores } from '../../../src/store/open.js';

const dir = mkdtempSync(join(tmpdir(), 'modelauto-loop-'));
const store = join(dir, 'store');
const lines: string[] = [];
const unsubscribe = onAutomationLog((l) => lines.push(`${new Date().toISOString().slice(11, 23)} ${l}`));
const hooks = await startWebhookReceiver();
afterAll(async () => {
  await closeDeployments();
  unsubscribe();
  await hooks.close();
  rmSync(dir, { recursive: true, force: true });
});

const THRESHOLD = 0.3;

writeFileSync(
  join(dir, 'retrain.yaml'),
  `name: digits-retrain
params:
  trigger: a manual run
  min_feedback: 550
  gain: 0
  canary_rows: 20
  canary_timeout: 30s
steps:
  data:
    uses: feedback-data
    with:
      model: mnist
      base: { source: mnist, limit: 1500 }
      feedback:
        minRows: \${{ params.min_feedback }}
        timeout: 30s
      split: { validation: 0.1, test: 0.2, seed: 1 }
  train:
    uses: retrain
    with:
      model: mnist
      data: \${{ steps.data.outputs.spec }}
      epochs: 4
      learningRate: 0.002
  export:
    uses: export
    with: { run: '\${{ steps.train.outputs.run_id }}', format: onnx }
  gate:
    uses: gate
    with:
      run: \${{ steps.train.outputs.run_id }}
      model: mnist
      conditions:
        - test_accuracy >= champion.test_accuracy + \${{ params.gain }}
  register:
    uses: register
    needs: [gate, export]
    with:
      run: \${{ steps.train.outputs.run_id }}
      model: mnist
      description: 'retrained after \${{ params.trigger }}'
  canary:
    uses: promote
    with:
      deployment: mnist
      model: mnist
      version: \${{ steps.register.outputs.version }}
      stage: canary
      percent: 50
      reason: 'retrained after \${{ params.trigger }}'
  probe:
    uses: traffic
    needs: [canary]
    with:
      deployment: mnist
      model: mnist
      source: { run: '\${{ steps.train.outputs.run_id }}', split: test }
      batch: 20
      observe: false
  promote:
    uses: promote
    needs: [probe]
    with:
      deployment: mnist
      model: mnist
      version: \${{ steps.register.outputs.version }}
      stage: champion
      check:
        since: \${{ steps.canary.outputs.at }}
        minRows: \${{ params.canary_rows }}
        timeout: \${{ params.canary_timeout }}
      reason: 'retrained after \${{ params.trigger }}'
`,
);

const lifecycle = join(dir, 'lifecycle.yaml');
writeFileSync(
  lifecycle,
  `name: digits-lifecycle
params:
  webhooks: []
steps:
  train:
    uses: train
    with:
      experiment:
        name: digits
        data: { source: mnist, limit: 2000, testLimit: 200, split: { validation: 0.1, seed: 1 } }
        model:
          seed: 3
          layers:
            - { type: flatten }
            - { type: dense, units: 32, activation: relu }
            - { type: dense, units: 10, activation: softmax }
        train: { epochs: 3, batchSize: 32, seed: 1 }
  export:
    uses: export
    with: { run: '\${{ steps.train.outputs.run_id }}', format: onnx }
  register:
    uses: register
    needs: [export]
    with: { run: '\${{ steps.train.outputs.run_id }}', model: mnist, aliases: [champion] }
  deploy:
    uses: deploy
    needs: [register]
    with:
      model: mnist
      monitor:
        drift: { windowRows: 300, minRows: 150, interval: 1s, options: { numericMethod: ks } }
        quality: { windowRows: 100, interval: 1s }
        alerts:
          interval: 500ms
          rules:
            - name: digits-drift
              metric: drift_share
              model: mnist
              op: '>'
              threshold: ${THRESHOLD}
              webhooks: \${{ params.webhooks }}
              run: { pipeline: retrain.yaml }
  normal:
    uses: traffic
    with: { deployment: '\${{ steps.deploy.outputs.deployment }}', model: mnist, rows: 300, settle: 1s }
  shifted:
    uses: traffic
    needs: [normal]
    with:
      deployment: \${{ steps.deploy.outputs.deployment }}
      model: mnist
      offset: 500
      rows: 300
      shift: rotate
      settle: 1s
  retrain:
    uses: await-retrain
    with:
      deployment: \${{ steps.deploy.outputs.deployment }}
      since: \${{ steps.shifted.outputs.started_at }}
      timeout: 3m
`,
);

function step(run: PipelineRunRecord, id: string) {
  const s = run.steps.find((x) => x.stepId === id);
  if (!s) throw new Error(`no step ${id}`);
  return s;
}

async function trigger(args: Record<string, string | number>): Promise<TriggeredRun> {
  const loop = requireDeployment('mnist').loop;
  const now = Date.now();
  const started = loop.trigger({
    rule: 'manual',
    model: 'mnist',
    pipeline: join(dir, 'retrain.yaml'),
    args,
    event: {
      id: `manual-${now}`,
      rule: 'manual',
      kind: 'firing',
      model: 'mnist',
      metric: 'drift_share',
      feature: null,
      op: '>',
      value: 1,
      threshold: THRESHOLD,
      severity: 'warning',
      labels: {},
      message: 'asked for by the test',
      at: now,
      startsAt: now,
    },
  });
  return loop.wait((r) => r.seq === started.seq, { timeoutMs: 120_000 });
}

let lifecycleRun: PipelineRunRecord;

beforeAll(async () => {
  const r = await runPipeline(lifecycle, { store, set: { webhooks: [hooks.url] }, concurrency: 1 });
  lifecycleRun = r.run;
}, 240_000);

describe('the drift-triggered retrain loop', () => {
  it('normal traffic raises nothing; rotated digits drift, the alert fires and its webhook arrives', () => {
    expect(lifecycleRun.status, `${lifecycleRun.error}\n${lines.join('\n')}`).toBe('finished');
    const normal = step(lifecycleRun, 'normal').outputs ?? {};
    expect(normal['alerts_fired']).toEqual([]);
    expect(normal['drift_share'] as number).toBeLessThan(THRESHOLD);
    expect((normal['versions'] as Record<string, { accuracy: number }>)['1']?.accuracy).toBeGreaterThan(0.8);
    const shifted = step(lifecycleRun, 'shifted').outputs ?? {};
    expect(shifted['alerts_fired']).toEqual(['digits-drift']);
    expect(shifted['drift_share'] as number).toBeGreaterThan(THRESHOLD);
    expect((shifted['versions'] as Record<string, { accuracy: number }>)['1']?.accuracy).toBeLessThan(0.4);
    expect(shifted['feedback_rows']).toBe(300);
    const fired = hooks.received.filter((h) => (h.body as { status?: string }).status === 'firing');
    expect(fired.map((h) => (h.body as { rule: string }).rule)).toContain('digits-drift');
  });

  it('the alert ran the retraining pipeline: gate passed, canary, then @champion', async () => {
    const awaited = step(lifecycleRun, 'retrain').outputs ?? {};
    expect(awaited).toMatchObject({
      status: 'finished',
      rule: 'digits-drift',
      promoted: 'mnist:2',
      version: 2,
    });
    const runs = await listPipelineRuns({ store, name: 'digits-retrain' });
    expect(runs).toHaveLength(1);
    const retrain = runs[0] as PipelineRunRecord;
    expect(retrain.id).toBe(awaited['pipeline_run']);
    expect(retrain.status).toBe('finished');
    // The loop told the run which alert started it.
    expect(String(retrain.params['trigger'])).toMatch(
      /^alert digits-drift fired on mnist at .*drift_share of mnist is/,
    );
    const data = step(retrain, 'data').outputs ?? {};
    expect(data['rows']).toMatchObject({ base: 1500 });
    expect((data['rows'] as { feedback: number }).feedback).toBeGreaterThanOrEqual(550);
    expect(step(retrain, 'gate').outputs).toMatchObject({ passed: true, champion: 'mnist:1' });
    const promote = step(retrain, 'promote').outputs ?? {};
    expect(promote).toMatchObject({ stage: 'champion', version: 2, previous: 1 });
    expect((promote['check'] as { passed: boolean }).passed).toBe(true);

    const stores = await openStores(store);
    try {
      const model = await stores.registry.getModel('mnist');
      expect(model.aliases).toEqual({ champion: 2 });
      const moves = await stores.registry.aliasHistory('mnist');
      const summary = moves.map((m) => [m.alias, m.action, m.fromVersion, m.toVersion]);
      expect(summary).toEqual([
        ['champion', 'set', null, 1],
        ['challenger', 'set', null, 2],
        ['champion', 'set', 1, 2],
        ['challenger', 'delete', 2, null],
      ]);
      expect(moves[1]?.reason).toMatch(/^canary 50%: retrained after alert digits-drift fired/);
      expect(moves[2]?.reason).toMatch(/^promoted: canary: challenger mnist:2 .* >= champion mnist:1/);
      // Warm start: the retrained run is a child of the champion's run.
      const v2 = await stores.registry.getVersion('mnist', 2);
      const v1 = await stores.registry.getVersion('mnist', 1);
      expect((await stores.tracking.getRun(v2.sourceRunId as string)).parentRunId).toBe(v1.sourceRunId);

      // The new champion is better on rotated digits nobody trained on.
      const digits = shiftImages(await mnistTestDigits(9000, 300), { kind: 'rotate', angle: 90 });
      const [old, fresh] = await scoreVersions(stores, 'mnist', [1, 2], digits);
      expect(fresh?.accuracy).toBeGreaterThan((old?.accuracy ?? 1) + 0.1);
    } finally {
      await stores.close();
    }

    // The dashboard shows the moves with their reasons, and the server answers with version 2.
    const client = new ServerClient(requireDeployment('mnist').url);
    const detail = await client.model('mnist');
    expect((detail as ModelDetailResponse).aliasHistory.map((m) => m.reason ?? '').join('\n')).toMatch(
      /retrained after alert digits-drift fired/,
    );
    const answer = await client.infer('mnist', {
      inputs: [{ name: 'input', shape: [1, 28, 28, 1], datatype: 'UINT8', data: new Array(784).fill(0) }],
    });
    expect(answer.model_version).toBe('2');
  }, 60_000);

  it('a retrain whose gate fails leaves the champion and the versions as they were', async () => {
    const run = await trigger({ gain: 0.5 });
    expect(run.state).toBe('gated');
    expect(run.promoted).toBeNull();
    const record = run.record as PipelineRunRecord;
    expect(step(record, 'gate').status).toBe('gated');
    for (const id of ['register', 'canary', 'probe', 'promote'])
      expect(step(record, id).status).toBe('skipped');
    const stores = await openStores(store);
    try {
      expect((await stores.registry.getModel('mnist')).aliases).toEqual({ champion: 2 });
      expect((await stores.registry.listVersions('mnist')).map((v) => v.version)).toEqual([2, 1]);
    } finally {
      await stores.close();
    }
  }, 150_000);

  it('a canary that fails its check is rolled back: the challenger goes, the champion stays', async () => {
    const run = await trigger({ canary_rows: 100_000, canary_timeout: '1s' });
    expect(run.state).toBe('gated');
    const record = run.record as PipelineRunRecord;
    expect(step(record, 'canary').status).toBe('finished');
    expect(step(record, 'promote').status).toBe('gated');
    expect(step(record, 'promote').error).toMatch(/too little labelled traffic/);
    const stores = await openStores(store);
    try {
      expect((await stores.registry.getModel('mnist')).aliases).toEqual({ champion: 2 });
      const last = (await stores.registry.aliasHistory('mnist')).at(-1);
      expect(last).toMatchObject({ alias: 'challenger', action: 'delete', fromVersion: 3 });
      expect(last?.reason).toMatch(/^rolled back: canary: too little labelled traffic/);
    } finally {
      await stores.close();
    }
    const state = await requireDeployment('mnist').control.state('mnist');
    expect(state).toMatchObject({ answering: 2, challenger: null, canaryPercent: 0 });
  }, 150_000);
});
