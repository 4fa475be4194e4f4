import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelautoError } from '../../../src/core/errors.js';
import { loadAlertingFile, parseAlerting } from '../../../src/monitor/alerts/config.js';
import { formatDuration, parseDuration, parseWindow } from '../../../src/monitor/alerts/duration.js';
import { ALERT_METRIC_NAMES, compare } from '../../../src/monitor/alerts/rule.js';

function errorOf(fn: () => unknown): ModelautoError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelautoError);
    return e as ModelautoError;
  }
  throw new Error('expected an error');
}

const base = { name: 'r', metric: 'drift_share', op: '>', threshold: 0.5 };

describe('durations and windows', () => {
  it('reads Prometheus-style durations and row windows', () => {
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    for (const bad of ['', '5', 'm', '5 m', '-1s', '1y', '1m 2s']) expect(parseDuration(bad)).toBeUndefined();
    expect(parseWindow('500 rows')).toEqual({ kind: 'rows', rows: 500 });
    expect(parseWindow('1row')).toEqual({ kind: 'rows', rows: 1 });
    expect(parseWindow('5m')).toEqual({ kind: 'duration', ms: 300_000 });
    expect(formatDuration(5_400_250)).toBe('1h30m250ms');
    expect(formatDuration(0)).toBe('0s');
  });
});

describe('AlertingSchema', () => {
  it('fills the defaults and turns durations into milliseconds', () => {
    const cfg = parseAlerting({ rules: [{ ...base, window: '500 rows', for: '2m', keepFiringFor: '30s' }] });
    expect(cfg.interval).toBe(15_000);
    expect(cfg.delivery).toEqual({
      attempts: 5,
      timeoutMs: 5000,
      backoffMs: 500,
      maxBackoffMs: 30_000,
      flushTimeoutMs: 5000,
      queueLimit: 1000,
    });
    expect(cfg.rules[0]).toEqual({
      name: 'r',
      metric: 'drift_share',
      feature: null,
      model: null,
      op: '>',
      threshold: 0.5,
      window: { kind: 'rows', rows: 500 },
      forMs: 120_000,
      keepFiringForMs: 30_000,
      severity: 'warning',
      labels: {},
      annotations: {},
      webhooks: [],
      run: null,
    });
    expect(parseAlerting(undefined)).toMatchObject({ interval: 15_000, rules: [] });
  });

  it('accepts every metric, op words for YAML, and dataset_drift without op or threshold', () => {
    const rules = ALERT_METRIC_NAMES.map((metric, i) => ({
      name: `r${i}`,
      metric,
      op: 'lte',
      threshold: 0.25,
      ...(metric === 'feature_drift' ? { feature: 'pixel_1' } : {}),
    }));
    const cfg = parseAlerting({ rules: [...rules, { name: 'ds', metric: 'dataset_drift', for: 0 }] });
    expect(cfg.rules.map((r) => r.op)).toEqual([...rules.map(() => '<='), '>=']);
    expect(cfg.rules.at(-1)).toMatchObject({ op: '>=', threshold: 1, forMs: 0 });
    expect(cfg.rules.find((r) => r.metric === 'feature_drift')?.feature).toBe('pixel_1');
  });

  it('takes labels, annotations, webhooks and a pipeline to run', () => {
    const cfg = parseAlerting({
      interval: '5s',
      delivery: { attempts: 3, timeout: '2s', backoff: '100ms', maxBackoff: '1s', flushTimeout: '3s' },
      rules: [
        {
          ...base,
          model: 'mnist',
          severity: 'critical',
          labels: { team: 'vision' },
          annotations: { runbook: 'https://wiki/drift' },
          webhooks: ['http://127.0.0.1:9093/hook', 'https://user:pw@hooks.example/x?token=1'],
          run: { pipeline: 'pipelines/retrain.yaml', args: { epochs: 3, fast: true } },
        },
      ],
    });
    expect(cfg.interval).toBe(5000);
    expect(cfg.delivery).toMatchObject({ attempts: 3, timeoutMs: 2000, backoffMs: 100, maxBackoffMs: 1000 });
    expect(cfg.rules[0]).toMatchObject({
      model: 'mnist',
      severity: 'critical',
      labels: { team: 'vision' },
      run: { pipeline: 'pipelines/retrain.yaml', args: { epochs: 3, fast: true } },
    });
  });

  it.each([
    [{ rules: [{ ...base, op: '=>' }] }, /alerts\.rules\[0\]\.op: expected one of ">", ">=", "<", "<="/],
    [{ rules: [{ ...base, op: undefined }] }, /alerts\.rules\[0\]\.op: required/],
    [{ rules: [{ ...base, threshold: undefined }] }, /alerts\.rules\[0\]\.threshold: required/],
    [
      { rules: [{ ...base, metric: 'accuracy' }] },
      /alerts\.rules\[0\]\.metric: expected one of "drift_share"/,
    ],
    [
      { rules: [{ ...base, metric: 'feature_drift' }] },
      /alerts\.rules\[0\]\.feature: required for feature_drift/,
    ],
    [
      { rules: [{ ...base, feature: 'x' }] },
      /alerts\.rules\[0\]\.feature: only feature_drift takes a feature/,
    ],
    [
      { rules: [{ ...base, threshold: 1.5 }] },
      /threshold: drift_share is in \[0, 1\].*1\.5 could never be crossed/,
    ],
    [
      { rules: [{ ...base, metric: 'p99_latency_seconds', window: '500 rows' }] },
      /window: p99_latency_seconds is computed over time/,
    ],
    [
      { rules: [{ ...base, window: 500 }] },
      /window: expected a duration like 5m or a row count like 500 rows/,
    ],
    [{ rules: [{ ...base, for: 30 }] }, /for: expected a duration .*a bare number is ambiguous/],
    [{ rules: [{ ...base, for: '5 minutes' }] }, /for: expected a duration like 30s/],
    [{ rules: [{ ...base, model: 'MNIST' }] }, /alerts\.rules\[0\]\.model: expected a model name/],
    [{ rules: [{ ...base, labels: { '1x': 'a' } }] }, /labels\["1x"\]: expected a label name/],
    [
      { rules: [{ ...base, webhooks: ['ftp://x/y'] }] },
      /webhooks\[0\]: expected an http:\/\/ or https:\/\/ URL/,
    ],
    [{ rules: [{ ...base, run: { args: {} } }] }, /run\.pipeline: required/],
    [{ rules: [{ ...base, thresold: 1 }] }, /alerts\.rules\[0\]\.thresold: unknown key/],
    [{ rules: [base, { ...base }] }, /alerts\.rules\[1\]\.name: duplicate rule name "r" \(also rules\[0\]\)/],
    [{ interval: '0s' }, /alerts\.interval: expected an interval longer than 0/],
    [{ delivery: { attempts: 0 } }, /alerts\.delivery\.attempts: expected number >= 1/],
    [
      { delivery: { backoff: '2s', maxBackoff: '1s' } },
      /alerts\.delivery\.maxBackoff: expected a maxBackoff/,
    ],
  ])('refuses %j with a message naming the field', (input, message) => {
    const err = errorOf(() => parseAlerting(input));
    expect(err.code).toBe('INVALID_SPEC');
    expect(err.message).toMatch(message);
  });

  it('compares with each operator', () => {
    expect([compare(1, '>', 1), compare(1, '>=', 1), compare(1, '<', 1), compare(1, '<=', 1)]).toEqual([
      false,
      true,
      false,
      true,
    ]);
    expect(compare(0.4, '<', 0.5)).toBe(true);
  });
});

