import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'modelauto-cli-pipeline-'));
const store = join(dir, 'store');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const IRIS = resolve('examples/iris.yaml');

/** The real CLI entry in this process, capturing what it prints. */
const cli = (...args: string[]) => runCli(['--store', store, ...args]);

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const tiny = file(
  'tiny.yaml',
  `name: tiny
params:
  min: 2
steps:
  data:
    uses: data
    with: { experiment: ${IRIS} }
`,
);

describe('modelauto pipeline', () => {
  it('validates a file: exit 1 with file and line for a bad one, 2 for an unknown --set', async () => {
    const bad = file('bad.yaml', 'name: bad\nsteps:\n  a:\n    uses: deploi\n');
    const r = await cli('--json', 'pipeline', 'validate', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /bad\.yaml:4: steps\.a\.uses: unknown step type "deploi"; known: await-retrain, data, deploy, evaluate/,
    );
    expect(JSON.parse(r.stdout).error.code).toBe('INVALID_SPEC');
    const ok = await cli('pipeline', 'validate', tiny, '--set', 'min=3');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/tiny: 1 step\(s\), valid/);
    const set = await cli('pipeline', 'validate', tiny, '--set', 'max=3');
    expect(set.code).toBe(2);
    expect(set.stderr).toMatch(/--set max: no parameter max; parameters: min/);
  });

  it('runs, lists, shows and refuses to resume a finished run', async () => {
    const run = await cli('pipeline', 'run', tiny);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/\[data\] finished/);
    expect(run.stdout).toMatch(/pipeline run [0-9a-f]{32} tiny: finished/);
    expect(run.stdout).toMatch(/data\s+data\s+finished/);
    const again = JSON.parse((await cli('--json', 'pipeline', 'run', tiny)).stdout);
    expect(again.run.steps[0].status).toBe('cached');
    const list = await cli('pipeline', 'list');
    expect(list.stdout.match(/tiny\s+finished/g)).toHaveLength(2);
    const id = again.run.id as string;
    const status = await cli('pipeline', 'status', id.slice(0, 8));
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/lineage/);
    expect(status.stdout).toMatch(/data\s+run\s+[0-9a-f]{32}/);
    const resume = await cli('pipeline', 'resume', id.slice(0, 8));
    expect(resume.code).toBe(1);
    expect(resume.stderr).toMatch(/is finished: there is nothing to resume/);
  });

  it('exits 1 for a gated run and says which condition failed', async () => {
    const gated = file(
      'gated.yaml',
      `name: gated
steps:
  train:
    uses: train
    with: { experiment: ${IRIS}, set: { train.epochs: 1, train.earlyStopping: null } }
  check:
    uses: gate
    with: { run: "\${{ steps.train.outputs.run_id }}", conditions: [test_accuracy > 1] }
`,
    );
    const r = await cli('pipeline', 'run', gated, '--quiet');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/gated: gated in/);
    expect(r.stdout).toMatch(/reason: gate "check" failed: test_accuracy > 1 \(test_accuracy=[0-9.]+ <= 1\)/);
  });
});
