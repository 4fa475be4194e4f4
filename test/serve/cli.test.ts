/** `modelauto serve` in a child process: listens, serves, stops cleanly on SIGTERM. */
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import { spawnCli } from '../cli/spawn-cli.js';
import { serveProgram } from './cli-program.js';
import { fixtureStore, pixels, registerMnist } from './fixtures.js';

const f = await fixtureStore();
await registerMnist(f, 1, { aliases: ['champion'] });
const ENTRY = 'test/serve/cli-entry.ts';
const env = { ...process.env, MODELAUTO_STORE: '', MODELAUTO_ADMIN_TOKEN: '' };

describe('modelauto serve', () => {
  it('prints the URL, serves until SIGTERM, then drains and exits 0', async () => {
    const cli = await spawnCli(
      ENTRY,
      ['--store', f.dir, 'serve', '--port', '0', '--models', 'mnist', '--max-delay-ms', '0.5'],
      /listening on (http:\/\/127\.0\.0\.1:\d+)/,
      env,
    );
    const url = cli.url;
    const r = await fetch(`${url}/v1/models/mnist:predict`, {
      method: 'POST',
      body: JSON.stringify({ instances: [pixels(1)] }),
    });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { predictions: number[][] }).predictions[0]).toHaveLength(10);
    const { code, stderr } = await cli.stop();
    expect(code).toBe(0);
    expect(stderr).toContain('mnist: loaded version 1 with onnxruntime');
    expect(stderr).toContain('SIGTERM: shutting down');
    expect(stderr).toContain('stopped');
  });

  it('fails naming an unknown model, or a bad flag, before listening', async () => {
    const run = (...args: string[]) => {
      const program = serveProgram();
      const quiet = (c: typeof program): void => {
        c.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
        c.commands.forEach(quiet);
      };
      quiet(program);
      return program
        .parseAsync(['node', 'modelauto', '--store', f.dir, 'serve', '--port', '0', ...args])
        .then(
          () => undefined,
          (e: unknown) => e,
        );
    };
    const unknown = await run('--models', 'nope');
    expect(unknown).toBeInstanceOf(ModelautoError);
    expect((unknown as ModelautoError).code).toBe('NOT_FOUND');
    expect((unknown as ModelautoError).message).toContain(`no model "nope" in sqlite:${f.dir}`);
    // The global --store also works after the command name.
    const program = serveProgram();
    const after = await program
      .parseAsync(['node', 'modelauto', 'serve', '--store', f.dir, '--models', 'nope', '--port', '0'])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((after as ModelautoError).message).toContain(`in sqlite:${f.dir}`);
    const bad = await run('--max-batch', 'zero');
    expect(bad).toBeInstanceOf(CommanderError);
    expect((bad as CommanderError).message).toContain('--max-batch: expected positive integer, got "zero"');
    const runtime = await run('--runtime', 'gpu');
    expect((runtime as CommanderError).message).toContain(
      '--runtime: expected one of auto, onnx, tfjs, got "gpu"',
    );
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });
});
