import { z } from 'zod';
import { setupBackend, type BackendInfo } from '../engine/backend.js';
import { parseWith } from '../optimize/parse.js';
import {
  OBJECTIVES,
  TOLERANCE_MODES,
  ToleranceSchema,
  parseBudget,
  type Budget,
} from '../optimize/pareto.js';
import { runCandidate, type CandidateResult } from './optimize/candidate.js';
import { parseCandidatePlan, type CandidatePlan, type CandidatePlanInput } from './optimize/plan.js';
import { searchCandidates, type SearchResult } from './optimize/search.js';
import { loadSource, type Source } from './optimize/source.js';
import { defaultSpace, type SpaceEntry } from './optimize/space.js';
import { prepareCandidate } from './optimize/techniques.js';
import { withStore, type StoreOption } from './runs.js';

/**
 * The optimize jobs. Each starts from a trained run (its model, preprocessing and data splits re-created
 * from the recorded seed) and records every candidate as an `optimize` run whose parent is that run, with
 * the model bundle, validation/test scores, file sizes (raw and gzipped) and latency next to the source.
 * Options are validated before anything loads, and checked against the model before any run is created.
 */
export interface OptimizeJobOptions extends StoreOption {
  /** Use only the first n training rows (a run trained with `--limit n` needs the same). */
  limit?: number;
  /** Status lines (which candidate, what it does, its results); default: silent. */
  log?: (line: string) => void;
  /** Progress bar / epoch lines for fine-tuning on stderr. */
  progress?: boolean;
  /** Aborting stops after the current batch; the candidate (and a search) is recorded as interrupted. */
  signal?: AbortSignal;
  /** Timed rounds per batch size for latency (default 60; fewer is faster and noisier). */
  latencyRounds?: number;
}

export interface SourceSummary {
  runId: string;
  name: string;
  validation: number;
  test: number;
  params: number;
  rawBytes: number;
  gzipBytes: number;
  scoreName: string;
}

export interface CandidateJobResult {
  source: SourceSummary;
  backend: BackendInfo;
  candidate: CandidateResult;
}

function summary(source: Source): SourceSummary {
  return {
    runId: source.run.id,
    name: source.run.name,
    validation: source.validationScore,
    test: source.testScore,
    params: source.bundle.model.countParams(),
    rawBytes: source.size.rawBytes,
    gzipBytes: source.size.gzipBytes,
    scoreName: source.splits.train.target.kind === 'classification' ? 'accuracy' : '-MAE',
  };
}

async function openSource<T>(
  runRef: string,
  options: OptimizeJobOptions,
  fn: (source: Source, backend: BackendInfo) => Promise<T>,
): Promise<T> {
  return withStore(options, async (store) => {
    const log = options.log ?? (() => undefined);
    const source = await loadSource(store, runRef, {
      ...(options.limit ? { limit: options.limit } : {}),
      log,
    });
    try {
      const needsConvGradients = source.bundle.model.layers.some((l) => /conv|pool/i.test(l.getClassName()));
      const backend = await setupBackend({ needsConvGradients });
      log(`backend: ${backend.name} (${backend.reason})`);
      return await fn(source, backend);
    } finally {
      source.bundle.model.dispose();
    }
  });
}

/** Applies one plan (distill → structured → prune → quantize) to a run's model as one tracked candidate. */
export async function runOptimizeCandidate(
  runRef: string,
  planInput: CandidatePlan | CandidatePlanInput,
  options: OptimizeJobOptions = {},
): Promise<CandidateJobResult> {
  const plan = parseCandidatePlan(planInput);
  return openSource(runRef, options, async (source, backend) => {
    const prepared = await prepareCandidate(source, plan);
    const candidate = await runCandidate(source, prepared.spec, prepared.build, {
      log: options.log ?? (() => undefined),
      ...(options.progress ? { progress: true } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.latencyRounds ? { latencyRounds: options.latencyRounds } : {}),
    });
    return { source: summary(source), backend, candidate };
  });
}

