import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const store = mkdtempSync(join(tmpdir(), 'modelauto-cli-'));

const cli = (...args: string[]) => runCli(['--store', store, ...args]);

describe('modelauto CLI', () => {
  it('prints help for every command with exit 0', async () => {
    const top = await cli('--help');
    expect(top.code).toBe(0);
    for (const c of ['train', 'evaluate', 'runs', 'quickstart', 'doctor']) expect(top.stdout).toContain(c);
    for (const c of [
      ['train'],
      ['evaluate'],
      ['export'],
      ['registry', 'list'],
      ['runs', 'list'],
      ['runs', 'compare'],
    ]) {
      const r = await cli(...c, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: modelauto/);
    }
  });

  it('exits 2 on usage errors with a message naming the flag', async () => {
    const r = await cli('train', 'examples/iris.yaml', '--epochs', 'zero');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--epochs: expected positive integer, got "zero"');
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('train')).code).toBe(2);
  });

  it('exits 1 with file and line for a bad spec, and prints the error as JSON with --json', async () => {
    const spec = join(store, 'bad.yaml');
    writeFileSync(
      spec,
      'name: x\ndata: { source: iris }\nmodel:\n  layers:\n    - { type: dense, units: 0 }\n',
    );
    const r = await cli('--json', 'train', spec);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.yaml:5: model\.layers\[0\]\.units: expected positive integer/);
    expect(JSON.parse(r.stdout).error.code).toBe('INVALID_SPEC');
  });

  it('trains, lists, shows, compares and evaluates runs, with --json output', async () => {
    const a = await cli('--json', 'train', 'examples/iris.yaml', '--epochs', '5', '--no-progress');
    expect(a.code, a.stderr).toBe(0);
    const ra = JSON.parse(a.stdout);
    expect(ra.run.status).toBe('finished');
    expect(ra.test.scalars.accuracy).toBeGreaterThan(0);
    const b = await cli('train', 'examples/iris.yaml', '--epochs', '3', '--batch-size', '8', '--no-progress');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/confusion matrix/);
    expect(b.stdout).toMatch(/stored in sqlite:/);

    const list = JSON.parse((await cli('--json', 'runs', 'list')).stdout);
    expect(list.length).toBe(2);
    expect((await cli('runs', 'list')).stdout).toMatch(/iris\s+train\s+finished/);
    const show = await cli('runs', 'show', ra.run.id.slice(0, 8));
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('model/model.json');
    const cmp = await cli('runs', 'compare', list[0].id, list[1].id);
    expect(cmp.code).toBe(0);
    expect(cmp.stdout).toMatch(/train\.epochs\s+3\s+5/);
    const ev = await cli('--json', 'evaluate', ra.run.id, '--split', 'validation');
    expect(ev.code, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).split).toBe('validation split');
    expect((await cli('runs', 'show', 'ffffffff')).code).toBe(1);
  });
});

describe('Ctrl-C', () => {
  it('stops after the current batch, records the run as interrupted and exits 1', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        '--store',
        store,
        '--json',
        'train',
        'examples/iris.yaml',
        '--epochs',
        '100000',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // Line logs (not a terminal): interrupt once a few epochs have run.
        if (/Epoch 3\//.test(stderr)) resolve();
      });
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('interrupt: stopping after the current batch');
    const result = JSON.parse(stdout);
    expect(result.run.status).toBe('interrupted');
    expect(result.epochs).toBeGreaterThanOrEqual(2);
  });
});
