import type { Objective } from '../../optimize/pareto.js';
import type { CandidatePlanInput } from './plan.js';

/**
 * The default candidates of the accuracy-budget search, cheapest and most promising first for the
 * objective. `family`/`level` let the search skip a candidate when a milder one of the same family
 * already missed the tolerance (a sparser model will not do better).
 */
export interface SpaceEntry {
  plan: CandidatePlanInput;
  family: string;
  level: number;
}

const pruned = (sparsity: number, initial: number, epochs: number): CandidatePlanInput['prune'] => ({
  sparsity,
  initialSparsity: initial,
  epochs,
});

export function defaultSpace(objective: Objective, epochs: number): SpaceEntry[] {
  const uint8 = { dtype: 'uint8' as const };
  if (objective === 'size') {
    return [
      { plan: { quantize: uint8 }, family: 'quantize', level: 1 },
      { plan: { prune: pruned(0.8, 0.5, epochs), quantize: uint8 }, family: 'prune+uint8', level: 0.8 },
      { plan: { prune: pruned(0.9, 0.6, epochs), quantize: uint8 }, family: 'prune+uint8', level: 0.9 },
      {
        plan: { structured: { ratio: 0.5, epochs }, prune: pruned(0.8, 0.5, epochs), quantize: uint8 },
        family: 'structured+prune+uint8',
        level: 0.5,
      },
      { plan: { prune: pruned(0.95, 0.7, epochs), quantize: uint8 }, family: 'prune+uint8', level: 0.95 },
      { plan: { prune: pruned(0.7, 0.4, epochs), quantize: uint8 }, family: 'prune+uint8', level: 0.7 },
      { plan: { quantize: { dtype: 'float16' } }, family: 'float16', level: 1 },
      { plan: { prune: pruned(0.5, 0.3, epochs), quantize: uint8 }, family: 'prune+uint8', level: 0.5 },
      {
        plan: {
          distill: { width: 0.5, epochs: Math.max(epochs, 3) },
          prune: pruned(0.8, 0.5, epochs),
          quantize: uint8,
        },
        family: 'distill+prune+uint8',
        level: 0.5,
      },
      {
        plan: { prune: { sparsity: 0.5, mByN: { m: 2, n: 4 }, epochs }, quantize: uint8 },
        family: '2:4+uint8',
        level: 0.5,
      },
    ];
  }
  return [
    { plan: { structured: { ratio: 0.5, epochs } }, family: 'structured', level: 0.5 },
    { plan: { structured: { ratio: 0.75, epochs } }, family: 'structured', level: 0.75 },
    { plan: { structured: { ratio: 0.25, epochs } }, family: 'structured', level: 0.25 },
    { plan: { distill: { width: 0.25, epochs: Math.max(epochs, 3) } }, family: 'distill', level: 0.75 },
    { plan: { structured: { ratio: 0.875, epochs } }, family: 'structured', level: 0.875 },
    { plan: { distill: { width: 0.5, epochs: Math.max(epochs, 3) } }, family: 'distill', level: 0.5 },
    {
      plan: { structured: { ratio: 0.5, epochs }, quantize: { dtype: 'float16' } },
      family: 'structured+float16',
      level: 0.5,
    },
  ];
}
