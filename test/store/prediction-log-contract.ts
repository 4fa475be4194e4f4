/**
 * The behaviour every PredictionLog backend must have. A backend's test file calls
 * describePredictionLogContract with a factory that makes a fresh, empty store and returns its URI; the
 * suite opens it through openPredictionLog (so the URI wiring is tested too).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPredictionLog } from '../../src/store/prediction-log-open.js';
import type { PredictionLog, PredictionRecord } from '../../src/store/prediction-log.js';
import { expectError } from './contract.js';

export interface PredictionLogFixture {
  uri: string;
  cleanup: () => Promise<void>;
}

const CLASSES = ['cat', 'dog', 'eel'];

function record(id: string, overrides: Partial<PredictionRecord> = {}): PredictionRecord {
  return {
    requestId: id,
    model: 'pets',
    version: 1,
    time: 1_000,
    protocol: 'tfserving',
    rows: 1,
    latencyMs: 1.5,
    inputs: { columns: { x: [1] } },
    outputs: { probabilities: [[0.7, 0.2, 0.1]] },
    predicted: ['cat'],
    classes: CLASSES,
    ...overrides,
  };
}

export function describePredictionLogContract(
  backend: string,
  makeFixture: () => Promise<PredictionLogFixture>,
): void {
  describe(`PredictionLog contract (${backend})`, () => {
    let fixture: PredictionLogFixture;
    let log: PredictionLog;

    beforeEach(async () => {
      fixture = await makeFixture();
      log = await openPredictionLog(fixture.uri);
    });
    afterEach(async () => {
      await log.close();
      await fixture.cleanup();
    });

    it('round-trips records, newest first, per model and version', async () => {
      await log.append([
        record('a', { time: 1, inputs: { dtype: 'uint8', shape: [1, 4], data: 'AAECAw==' } }),
        record('b', { time: 2, version: 2, rows: 2, predicted: ['dog', 'eel'], protocol: 'oip' }),
        record('c', { time: 3, model: 'other', predicted: null, classes: null }),
      ]);
      expect(await log.count()).toBe(3);
      expect(await log.count('pets')).toBe(2);
      const a = await log.get('pets', 'a');
      expect(a).toEqual(
        record('a', { time: 1, inputs: { dtype: 'uint8', shape: [1, 4], data: 'AAECAw==' } }),
      );
      expect(await log.get('pets', 'c')).toBeNull();
      expect((await log.list('pets', { limit: 10 })).map((r) => r.requestId)).toEqual(['b', 'a']);
      expect((await log.list('pets', { limit: 10, version: 2 })).map((r) => r.requestId)).toEqual(['b']);
      expect((await log.list('pets', { limit: 1 })).map((r) => r.requestId)).toEqual(['b']);
      expect((await log.get('other', 'c'))?.predicted).toBeNull();
    });

    it('validates records and names the field', async () => {
      const err = await expectError(
        log.append([record('x'), record('', { rows: 0 })]),
        'INVALID_ARGUMENT',
        /append\.records\.1/,
      );
      expect(err.message).toMatch(/request id/);
      expect(await log.count()).toBe(0);
    });

    it('a request id logged again replaces the record and drops its labels', async () => {
      await log.append([record('r1', { predicted: ['cat'] })]);
      await log.label('pets', [{ requestId: 'r1', label: 'dog' }], 10);
      await log.append([record('r1', { predicted: ['eel'], time: 50 })]);
      expect((await log.get('pets', 'r1'))?.predicted).toEqual(['eel']);
      expect(await log.count()).toBe(1);
      expect(await log.labelled('pets', { limit: 10 })).toEqual([]);
      // Within one batch, the last record with an id wins.
      await log.append([record('r2', { predicted: ['cat'] }), record('r2', { predicted: ['dog'] })]);
      expect((await log.get('pets', 'r2'))?.predicted).toEqual(['dog']);
    });

    it('joins labels to predictions, row by row', async () => {
      await log.append([
        record('one', { time: 100 }),
        record('multi', { time: 200, rows: 3, predicted: ['cat', 'dog', 'eel'], version: 2 }),
      ]);
      const joined = await log.label(
        'pets',
        [
          { requestId: 'one', label: 'cat' },
          { requestId: 'multi', row: 2, label: 'dog' },
        ],
        1_000,
      );
      expect(joined).toEqual([
        {
          model: 'pets',
          version: 1,
          requestId: 'one',
          row: 0,
          predicted: 'cat',
          label: 'cat',
          predictedAt: 100,
          labelledAt: 1_000,
        },
        {
          model: 'pets',
          version: 2,
          requestId: 'multi',
          row: 2,
          predicted: 'eel',
          label: 'dog',
          predictedAt: 200,
          labelledAt: 1_000,
        },
      ]);
      expect(await log.labelled('pets', { limit: 10 })).toEqual(joined);
      expect((await log.labelled('pets', { limit: 10, version: 2 })).map((l) => l.requestId)).toEqual([
        'multi',
      ]);
    });

    it('rejects the whole batch for an unknown request id, naming it', async () => {
      await log.append([record('known')]);
      const err = await expectError(
        log.label(
          'pets',
          [
            { requestId: 'known', label: 'dog' },
            { requestId: 'nope-42', label: 'cat' },
          ],
          5,
        ),
        'NOT_FOUND',
        /"nope-42"/,
      );
      expect(err.message).toMatch(/labels\[1\]/);
      expect(await log.labelled('pets', { limit: 10 })).toEqual([]);
      // The same id under another model is another request.
      await expectError(log.label('other', [{ requestId: 'known', label: 'cat' }], 5), 'NOT_FOUND');
    });

    it('checks rows and classes', async () => {
      await log.append([
        record('multi', { rows: 2, predicted: ['cat', 'dog'] }),
        record('reg', { predicted: null, classes: null }),
      ]);
      await expectError(
        log.label('pets', [{ requestId: 'multi', label: 'cat' }], 1),
        'INVALID_ARGUMENT',
        /has 2 rows: say which one/,
      );
      await expectError(
        log.label('pets', [{ requestId: 'multi', row: 2, label: 'cat' }], 1),
        'INVALID_ARGUMENT',
        /row 2 is out of range/,
      );
      await expectError(
        log.label('pets', [{ requestId: 'multi', row: 0, label: 'cow' }], 1),
        'INVALID_ARGUMENT',
        /"cow" is not one of the classes of pets:1: cat, dog, eel/,
      );
      await expectError(
        log.label('pets', [{ requestId: 'reg', label: 'cat' }], 1),
        'INVALID_ARGUMENT',
        /not a classifier/,
      );
      await expectError(
        log.label('pets', [{ requestId: 'multi', row: -1, label: 'cat' }], 1),
        'INVALID_ARGUMENT',
        /labels\.0\.row/,
      );
    });

    it('a duplicate label: the last one wins, in later batches and within one batch', async () => {
      await log.append([record('a'), record('b'), record('c')]);
      await log.label('pets', [{ requestId: 'a', label: 'cat' }], 10);
      await log.label('pets', [{ requestId: 'b', label: 'cat' }], 20);
      await log.label('pets', [{ requestId: 'a', label: 'eel' }], 30);
      let labelled = await log.labelled('pets', { limit: 10 });
      expect(labelled.map((l) => [l.requestId, l.label, l.labelledAt])).toEqual([
        ['b', 'cat', 20],
        ['a', 'eel', 30],
      ]);
      await log.label(
        'pets',
        [
          { requestId: 'c', label: 'dog' },
          { requestId: 'c', label: 'cat' },
        ],
        40,
      );
      labelled = await log.labelled('pets', { limit: 10 });
      expect(labelled.map((l) => [l.requestId, l.label])).toEqual([
        ['b', 'cat'],
        ['a', 'eel'],
        ['c', 'cat'],
      ]);
    });

    it('reads the latest labels within a count and a time window, oldest first', async () => {
      await log.append(Array.from({ length: 6 }, (_, i) => record(`r${i}`, { time: i })));
      for (let i = 0; i < 6; i++) await log.label('pets', [{ requestId: `r${i}`, label: 'cat' }], 100 + i);
      expect((await log.labelled('pets', { limit: 3 })).map((l) => l.requestId)).toEqual(['r3', 'r4', 'r5']);
      expect((await log.labelled('pets', { limit: 10, since: 104 })).map((l) => l.requestId)).toEqual([
        'r4',
        'r5',
      ]);
      expect((await log.labelled('pets', { limit: 1, since: 102 })).map((l) => l.requestId)).toEqual(['r5']);
    });

    it('prunes by age and by count, newest kept, labels with their predictions', async () => {
      await log.append(Array.from({ length: 10 }, (_, i) => record(`p${i}`, { time: 1_000 + i })));
      await log.label('pets', [{ requestId: 'p0', label: 'dog' }], 2_000);
      await log.label('pets', [{ requestId: 'p9', label: 'dog' }], 2_000);
      // Older than 1_002 (now 2_000, max age 998 ms): p0 and p1 go.
      expect(await log.prune({ maxRows: 100, maxAgeMs: 998, now: 2_000 })).toBe(2);
      expect(await log.count()).toBe(8);
      expect(await log.prune({ maxRows: 3, maxAgeMs: 1e9, now: 2_000 })).toBe(5);
      expect((await log.list('pets', { limit: 10 })).map((r) => r.requestId)).toEqual(['p9', 'p8', 'p7']);
      expect((await log.labelled('pets', { limit: 10 })).map((l) => l.requestId)).toEqual(['p9']);
      expect(await log.prune({ maxRows: 3, maxAgeMs: 1e9, now: 2_000 })).toBe(0);
    });

    it('keeps records across reopening', async () => {
      await log.append([record('kept', { rows: 2, predicted: ['cat', 'dog'] })]);
      await log.label('pets', [{ requestId: 'kept', row: 1, label: 'dog' }], 7);
      await log.close();
      log = await openPredictionLog(fixture.uri);
      expect((await log.get('pets', 'kept'))?.rows).toBe(2);
      expect((await log.labelled('pets', { limit: 5 }))[0]?.label).toBe('dog');
    });
  });
}
