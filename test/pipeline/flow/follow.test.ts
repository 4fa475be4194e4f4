/**
 * Following a pipeline run from its records, as `pipeline status --follow` does while another process
 * drives the run: step changes (progress in steps of 10%), new log lines in order, the end of the run;
 * an ended run reported once; Ctrl-C (abort) stops watching.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { followPipeline, type FollowEvent } from '../../../src/pipeline/flow/follow.js';
import { openPipelineStore } from '../../../src/store/pipeline-open.js';
import { processOwner } from '../../../src/store/pipeline-sql.js';
import { runCli } from '../../cli/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'modelauto-follow-'));
const store = await openPipelineStore(dir);
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function newRun(): Promise<string> {
  const run = await store.createRun({
    name: 'followed',
    spec: { name: 'followed' },
    params: {},
    file: null,
    baseDir: dir,
    executor: 'local',
    codeVersion: '0.1.0',
    owner: processOwner(),
    steps: [
      { stepId: 'train', uses: 'train', needs: [] },
      { stepId: 'gate', uses: 'gate', needs: ['train'] },
    ],
  });
  return run.id;
}

function describeEvent(e: FollowEvent): string {
  if (e.kind === 'run') return `run ${e.run.status}`;
  if (e.kind === 'log') return `log ${e.line.stepId}: ${e.line.line}`;
  const p = e.step.progress === null ? '' : ` ${Math.round(e.step.progress * 100)}%`;
  return `step ${e.step.stepId} ${e.step.status}${e.step.status === 'running' ? p : ''}`;
}

describe('following a pipeline run', () => {
  it('reports step changes, progress by tenths and new log lines until the run ends', async () => {
    const id = await newRun();
    await store.appendLogs(id, 'train', ['before the follow']);
    const events: string[] = [];
    let notify: () => void = () => undefined;
    const following = followPipeline(id.slice(0, 8), {
      store: dir,
      intervalMs: 20,
      onEvent: (e) => {
        events.push(describeEvent(e));
        notify();
      },
    });
    // Each change waits until the follower has seen the one before.
    const seen = async (text: string): Promise<void> => {
      while (!events.includes(text)) await new Promise<void>((r) => (notify = r));
    };
    await seen('log train: before the follow');
    await store.updateStep(id, 'train', { status: 'running', progress: 0.01, message: 'epoch 1/10' });
    await seen('step train running 1%');
    await store.updateStep(id, 'train', { progress: 0.05 }); // same tenth: not reported
    await sleep(80);
    await store.updateStep(id, 'train', { progress: 0.35, message: 'epoch 4/10' });
    await store.appendLogs(id, 'train', ['epoch 4 loss 0.3', 'epoch 4 val_loss 0.4']);
    await seen('step train running 35%');
    await seen('log train: epoch 4 val_loss 0.4');
    await store.updateStep(id, 'train', { status: 'finished', progress: 1 });
    await store.updateStep(id, 'gate', { status: 'gated', error: 'test_accuracy 0.4 < 0.9' });
    await store.finishRun(id, 'gated', 'gate "gate" failed');
    const status = await following;
    expect(status.run.status).toBe('gated');
    expect(status.logs.map((l) => l.line)).toEqual([
      'before the follow',
      'epoch 4 loss 0.3',
      'epoch 4 val_loss 0.4',
    ]);
    expect(events.slice(0, 8)).toEqual([
      'run running',
      'step train pending',
      'step gate pending',
      'log train: before the follow',
      'step train running 1%',
      'step train running 35%',
      'log train: epoch 4 loss 0.3',
      'log train: epoch 4 val_loss 0.4',
    ]);
    // The last three changes may land in one poll or in two.
    expect(events.slice(8).sort()).toEqual(['run gated', 'step gate gated', 'step train finished']);
  });

  it('reports an ended run once, and stops watching a running one when aborted', async () => {
    const ended = await newRun();
    await store.finishRun(ended, 'interrupted', 'Ctrl-C');
    const events: FollowEvent[] = [];
    const status = await followPipeline(ended, { store: dir, onEvent: (e) => events.push(e) });
    expect(status.run.status).toBe('interrupted');
    expect(events.map((e) => e.kind)).toEqual(['run', 'step', 'step']);

    const running = await newRun();
    const controller = new AbortController();
    const following = followPipeline(running, {
      store: dir,
      intervalMs: 10_000,
      signal: controller.signal,
      onEvent: () => undefined,
    });
    await sleep(100);
    const t0 = Date.now();
    controller.abort();
    expect((await following).run.status).toBe('running');
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('modelauto pipeline status --follow prints the changes to stderr and the status at the end', async () => {
    const id = await newRun();
    await store.updateStep(id, 'train', { status: 'finished' });
    await store.appendLogs(id, 'train', ['trained']);
    setTimeout(() => void store.finishRun(id, 'finished'), 300);
    const r = await runCli(['--store', dir, 'pipeline', 'status', id, '--follow', '--interval', '1']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/step train \(train\): finished/);
    expect(r.stderr).toMatch(/\[train\] trained/);
    expect(r.stderr).toMatch(/pipeline followed [0-9a-f]{8}: finished/);
    expect(r.stdout).toContain('finished');
    const bad = await runCli(['--store', dir, 'pipeline', 'status', id, '--follow', '--interval', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--interval');
  });
});