export const runPruneJob = (
  runRef: string,
  prune: NonNullable<CandidatePlanInput['prune']>,
  options: OptimizeJobOptions & { quantize?: CandidatePlanInput['quantize']; learningRate?: number } = {},
): Promise<CandidateJobResult> =>
  runOptimizeCandidate(
    runRef,
    {
      prune,
      ...(options.quantize ? { quantize: options.quantize } : {}),
      ...(options.learningRate ? { learningRate: options.learningRate } : {}),
    },
    options,
  );

export const runStructuredPruneJob = (
  runRef: string,
  structured: NonNullable<CandidatePlanInput['structured']>,
  options: OptimizeJobOptions & { learningRate?: number } = {},
): Promise<CandidateJobResult> =>
  runOptimizeCandidate(
    runRef,
    { structured, ...(options.learningRate ? { learningRate: options.learningRate } : {}) },
    options,
  );

export const runDistillJob = (
  runRef: string,
  distill: NonNullable<CandidatePlanInput['distill']>,
  options: OptimizeJobOptions & { learningRate?: number } = {},
): Promise<CandidateJobResult> =>
  runOptimizeCandidate(
    runRef,
    { distill, ...(options.learningRate ? { learningRate: options.learningRate } : {}) },
    options,
  );

export const runQuantizeJob = (
  runRef: string,
  quantize: NonNullable<CandidatePlanInput['quantize']>,
  options: OptimizeJobOptions = {},
): Promise<CandidateJobResult> => runOptimizeCandidate(runRef, { quantize }, options);

export const SearchOptionsSchema = z.strictObject({
  /** Accepted loss of validation accuracy: relative (default, 0.01 = 1% of the baseline) or absolute. */
  tolerance: ToleranceSchema.default(0.01),
  toleranceMode: z.enum(TOLERANCE_MODES).default('relative'),
  objective: z.enum(OBJECTIVES).default('size'),
  /** `<n>trials` or `<n>minutes`. */
  budget: z.string().default('10trials'),
  resume: z.boolean().default(false),
  /** Fine-tuning epochs of each candidate in the default space. */
  epochs: z.number().int().positive('expected epochs >= 1').default(2),
  /** Candidates to try instead of the default space, in order. */
  candidates: z.array(z.record(z.string(), z.unknown())).optional(),
});
export type SearchOptions = z.infer<typeof SearchOptionsSchema>;
export type SearchOptionsInput = z.input<typeof SearchOptionsSchema>;

export interface OptimizeSearchResult extends SearchResult {
  source: SourceSummary;
  backend: BackendInfo;
}

/**
 * `modelauto optimize`: the accuracy-budget search over compression candidates (sparsity levels,
 * structured widths, quantization modes, distilled students) for the size or latency objective.
 */
export async function runOptimizeSearch(
  runRef: string,
  input: SearchOptionsInput,
  options: OptimizeJobOptions = {},
): Promise<OptimizeSearchResult> {
  const settings = parseWith(SearchOptionsSchema, input, 'optimize');
  const budget: Budget = parseBudget(settings.budget, 'optimize.budget');
  const space: SpaceEntry[] = settings.candidates
    ? settings.candidates.map((plan, i) => {
        const parsed = parseCandidatePlan(plan, `optimize.candidates[${i}]`);
        return { plan: parsed, family: `custom-${i}`, level: i };
      })
    : defaultSpace(settings.objective, settings.epochs);
  return openSource(runRef, options, async (source, backend) => {
    const r = await searchCandidates(source, {
      tolerance: settings.tolerance,
      toleranceMode: settings.toleranceMode,
      objective: settings.objective,
      budget,
      resume: settings.resume,
      space,
      log: options.log ?? (() => undefined),
      ...(options.progress ? { progress: true } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.latencyRounds ? { latencyRounds: options.latencyRounds } : {}),
    });
    return { ...r, source: summary(source), backend };
  });
}
