/** The monitor config: defaults, durations, and errors that name the file, line and field. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMonitorConfig, parseMonitorConfig } from '../../../src/monitor/live/config-file.js';

const dir = mkdtempSync(join(tmpdir(), 'modelauto-monitor-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('monitor config', () => {
  it('has defaults for everything', () => {
    const c = parseMonitorConfig(undefined);
    expect(c.predictionLog).toMatchObject({
      enabled: true,
      sampleRate: 1,
      maxRows: 100_000,
      maxAge: 7 * 86_400_000,
    });
    expect(c.quality).toMatchObject({ windowRows: 500, windowAge: null, interval: 10_000 });
    expect(c.drift).toMatchObject({
      enabled: true,
      windowRows: 500,
      minRows: 100,
      interval: 30_000,
      topFeatures: 20,
    });
    expect(c.drift.options).toMatchObject({ correction: 'fdr', driftShare: 0.5 });
    expect(c.traffic).toMatchObject({ interval: 5_000, keep: 720 });
    expect(c.alerts.rules).toEqual([]);
  });

  it('reads a YAML file with durations and alert rules', () => {
    const c = loadMonitorConfig(
      file(
        'ok.yaml',
        [
          'predictionLog: { sampleRate: 0.25, maxRows: 5000, maxAge: 2d }',
          'quality: { windowRows: null, windowAge: 30m }',
          'drift:',
          '  windowRows: 200',
          '  interval: 1m',
          '  options: { correction: bonferroni }',
          'alerts:',
          '  rules:',
          '    - { name: low-acc, metric: live_accuracy, op: "<", threshold: 0.8, window: 200 rows }',
        ].join('\n'),
      ),
    );
    expect(c.predictionLog).toMatchObject({ sampleRate: 0.25, maxRows: 5000, maxAge: 2 * 86_400_000 });
    expect(c.quality).toMatchObject({ windowRows: null, windowAge: 1_800_000 });
    expect(c.drift).toMatchObject({ windowRows: 200, interval: 60_000 });
    expect(c.drift.options.correction).toBe('bonferroni');
    expect(c.alerts.rules[0]).toMatchObject({
      name: 'low-acc',
      op: '<',
      window: { kind: 'rows', rows: 200 },
    });
  });

  it('names the file, the line and the field of a bad value', () => {
    const bad = file(
      'bad.yaml',
      ['traffic:', '  interval: 5s', 'predictionLog:', '  sampleRate: 2', ''].join('\n'),
    );
    expect(() => loadMonitorConfig(bad)).toThrow(`${bad}:4: predictionLog.sampleRate: expected a rate <= 1`);
    const unknown = file('unknown.yaml', 'drift:\n  windowRow: 10\n');
    expect(() => loadMonitorConfig(unknown)).toThrow(/unknown\.yaml:2: drift\.windowRow: unknown key/);
    const dur = file('dur.yaml', 'quality:\n  interval: 10\n');
    expect(() => loadMonitorConfig(dur)).toThrow(
      /dur\.yaml:2: quality\.interval: expected a duration like 30s/,
    );
    const rule = file(
      'rule.yaml',
      'alerts:\n  rules:\n    - name: r\n      metric: live_f1\n      op: ">"\n',
    );
    expect(() => loadMonitorConfig(rule)).toThrow(/rule\.yaml:3: alerts\.rules\[0\]\.threshold: required/);
    expect(() => loadMonitorConfig(file('yaml.yaml', 'drift: [\n'))).toThrow(/yaml\.yaml:\d+: invalid YAML/);
    expect(() => loadMonitorConfig(join(dir, 'missing.yaml'))).toThrow(
      /cannot read the monitor config .*ENOENT/,
    );
    expect(() => parseMonitorConfig({ drift: { windowRows: null } })).toThrow(
      /drift\.windowRows: windowRows and windowAge cannot both be null/,
    );
  });
});
