import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import * as metrics from '../../src/metrics/index.js';
import type { ClassificationReport, Label } from '../../src/metrics/index.js';
import { expectClose } from './helpers.js';

interface FixtureCase {
  name: string;
  fn: string;
  args: {
    yTrue: Label[];
    yPred?: unknown;
    yScore?: unknown;
    yProba?: unknown;
    options: Record<string, unknown>;
  };
  expected?: unknown;
  warns?: boolean;
  error?: string;
  derived?: boolean;
}

interface FixtureFile {
  sklearn: string;
  cases: FixtureCase[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/metrics/sklearn.json', import.meta.url), 'utf8'),
) as FixtureFile;

/** NaN and infinities travel as strings in the JSON. */
function decode(v: unknown): unknown {
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (Array.isArray(v)) return v.map(decode);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
  return v;
}

/** Functions that can warn take onWarning; the others reject unknown options. */
const WARNING_FNS = new Set([
  'precisionRecallFscoreSupport',
  'precisionScore',
  'recallScore',
  'f1Score',
  'fbetaScore',
  'balancedAccuracyScore',
  'classificationReport',
  'topKAccuracyScore',
  'r2Score',
]);

type AnyMetric = (a: unknown, b: unknown, o: unknown) => unknown;

function call(c: FixtureCase, onWarning: (m: string) => void): unknown {
  const options: Record<string, unknown> = { ...c.args.options };
  if (options.zeroDivision !== undefined) options.zeroDivision = decode(options.zeroDivision);
  if (WARNING_FNS.has(c.fn)) options.onWarning = onWarning;
  const second = c.args.yPred ?? c.args.yScore ?? c.args.yProba;
  const fn = (metrics as unknown as Record<string, AnyMetric>)[c.fn];
  if (!fn) throw new Error(`fixture names unknown function ${c.fn}`);
  return fn(c.args.yTrue, second, options);
}

/** Our report as scikit-learn's output_dict. */
function reportDict(r: ClassificationReport): Record<string, unknown> {
  const row = (x: { precision: number; recall: number; f1Score: number; support: number }) => ({
    precision: x.precision,
    recall: x.recall,
    'f1-score': x.f1Score,
    support: x.support,
  });
  const out: Record<string, unknown> = {};
  for (const c of r.classes) out[c.name] = row(c);
  if (r.accuracy !== undefined) out.accuracy = r.accuracy;
  if (r.microAvg) out['micro avg'] = row(r.microAvg);
  out['macro avg'] = row(r.macroAvg);
  out['weighted avg'] = row(r.weightedAvg);
  return out;
}

function compareDict(
  actual: Record<string, unknown>,
  expected: Record<string, unknown>,
  where: string,
): void {
  expect(Object.keys(actual), `${where}: keys`).toEqual(Object.keys(expected));
  for (const [k, e] of Object.entries(expected)) {
    if (e !== null && typeof e === 'object') {
      for (const [field, v] of Object.entries(e as Record<string, unknown>)) {
        expectClose((actual[k] as Record<string, unknown>)[field], v, `${where}.${k}.${field}`);
      }
    } else {
      expectClose(actual[k], e, `${where}.${k}`);
    }
  }
}

function check(c: FixtureCase): void {
  const warnings: string[] = [];
  if (c.error !== undefined) {
    let thrown: unknown;
    try {
      call(c, (m) => warnings.push(m));
    } catch (e) {
      thrown = e;
    }
    expect(thrown, `${c.name}: scikit-learn raised "${c.error}"`).toBeInstanceOf(ModelautoError);
    expect((thrown as ModelautoError).code).toBe('INVALID_ARGUMENT');
    return;
  }
  const actual = call(c, (m) => warnings.push(m));
  const expected = decode(c.expected);
  if (c.fn === 'classificationReport') {
    const report = actual as ClassificationReport;
    const e = expected as { dict: Record<string, unknown>; text: string };
    compareDict(reportDict(report), e.dict, c.name);
    expect(metrics.formatClassificationReport(report), `${c.name}: text`).toBe(e.text);
  } else if (c.fn === 'precisionRecallFscoreSupport') {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    for (const key of ['precision', 'recall', 'fScore', 'support'])
      expectClose(a[key], e[key], `${c.name}.${key}`);
  } else {
    expectClose(actual, expected, c.name);
  }
  if (WARNING_FNS.has(c.fn) && c.warns !== undefined && !c.derived) {
    expect(
      warnings.length > 0,
      `${c.name}: scikit-learn ${c.warns ? 'warned' : 'did not warn'}; ours: ${warnings.join(' | ')}`,
    ).toBe(c.warns);
  }
}

describe(`scikit-learn ${fixture.sklearn} fixtures`, () => {
  const byFn = new Map<string, FixtureCase[]>();
  for (const c of fixture.cases) byFn.set(c.fn, [...(byFn.get(c.fn) ?? []), c]);

  it('cover every public metric', () => {
    expect([...byFn.keys()].sort()).toEqual(
      [
        'accuracyScore',
        'balancedAccuracyScore',
        'classificationReport',
        'confusionMatrix',
        'f1Score',
        'fbetaScore',
        'logLoss',
        'meanAbsoluteError',
        'meanSquaredError',
        'precisionRecallFscoreSupport',
        'precisionScore',
        'r2Score',
        'recallScore',
        'rocAucScore',
        'rootMeanSquaredError',
        'topKAccuracyScore',
      ].sort(),
    );
    expect(fixture.cases.length).toBeGreaterThan(500);
  });

  for (const [fn, cases] of byFn) {
    it(`${fn} matches (${cases.length} cases)`, () => {
      const failures: string[] = [];
      for (const c of cases) {
        try {
          check(c);
        } catch (e) {
          failures.push(`${c.name}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
        }
      }
      expect(failures, failures.slice(0, 15).join('\n')).toEqual([]);
    });
  }
});
