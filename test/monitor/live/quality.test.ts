/**
 * Live quality over count and time windows, read from a real prediction log (SQLite), with explicit
 * times standing in for the clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { QualityConfigSchema } from '../../../src/monitor/live/config.js';
import { qualityOf, QualityTracker } from '../../../src/monitor/live/quality.js';
import { openPredictionLog } from '../../../src/store/prediction-log-open.js';
import type { LabelledPrediction, PredictionRecord } from '../../../src/store/prediction-log.js';

const dir = mkdtempSync(join(tmpdir(), 'modelauto-quality-'));
const log = await openPredictionLog(dir);
afterAll(async () => {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

function labelled(pairs: [string, string][]): LabelledPrediction[] {
  return pairs.map(([label, predicted], i) => ({
    model: 'm',
    version: 1,
    requestId: `r${i}`,
    row: 0,
    predicted,
    label,
    predictedAt: 0,
    labelledAt: i,
  }));
}

function record(id: string, predicted: string, version = 1): PredictionRecord {
  return {
    requestId: id,
    model: 'pets',
    version,
    time: 0,
    protocol: 'oip',
    rows: 1,
    latencyMs: 1,
    inputs: null,
    outputs: null,
    predicted: [predicted],
    classes: ['cat', 'dog', 'eel'],
  };
}

describe('live quality', () => {
  it('matches scikit-learn: accuracy and macro P/R/F1 over the classes in the window', () => {
    // sklearn: y_true = [cat, cat, dog, dog, eel], y_pred = [cat, dog, dog, dog, cat]
    // accuracy 0.6; precision_macro (0.5 + 2/3 + 0) / 3; recall_macro (0.5 + 1 + 0) / 3;
    // f1_macro (0.5 + 0.8 + 0) / 3, zero_division=0.
    const p = qualityOf(
      labelled([
        ['cat', 'cat'],
        ['cat', 'dog'],
        ['dog', 'dog'],
        ['dog', 'dog'],
        ['eel', 'cat'],
      ]),
      42,
    );
    expect(p).not.toBeNull();
    expect(p?.t).toBe(42);
    expect(p?.n).toBe(5);
    expect(p?.accuracy).toBeCloseTo(0.6, 12);
    expect(p?.precisionMacro).toBeCloseTo((0.5 + 2 / 3) / 3, 12);
    expect(p?.recallMacro).toBeCloseTo(0.5, 12);
    expect(p?.f1Macro).toBeCloseTo(1.3 / 3, 12);
    expect(qualityOf([], 1)).toBeNull();
  });

  it('windows: the last N labels, within the last T ms, per version', async () => {
    await log.append(Array.from({ length: 10 }, (_, i) => record(`q${i}`, 'cat')));
    await log.append([record('other-version', 'cat', 2)]);
    // Labels at t = 1000, 2000, ..., 10000: the first five wrong, the last five right.
    for (let i = 0; i < 10; i++) {
      await log.label('pets', [{ requestId: `q${i}`, label: i < 5 ? 'dog' : 'cat' }], (i + 1) * 1000);
    }
    await log.label('pets', [{ requestId: 'other-version', label: 'dog' }], 10_000);

    const counted = new QualityTracker(log, QualityConfigSchema.parse({ windowRows: 4 }));
    const p = await counted.refresh('pets', 1, 10_000);
    expect(p).toMatchObject({ n: 4, accuracy: 1 });
    expect(counted.value('pets', 1, { rows: 10, ageMs: null }, 10_000)).toMatchObject({
      n: 10,
      accuracy: 0.5,
    });
    expect(counted.value('pets', 1, { rows: 8, ageMs: null }, 10_000)).toMatchObject({
      n: 8,
      accuracy: 5 / 8,
    });

    const timed = new QualityTracker(
      log,
      QualityConfigSchema.parse({ windowRows: null, windowAge: '3500ms' }),
    );
    // At t = 10_000 the window holds labels given at >= 6_500: four of them, all right.
    expect(await timed.refresh('pets', 1, 10_000)).toMatchObject({ n: 4, accuracy: 1 });
    // Later, the window slides past them.
    expect(await timed.refresh('pets', 1, 12_000)).toMatchObject({ n: 2, accuracy: 1 });
    expect(await timed.refresh('pets', 1, 20_000)).toBeNull();
    expect(timed.points('pets', 1).map((x) => x.t)).toEqual([10_000, 12_000]);

    const both = new QualityTracker(log, QualityConfigSchema.parse({ windowRows: 7, windowAge: '6500ms' }));
    // Age allows labels at >= 3_500 (seven of them), the count the last seven: the same seven.
    expect(await both.refresh('pets', 1, 10_000)).toMatchObject({ n: 7, accuracy: 5 / 7 });
    expect(await both.refresh('pets', 2, 10_000)).toMatchObject({ n: 1, accuracy: 0 });
  });

  it('refuses a window without bounds', () => {
    expect(() => QualityConfigSchema.parse({ windowRows: null })).toThrow(/cannot both be null/);
  });
});
