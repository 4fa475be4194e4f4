import { describe, expect, it } from 'vitest';
import { measureLatency, pairedSpeedup, type Latency } from '../../src/optimize/latency.js';
import { measureOnnxLatency, tryOnnxLatency } from '../../src/pipeline/optimize/onnx-latency.js';
import { accuracyFloor, bestWithin, paretoFront, parseBudget } from '../../src/optimize/pareto.js';
import { narrowedStudent } from '../../src/optimize/student.js';
import type { CandidateResult } from '../../src/pipeline/optimize/candidate.js';
import { costOf } from '../../src/pipeline/optimize/search.js';
import { mlp } from './helpers.js';

describe('search helpers', () => {
  it('parses budgets in trials or minutes and refuses anything else', () => {
    expect(parseBudget('12trials')).toEqual({ kind: 'trials', trials: 12 });
    expect(parseBudget('1 trial')).toEqual({ kind: 'trials', trials: 1 });
    expect(parseBudget('30minutes')).toEqual({ kind: 'minutes', minutes: 30 });
    expect(parseBudget('1.5h')).toEqual({ kind: 'minutes', minutes: 90 });
    expect(() => parseBudget('0trials')).toThrow(/whole number of trials >= 1/);
    expect(() => parseBudget('2.5trials')).toThrow(/whole number/);
    expect(() => parseBudget('soon')).toThrow(
      '--budget: expected <n>trials or <n>minutes (e.g. 10trials, 30minutes), got "soon"',
    );
  });

  it('tolerance floors: relative (INC default) and absolute', () => {
    expect(accuracyFloor(0.98, 0.01, 'relative')).toBeCloseTo(0.9702, 10);
    expect(accuracyFloor(0.98, 0.01, 'absolute')).toBeCloseTo(0.97, 10);
  });

  it('Pareto front and the cheapest point within the floor', () => {
    const points = [
      { key: 'a', accuracy: 0.98, cost: 100 },
      { key: 'b', accuracy: 0.97, cost: 30 },
      { key: 'c', accuracy: 0.96, cost: 40 }, // dominated by b
      { key: 'd', accuracy: 0.9, cost: 10 },
    ];
    expect([...paretoFront(points)].sort()).toEqual(['a', 'b', 'd']);
    expect(bestWithin(points, 0.965)?.key).toBe('b');
    expect(bestWithin(points, 0.99)).toBeUndefined();
  });

  it('latency objective: the served (onnxruntime) speedup, else the tfjs one', () => {
    const row = (tfjs: number, onnx: number): CandidateResult =>
      ({
        size: { gzipBytes: 1000 },
        speedup: { b1: 1, b128: tfjs },
        onnxSpeedup: { b1: 1, b128: onnx },
      }) as unknown as CandidateResult;
    expect(costOf(row(1.25, 2), 'latency')).toBe(0.5);
    expect(costOf(row(1.25, Number.NaN), 'latency')).toBe(0.8);
    expect(costOf(row(1.25, 2), 'size')).toBe(1000);
  });
});

describe('narrowed student and latency', () => {
  it('narrows every hidden layer, keeps the output, and initialises reproducibly', async () => {
    const teacher = mlp(8, 32, 16);
    const a = await narrowedStudent(teacher, 0.5, 3);
    const b = await narrowedStudent(teacher, 0.5, 3);
    expect(a.layers.map((l) => (l.outputShape as number[])[1])).toEqual([16, 8, 3]);
    expect(Array.from(a.getWeights()[0]!.dataSync())).toEqual(Array.from(b.getWeights()[0]!.dataSync()));
    await expect(narrowedStudent(teacher, 0)).rejects.toThrow(/width: expected a factor in \(0, 1\]/);
  });

  it('measures models side by side at each batch size', async () => {
    const wide = mlp(64, 256, 256);
    const narrow = mlp(64, 16, 16);
    const [w, n] = await measureLatency([wide, narrow], [64], {
      batchSizes: [1, 64],
      rounds: 5,
      minBlockMs: 2,
    });
    expect(w!.map((l) => l.batchSize)).toEqual([1, 64]);
    for (const l of [...w!, ...n!]) {
      expect(l.rounds).toHaveLength(5);
      expect(l.ms).toBeGreaterThan(0);
      expect(l.minMs).toBeLessThanOrEqual(l.ms);
    }
    // 256x256 vs 16x16 hidden layers: a large gap survives any noise.
    expect(pairedSpeedup(w![1]!, n![1]!)).toBeGreaterThan(1);
  });

  it('takes the speedup as the median of per-round ratios', () => {
    const at = (rounds: number[]): Latency => ({
      batchSize: 1,
      ms: Number.NaN,
      minMs: Number.NaN,
      samplesPerSecond: Number.NaN,
      rounds,
    });
    // Round 3 was disturbed for the base only: the paired median ignores it.
    expect(pairedSpeedup(at([2, 4, 100, 2, 2]), at([1, 2, 1, 1, 1]))).toBe(2);
    expect(pairedSpeedup(at([3, 3]), at([1, 3]))).toBe(2);
  });

  it('times onnxruntime sessions of exported models the same way', async () => {
    const wide = mlp(64, 256, 256);
    const narrow = mlp(64, 16, 16);
    const [w, n] = await measureOnnxLatency([wide, narrow], [64], {
      batchSizes: [64],
      rounds: 5,
      minBlockMs: 2,
    });
    expect(w![0]!.rounds).toHaveLength(5);
    expect(pairedSpeedup(w![0]!, n![0]!)).toBeGreaterThan(1);
    const bad = await tryOnnxLatency([wide, narrow], [63], { batchSizes: [1], rounds: 1 });
    expect('error' in bad).toBe(true);
  });
});
