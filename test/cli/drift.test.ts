import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { DRIFT_EXIT_CODE } from '../../src/cli/commands/drift.js';
import { Rng } from '../../src/core/rng.js';

const dir = mkdtempSync(join(tmpdir(), 'modelauto-drift-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args);

/** Rows of age (numeric), income (numeric), plan (categorical, one label needing HTML escaping), churned (binary). */
function rows(seed: number, n: number, shift: boolean): string[][] {
  const rng = new Rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  return Array.from({ length: n }, () => {
    const u = rng.next();
    const plan = shift
      ? u < 0.2
        ? 'basic'
        : u < 0.4
          ? 'pro'
          : '<b>"team"&co</b>'
      : u < 0.5
        ? 'basic'
        : u < 0.8
          ? 'pro'
          : '<b>"team"&co</b>';
    return [
      (40 + 10 * normal() + (shift ? 8 : 0)).toFixed(2),
      (3000 + 500 * normal() + (shift ? 400 : 0)).toFixed(0),
      plan,
      rng.next() < (shift ? 0.5 : 0.3) ? 'yes' : 'no',
    ];
  });
}

function csv(name: string, header: string[], body: string[][]): string {
  const quote = (s: string) => (/[",]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const path = join(dir, name);
  writeFileSync(path, [header, ...body].map((r) => r.map(quote).join(',')).join('\n') + '\n');
  return path;
}

const HEADER = ['age', 'income', 'plan', 'churned'];
const ref = csv('reference.csv', HEADER, rows(1, 400, false));
const same = csv('same.csv', HEADER, rows(2, 300, false));
const shifted = csv('shifted.csv', HEADER, rows(3, 300, true));

describe('modelauto drift', () => {
  it('prints a table and the dataset verdict; exit 0 either way without --fail-on-drift', async () => {
    const a = await cli('drift', '--reference', ref, '--current', same);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/feature\s+method\s+statistic\s+p-value\/score\s+psi\s+drifted/);
    expect(a.stdout).toMatch(/^age\s+ks\s/m);
    expect(a.stdout).toMatch(/^plan\s+chisquare\s/m);
    expect(a.stdout).toMatch(/^churned\s+ztest\s/m);
    expect(a.stdout).toMatch(/no dataset drift: \d of 4 columns drifted/);
    const b = await cli('drift', '--reference', ref, '--current', shifted);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/DATASET DRIFT: 4 of 4 columns drifted/);
  });

  it('--fail-on-drift exits with the documented code only when the dataset drifted', async () => {
    expect((await cli('drift', '--reference', ref, '--current', shifted, '--fail-on-drift')).code).toBe(
      DRIFT_EXIT_CODE,
    );
    expect(DRIFT_EXIT_CODE).toBe(3);
    expect((await cli('drift', '--reference', ref, '--current', same, '--fail-on-drift')).code).toBe(0);
  });

  it('--json prints the report; --method/--threshold/--correction reach the engine', async () => {
    const r = await cli(
      '--json',
      'drift',
      '--reference',
      ref,
      '--current',
      shifted,
      '--method',
      'psi',
      '--threshold',
      '0.2',
      '--correction',
      'bonferroni',
    );
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.report.correction).toBe('bonferroni');
    expect(j.report.features.map((f: { method: string }) => f.method)).toEqual(['psi', 'psi', 'psi', 'psi']);
    expect(j.report.features[0].threshold).toBe(0.2);
    expect(j.reference).toMatchObject({ rows: 400, columns: 4, format: 'csv' });
    const big = await cli(
      '--json',
      'drift',
      '--reference',
      ref,
      '--current',
      same,
      '--reference-rows',
      '50000',
      '--skip',
      'churned',
    );
    expect(JSON.parse(big.stdout).report.features.map((f: { method: string }) => f.method)).toEqual([
      'wasserstein',
      'wasserstein',
      'jensenshannon',
    ]);
  });

  it('writes one self-contained, escaped HTML report atomically', async () => {
    const html = join(dir, 'out', 'report.html');
    const r = await cli('drift', '--reference', ref, '--current', shifted, '--html', html);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`report: ${html}`);
    const text = readFileSync(html, 'utf8');
    expect(text.startsWith('<!doctype html>')).toBe(true);
    expect(text).toContain('<style>');
    expect((text.match(/<svg /g) ?? []).length).toBe(4);
    // no scripts, no external assets
    expect(text).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/i);
    // the category label is data: escaped, never markup
    expect(text).not.toContain('<b>"team"&co</b>');
    expect(text).toContain('&lt;b&gt;&quot;team&quot;&amp;co&lt;/b&gt;');
    expect(text).toContain('Dataset drift detected');
    // no temporary file left next to it
    expect(existsSync(join(dir, 'out'))).toBe(true);
    expect(readFileSync(html, 'utf8')).toBe(text);
  });

  it('reads JSON Lines too', async () => {
    const jl = join(dir, 'current.jsonl');
    writeFileSync(
      jl,
      rows(4, 120, false)
        .map(([age, income, plan, churned]) =>
          JSON.stringify({ age: Number(age), income: Number(income), plan, churned }),
        )
        .join('\n'),
    );
    const r = await cli('--json', 'drift', '--reference', ref, '--current', jl);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).current).toMatchObject({ rows: 120, format: 'jsonl' });
  });

  it('column mismatches and bad values name the file, line and column (exit 1)', async () => {
    const missing = csv(
      'missing.csv',
      ['age', 'income', 'plan'],
      rows(5, 50, false).map((r) => r.slice(0, 3)),
    );
    const a = await cli('drift', '--reference', ref, '--current', missing);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain(
      `${missing}:1, column "churned": column "churned" of the reference (${ref}) is missing`,
    );
    const extra = csv(
      'extra.csv',
      [...HEADER, 'id'],
      rows(5, 50, false).map((r, i) => [...r, String(i)]),
    );
    const b = await cli('drift', '--reference', ref, '--current', extra);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/column "id": column "id" is not in the reference/);
    expect((await cli('drift', '--reference', ref, '--current', extra, '--skip', 'id')).code).toBe(0);
    const body = rows(6, 50, false);
    (body[6] as string[])[0] = 'forty';
    const bad = csv('bad.csv', HEADER, body);
    const c = await cli('drift', '--reference', ref, '--current', bad);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain(
      `${bad}:8, column "age": non-numeric value "forty" in a column that is numeric in the reference (${ref}); expected a number`,
    );
    const d = await cli('drift', '--reference', join(dir, 'nope.csv'), '--current', same);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/nope\.csv: data file not found/);
  });

  it('usage errors exit 2', async () => {
    expect((await cli('drift', '--reference', ref)).code).toBe(2);
    expect((await cli('drift', '--reference', ref, '--current', same, '--method', 'magic')).code).toBe(2);
    const t = await cli('drift', '--reference', ref, '--current', same, '--threshold', '0.1');
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/--threshold needs --method/);
  });
});
