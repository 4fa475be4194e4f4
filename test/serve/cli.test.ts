/** `modelauto serve` in a child process: listens, serves, stops cleanly on SIGTERM. */
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fixtureStore, pixels, registerMnist } from './fixtures.js';

const f = await fixtureStore();
await registerMnist(f, 1, { aliases: ['champion'] });
const ENTRY = 'test/serve/cli-entry.ts';
const env = { ...process.env, MODELAUTO_STORE: '', MODELAUTO_ADMIN_TOKEN: '' };

describe('modelauto serve', () => {
  it('prints the URL, serves until SIGTERM, then drains and exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, '--store', f.dir, 'serve', '--port', '0', '--models', 'mnist', '--max-delay-ms', '0.5'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString('utf8');
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1] as string);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
    });
    const r = await fetch(`${url}/v1/models/mnist:predict`, { method: 'POST', body: JSON.stringify({ instances: [pixels(1)] }) });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { predictions: number[][] }).predictions[0]).toHaveLength(10);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('mnist: loaded version 1 with onnxruntime');
    expect(stderr).toContain('SIGTERM: shutting down');
    expect(stderr).toContain('stopped');
  });

  it('exits 1 naming an unknown model, 2 on a bad flag', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', ENTRY, '--store', f.dir, 'serve', '--port', '0', ...args], { env, encoding: 'utf8', timeout: 60_000 });
    const unknown = run('--models', 'nope');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('"nope"');
    const bad = run('--max-batch', 'zero', '--runtime', 'gpu');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--max-batch: expected positive integer, got "zero"');
  });
});