describe('loadAlertingFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'modelauto-alert-rules-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the rules under alerts: of a monitor YAML file', async () => {
    const file = join(dir, 'monitor.yaml');
    await writeFile(
      file,
      [
        'window: 500 rows',
        'alerts:',
        '  interval: 10s',
        '  rules:',
        '    - name: mnist-accuracy',
        '      metric: live_accuracy',
        '      model: mnist',
        "      op: '<'",
        '      threshold: 0.9',
        '      window: 1h',
        '      for: 5m',
        '',
      ].join('\n'),
    );
    const cfg = loadAlertingFile(file);
    expect(cfg.interval).toBe(10_000);
    expect(cfg.rules[0]).toMatchObject({ name: 'mnist-accuracy', op: '<', threshold: 0.9, forMs: 300_000 });
    await writeFile(file, 'window: 500 rows\n');
    expect(loadAlertingFile(file).rules).toEqual([]);
  });

  it('points at the file, line and path of a bad field', async () => {
    const file = join(dir, 'monitor.yaml');
    await writeFile(
      file,
      [
        'alerts:',
        '  rules:',
        '    - name: ok',
        '      metric: error_rate',
        "      op: '>'",
        '      threshold: 0.05',
        '    - name: bad',
        '      metric: live_f1',
        '      op: >',
        '        0.8',
        '',
      ].join('\n'),
    );
    const err = errorOf(() => loadAlertingFile(file));
    expect(err.code).toBe('INVALID_SPEC');
    // The unquoted '>' starts YAML's folded block: the op reads "0.8\n"; the hint says to quote it.
    expect(err.message).toContain(`${file}:9: alerts.rules[1].op: expected one of`);
    expect(err.message).toContain('quote the symbols in YAML');
  });

  it('reports YAML syntax errors with their line, and unreadable files', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'alerts:\n  rules: [\n');
    const err = errorOf(() => loadAlertingFile(file));
    expect(err.message).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}:\\d+: invalid YAML`));
    expect(errorOf(() => loadAlertingFile(join(dir, 'missing.yaml'))).code).toBe('NOT_FOUND');
  });
});
