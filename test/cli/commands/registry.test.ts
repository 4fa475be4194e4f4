import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerRegistry } from '../../../src/cli/commands/registry.js';
import { isModelautoError } from '../../../src/core/errors.js';
import { SqliteTrackingStore } from '../../../src/store/sqlite-store.js';

interface CliResult {
  code: number;
  stdout: string;
  error?: string;
}

/** The registry commands under the CLI's global options, run in this process. */
async function cli(store: string, ...args: string[]): Promise<CliResult> {
  const program = new Command('modelauto').option('--store <uri>').option('--json');
  registerRegistry(program);
  const exitOverride = (c: Command): void => {
    c.exitOverride();
    c.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    c.commands.forEach(exitOverride);
  };
  exitOverride(program);
  let stdout = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  try {
    await program.parseAsync(['node', 'modelauto', '--store', store, ...args]);
    return { code: 0, stdout };
  } catch (e) {
    if (e instanceof CommanderError) return { code: 2, stdout, error: e.message };
    if (isModelautoError(e)) return { code: e.exitCode, stdout, error: e.message };
    throw e;
  } finally {
    spy.mockRestore();
  }
}

describe('modelauto registry', () => {
  let root: string;
  let runId: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'modelauto-cli-registry-'));
    const store = await SqliteTrackingStore.open(root);
    const run = await store.createRun({ kind: 'train', params: { lr: 0.1 }, dataFingerprint: 'fp' });
    await store.logArtifact(run.id, { name: 'model/model.json', data: '{}' });
    await store.logArtifact(run.id, { name: 'model/weights.bin', data: new Uint8Array([1, 2, 3]) });
    await store.logMetric(run.id, 'test_accuracy', 0.93, 0);
    await store.finishRun(run.id, 'finished');
    await store.close();
    runId = run.id;
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('registers, lists, shows, aliases, tags, rolls back and prints the history', async () => {
    const reg = await cli(
      root,
      'registry',
      'register',
      runId.slice(0, 6),
      '--name',
      'mnist',
      '--alias',
      'champion',
      '--tag',
      'stage=dev',
      '--description',
      'first',
    );
    expect(reg.code, reg.error).toBe(0);
    expect(reg.stdout).toMatch(/registered mnist:1 from run [0-9a-f]{32} \(2 artifact\(s\), status ready\)/);
    expect(reg.stdout).toContain('aliases: @champion');
    const second = await cli(root, '--json', 'registry', 'register', runId, '--name', 'mnist');
    expect(JSON.parse(second.stdout)).toMatchObject({
      model: 'mnist',
      version: 2,
      metrics: { test_accuracy: 0.93 },
    });

    const list = await cli(root, 'registry', 'list');
    expect(list.stdout).toMatch(/mnist\s+2\s+2\s+champion → 1/);
    const versions = await cli(root, 'registry', 'list', 'mnist');
    expect(versions.stdout.split('\n').filter((l) => /^\s*[12]\s/.test(l))).toHaveLength(2);

    const show = await cli(root, 'registry', 'show', 'mnist@champion');
    expect(show.stdout).toContain('mnist:1   status: ready   aliases: @champion');
    expect(show.stdout).toContain('description: first');
    expect(show.stdout).toMatch(/model\/weights\.bin\s+3\s+[0-9a-f]{64}/);
    const model = await cli(root, '--json', 'registry', 'show', 'mnist');
    expect(JSON.parse(model.stdout)).toMatchObject({
      kind: 'model',
      model: { name: 'mnist', aliases: { champion: 1 } },
    });

    const moved = await cli(root, 'registry', 'alias', 'mnist', 'champion', '2', '--reason', 'better');
    expect(moved.stdout).toMatch(/mnist@champion: 1 → 2 \(move #\d+\)/);
    const same = await cli(root, 'registry', 'alias', 'mnist', 'champion', '2');
    expect(same.stdout).toContain('already points at version 2');

    const tagged = await cli(root, '--json', 'registry', 'tag', 'mnist:2', 'owner=me', 'note=a=b');
    expect(JSON.parse(tagged.stdout).version.tags).toEqual({ owner: 'me', note: 'a=b' });
    const modelTags = await cli(root, '--json', 'registry', 'tag', 'mnist', 'team=vision');
    expect(JSON.parse(modelTags.stdout).model.tags).toEqual({ team: 'vision' });

    const back = await cli(root, 'registry', 'rollback', 'mnist', 'champion', '--reason', 'regression');
    expect(back.stdout).toMatch(/mnist@champion rolled back: 2 → 1 \(move #\d+, undoing move #\d+\)/);

    const history = await cli(root, '--json', 'registry', 'history', 'mnist', '--alias', 'champion');
    expect(
      JSON.parse(history.stdout).map(
        (m: { action: string; toVersion: number }) => `${m.action}:${m.toVersion}`,
      ),
    ).toEqual(['set:1', 'set:2', 'rollback:1']);
    const table = await cli(root, 'registry', 'history', 'mnist');
    expect(table.stdout).toMatch(/@champion\s+rollback of #\d+\s+2\s+1\s+\S+\s+regression/);

    const status = await cli(root, '--json', 'registry', 'status', 'mnist:2', 'deprecated');
    expect(JSON.parse(status.stdout).status).toBe('deprecated');
    const deleted = await cli(root, 'registry', 'alias', 'mnist', 'champion', '--delete');
    expect(deleted.stdout).toMatch(/mnist@champion deleted \(was version 1\)/);
  });

  it('reports bad input with the right exit code and a message naming the problem', async () => {
    expect((await cli(root, 'registry', 'register', runId)).code).toBe(2);
    const badName = await cli(root, 'registry', 'register', runId, '--name', 'Bad/Name');
    expect(badName.code).toBe(1);
    expect(badName.error).toMatch(/registerVersion\.name: expected a model name/);
    expect((await cli(root, 'registry', 'tag', 'mnist', 'novalue')).error).toMatch(/expected key=value/);
    expect((await cli(root, 'registry', 'alias', 'mnist', 'champion')).code).toBe(2);
    expect((await cli(root, 'registry', 'alias', 'mnist', 'champion', 'x')).code).toBe(2);
    const missing = await cli(root, 'registry', 'show', 'ghost@prod');
    expect(missing.code).toBe(1);
    expect(missing.error).toMatch(/no model "ghost"/);
    expect((await cli(root, 'registry', 'list')).stdout).toMatch(/no registered models yet/);
  });
});
