import { describe, expect, it } from 'vitest';
import { HalvingScheduler, rungEpochs } from '../../../src/pipeline/flow/search/halving.js';
import {
  gridConfigurations,
  probeConfigurations,
  randomConfigurations,
  SpaceSchema,
} from '../../../src/pipeline/flow/search/space.js';
import { getPath, parsePath, setPath } from '../../../src/pipeline/flow/paths.js';
import { findRefs, resolveRefs } from '../../../src/pipeline/flow/refs.js';

describe('paths and references', () => {
  it('parses, reads and writes experiment paths', () => {
    expect(parsePath('model.layers[0].units')).toEqual(['model', 'layers', 0, 'units']);
    expect(() => parsePath('model..units')).toThrow(/unexpected "\."/);
    const spec = { model: { layers: [{ units: 4 }] } };
    expect(getPath(spec, ['model', 'layers', 0, 'units'])).toBe(4);
    expect(setPath(spec, parsePath('model.layers[0].units'), 8)).toEqual({
      model: { layers: [{ units: 8 }] },
    });
    expect(spec.model.layers[0]!.units).toBe(4);
    expect(setPath(spec, parsePath('train.optimizer.learningRate'), 0.1)).toMatchObject({
      train: { optimizer: { learningRate: 0.1 } },
    });
    expect(() => setPath(spec, parsePath('model.layers[3].units'), 1)).toThrow(/index 3 is out of range/);
  });

  it('keeps the type of a whole-string reference and interpolates one inside text', () => {
    const value = {
      a: '${{ params.n }}',
      b: 'n=${{ params.n }} and ${{ params.o }}',
      c: ['${{ steps.t.outputs.m.acc }}'],
    };
    expect(findRefs(value).map((r) => r.text)).toEqual([
      '${{ params.n }}',
      '${{ params.n }}',
      '${{ params.o }}',
      '${{ steps.t.outputs.m.acc }}',
    ]);
    const resolved = resolveRefs(value, (ref) =>
      ref.kind === 'params' ? (ref.path[0] === 'n' ? 3 : { x: 1 }) : 0.9,
    );
    expect(resolved).toEqual({ a: 3, b: 'n=3 and {"x":1}', c: [0.9] });
  });
});

describe('search spaces', () => {
  const space = SpaceSchema.parse({
    'train.optimizer.learningRate': [0.1, 0.01],
    'model.layers[0].units': [8, 16, 32],
  });

  it('enumerates a grid, the first path slowest', () => {
    const g = gridConfigurations(space);
    expect(g).toHaveLength(6);
    expect(g[0]).toEqual({ 'train.optimizer.learningRate': 0.1, 'model.layers[0].units': 8 });
    expect(g[5]).toEqual({ 'train.optimizer.learningRate': 0.01, 'model.layers[0].units': 32 });
    expect(() => gridConfigurations(SpaceSchema.parse({ a: { min: 0, max: 1 } }))).toThrow(
      /grid search needs a list/,
    );
  });

  it('draws random configurations reproducibly from the seed, ranges within bounds', () => {
    const s = SpaceSchema.parse({
      lr: { min: 1e-4, max: 1e-1, scale: 'log' },
      units: { min: 4, max: 64, int: true },
      act: ['relu', 'tanh'],
    });
    const a = randomConfigurations(s, 50, 7);
    expect(randomConfigurations(s, 50, 7)).toEqual(a);
    expect(randomConfigurations(s, 50, 8)).not.toEqual(a);
    for (const c of a) {
      expect(c['lr']).toBeGreaterThanOrEqual(1e-4);
      expect(c['lr']).toBeLessThanOrEqual(1e-1);
      expect(Number.isInteger(c['units'])).toBe(true);
      expect(['relu', 'tanh']).toContain(c['act']);
    }
    // Log-uniform: about as many draws below 1e-2.5 as above.
    const below = a.filter((c) => (c['lr'] as number) < 10 ** -2.5).length;
    expect(below).toBeGreaterThan(10);
    expect(below).toBeLessThan(40);
    expect(() => SpaceSchema.parse({ lr: { min: 0, max: 1, scale: 'log' } })).toThrow(/min > 0/);
  });

  it('probes every listed value and both ends of ranges', () => {
    const s = SpaceSchema.parse({ a: [1, 2, 3], b: { min: 0, max: 5 } });
    expect(probeConfigurations(s)).toEqual([
      { a: 1, b: 0 },
      { a: 2, b: 0 },
      { a: 3, b: 0 },
      { a: 1, b: 5 },
    ]);
  });
});

describe('successive halving', () => {
  it('builds rungs up to the maximum budget', () => {
    expect(rungEpochs({ minEpochs: 1, maxEpochs: 9, eta: 3 })).toEqual([1, 3, 9]);
    expect(rungEpochs({ minEpochs: 1, maxEpochs: 4, eta: 2 })).toEqual([1, 2, 4]);
    expect(rungEpochs({ minEpochs: 2, maxEpochs: 5, eta: 3 })).toEqual([2, 5]);
    expect(rungEpochs({ minEpochs: 3, maxEpochs: 3, eta: 3 })).toEqual([3]);
  });

  it('promotes the top 1/eta of each rung and stops the rest early', () => {
    // 9 configurations, eta 3, rungs 1/3/9 epochs; lower is better; config c scores c at every rung.
    const s = new HalvingScheduler(9, [1, 3, 9], 3, 'min');
    const started: string[] = [];
    const running: { config: number; rung: number }[] = [];
    const drain = () => {
      for (let job = s.next(); job; job = s.next()) {
        started.push(`${job.config}@${job.rung}`);
        running.push(job);
      }
    };
    drain();
    // Nothing completed yet: all 9 bottom-rung trials are startable at once.
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((c) => `${c}@0`));
    // Complete them worst first: a promotion happens as soon as a trial is in the top third of its rung.
    for (const job of running.splice(0).reverse()) {
      s.report(job, job.config);
      drain();
    }
    for (let job = running.shift(); job; job = running.shift()) {
      s.report(job, job.config);
      drain();
    }
    // Asynchronous: with the worst finishing first, early promotions are pessimistic (ASHA's known cost),
    // but the two worst are never promoted.
    const rung1 = started.filter((t) => t.endsWith('@1')).map((t) => Number(t.split('@')[0]));
    expect(rung1).not.toContain(7);
    expect(rung1).not.toContain(8);
    // The best configuration reaches the top rung; weak ones never leave the bottom one.
    expect(started).toContain('0@2');
    expect(started.filter((t) => t.startsWith('8@'))).toEqual(['8@0']);
    expect(new Set(started).size).toBe(started.length);
    expect(s.ranked(2)[0]).toBe(0);
  });

  it('never promotes a failed trial', () => {
    const s = new HalvingScheduler(3, [1, 3], 3, 'max');
    const jobs = [s.next()!, s.next()!, s.next()!];
    expect(s.next()).toBeUndefined();
    s.report(jobs[0]!, null);
    s.report(jobs[1]!, Number.NaN);
    s.report(jobs[2]!, 0.5);
    expect(s.next()).toEqual({ config: 2, rung: 1 });
    expect(s.next()).toBeUndefined();
  });
});
