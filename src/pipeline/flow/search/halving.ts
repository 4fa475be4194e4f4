/**
 * Asynchronous successive halving (ASHA, Li et al. 2018). Rungs are training budgets in epochs:
 * minEpochs, minEpochs·eta, minEpochs·eta², ... up to maxEpochs. Every configuration starts on the
 * bottom rung; whenever a worker is free, the scheduler promotes a configuration that is in the top
 * 1/eta of the results completed on its rung (highest rung first), else starts a new configuration.
 * Weak configurations are never promoted: they stop early, at the budget they had.
 */

export interface HalvingSettings {
  minEpochs: number;
  maxEpochs: number;
  /** Reduction factor: one in eta configurations goes up a rung. */
  eta: number;
}

/** [1, 3, 9] for min 1, max 9, eta 3; the last rung is always maxEpochs. */
export function rungEpochs(s: HalvingSettings): number[] {
  const rungs: number[] = [];
  for (let e = s.minEpochs; e < s.maxEpochs; e = Math.ceil(e * s.eta)) rungs.push(e);
  rungs.push(s.maxEpochs);
  return rungs;
}

export interface HalvingJob {
  config: number;
  rung: number;
}

export class HalvingScheduler {
  private nextNew = 0;
  /** Per rung: config → metric (NaN for a failed trial, which is never promoted). */
  private readonly results: Map<number, number>[];
  private readonly promoted: Set<number>[];

  constructor(
    private readonly configs: number,
    readonly rungs: readonly number[],
    private readonly eta: number,
    private readonly mode: 'min' | 'max',
  ) {
    this.results = rungs.map(() => new Map());
    this.promoted = rungs.map(() => new Set());
  }

  /** The next trial to start, or undefined when none can start until a running one reports. */
  next(): HalvingJob | undefined {
    for (let rung = this.rungs.length - 2; rung >= 0; rung--) {
      // Failed trials count as completed (and rank last): they take their share of the rung.
      const completed = this.results[rung]!.size;
      const top = this.ranked(rung).slice(0, Math.floor(completed / this.eta));
      const config = top.find((c) => !this.promoted[rung]!.has(c));
      if (config !== undefined) {
        this.promoted[rung]!.add(config);
        return { config, rung: rung + 1 };
      }
    }
    if (this.nextNew < this.configs) return { config: this.nextNew++, rung: 0 };
    return undefined;
  }

  report(job: HalvingJob, metric: number | null): void {
    this.results[job.rung]!.set(job.config, metric ?? Number.NaN);
  }

  /** Configs finished on `rung`, best first (failed ones left out). */
  ranked(rung: number): number[] {
    const sign = this.mode === 'min' ? 1 : -1;
    return [...this.results[rung]!.entries()]
      .filter(([, m]) => Number.isFinite(m))
      .sort((a, b) => sign * (a[1] - b[1]) || a[0] - b[0])
      .map(([c]) => c);
  }
}
