import { ModelautoError, toModelautoError } from '../../core/errors.js';
import type { JsonValue, RunRecord } from '../../store/types.js';
import {
  accuracyFloor,
  bestWithin,
  formatBudget,
  paretoFront,
  type Budget,
  type Objective,
  type ParetoPoint,
  type ToleranceMode,
} from '../../optimize/pareto.js';
import { runCandidate, type CandidateResult, type Technique } from './candidate.js';
import { parseCandidatePlan, planKey, type CandidatePlan } from './plan.js';
import { prepareCandidate } from './techniques.js';
import type { Source } from './source.js';
import type { SpaceEntry } from './space.js';

export interface SearchSettings {
  tolerance: number;
  toleranceMode: ToleranceMode;
  objective: Objective;
  budget: Budget;
  resume: boolean;
  space: SpaceEntry[];
  log: (line: string) => void;
  progress?: boolean;
  signal?: AbortSignal;
  latencyRounds?: number;
}

export interface SearchRow extends CandidateResult {
  withinTolerance: boolean;
  pareto: boolean;
  best: boolean;
  /** Finished in an earlier, interrupted search that this one resumed. */
  resumed: boolean;
}

export interface SearchResult {
  run: RunRecord;
  rootId: string;
  objective: Objective;
  tolerance: number;
  toleranceMode: ToleranceMode;
  budget: Budget;
  baseline: { validation: number; test: number; params: number; gzipBytes: number; rawBytes: number };
  /** The lowest validation score within tolerance. */
  floor: number;
  rows: SearchRow[];
  best?: SearchRow;
  stopReason: 'budget' | 'space exhausted' | 'interrupted';
  skipped: { key: string; reason: string }[];
}

const SEARCH_KIND = 'optimize-search';

/**
 * What the objective minimises: gzipped bytes, or latency at batch 128 relative to the source's, as
 * served (onnxruntime) when the candidate could be exported to ONNX, else on tfjs.
 */
export function costOf(r: CandidateResult, objective: Objective): number {
  if (objective === 'size') return r.size.gzipBytes;
  return 1 / (Number.isFinite(r.onnxSpeedup.b128) ? r.onnxSpeedup.b128 : r.speedup.b128);
}

function metric(run: RunRecord, key: string): number {
  return run.metrics[key]?.value ?? Number.NaN;
}

/** A finished candidate run read back from the store (for resumed searches). */
function resultFromRun(run: RunRecord): CandidateResult {
  const techniques = Array.isArray(run.params['techniques']) ? (run.params['techniques'] as Technique[]) : [];
  return {
    key: run.tags['candidate'] ?? run.name,
    runId: run.id,
    status: 'finished',
    techniques,
    validation: metric(run, 'val_score'),
    drop: -metric(run, 'val_score_change'),
    test: metric(run, 'test_score'),
    params: metric(run, 'params'),
    nonzeroParams: metric(run, 'nonzero_params'),
    size: {
      rawBytes: metric(run, 'size_raw_bytes'),
      gzipBytes: metric(run, 'size_gzip_bytes'),
      weightsBytes: metric(run, 'weights_raw_bytes'),
      weightsGzipBytes: metric(run, 'weights_gzip_bytes'),
    },
    sizeRatio: metric(run, 'size_ratio_gzip'),
    latencyMs: { b1: metric(run, 'latency_b1_ms'), b128: metric(run, 'latency_b128_ms') },
    speedup: { b1: metric(run, 'speedup_b1'), b128: metric(run, 'speedup_b128') },
    onnxLatencyMs: { b1: metric(run, 'onnx_latency_b1_ms'), b128: metric(run, 'onnx_latency_b128_ms') },
    onnxSpeedup: { b1: metric(run, 'onnx_speedup_b1'), b128: metric(run, 'onnx_speedup_b128') },
    seconds: metric(run, 'seconds'),
    notes: [],
  };
}

function searchParams(source: Source, s: SearchSettings, keys: string[]): Record<string, JsonValue> {
  return {
    source_run: source.run.id,
    tolerance: s.tolerance,
    tolerance_mode: s.toleranceMode,
    objective: s.objective,
    budget: formatBudget(s.budget),
    space: keys,
  };
}

/** The interrupted search to continue: the latest unfinished search of this source with the same settings. */
async function findResumable(source: Source, params: Record<string, JsonValue>): Promise<RunRecord> {
  const runs = await source.store.listRuns({ kind: SEARCH_KIND });
  const same = (r: RunRecord): boolean =>
    r.parentRunId === source.run.id &&
    ['objective', 'tolerance', 'tolerance_mode'].every(
      (k) => JSON.stringify(r.params[k]) === JSON.stringify(params[k]),
    );
  const resumed = new Set(
    runs.map((r) => r.tags['resumed_from']).filter((id): id is string => id !== undefined),
  );
  const candidate = runs.find((r) => same(r) && r.status !== 'finished' && !resumed.has(r.id));
  if (!candidate) {
    throw new ModelautoError(
      'NOT_FOUND',
      `--resume: no unfinished optimize search of run ${source.run.id.slice(0, 8)} with objective ${String(params['objective'])} and tolerance ${String(params['tolerance'])}; run it without --resume`,
    );
  }
  return candidate;
}

/**
 * The accuracy-budget search: tries candidates in order, each a tracked run fine-tuned on training data
 * and scored on validation data, until the budget (trials or minutes) is spent or the space is exhausted;
 * then marks the Pareto front (validation score vs objective) and the best candidate within tolerance.
 * Interrupted searches are resumed with `resume`: finished candidates are kept, the rest are run.
 */
export async function searchCandidates(source: Source, s: SearchSettings): Promise<SearchResult> {
  const { store } = source;
  const plans: { entry: SpaceEntry; plan: CandidatePlan; key: string }[] = s.space.map((entry, i) => {
    const plan = parseCandidatePlan(entry.plan, `space[${i}]`);
    return { entry, plan, key: planKey(plan) };
  });
  const params = searchParams(
    source,
    s,
    plans.map((p) => p.key),
  );
  const previous = s.resume ? await findResumable(source, params) : undefined;
  const rootId = previous ? (previous.tags['search_root'] ?? previous.id) : undefined;

  const run = await store.createRun({
    name: `${source.run.name}-optimize`,
    kind: SEARCH_KIND,
    parentRunId: source.run.id,
    params,
    tags: { ...(rootId ? { search_root: rootId } : {}), ...(previous ? { resumed_from: previous.id } : {}) },
    ...(source.run.dataFingerprint ? { dataFingerprint: source.run.dataFingerprint } : {}),
  });
  const root = rootId ?? run.id;
  if (!rootId) await store.setTags(run.id, { search_root: root });
  if (previous?.status === 'running') {
    await store
      .finishRun(previous.id, 'interrupted', `abandoned; resumed by ${run.id}`)
      .catch(() => undefined);
  }

  const done = new Map<string, CandidateResult>();
  const resumedKeys = new Set<string>();
  if (previous) {
    for (const r of await store.listRuns({ kind: 'optimize', status: 'finished' })) {
      const key = r.tags['candidate'];
      if (r.tags['search_root'] === root && key && !done.has(key)) {
        done.set(key, resultFromRun(r));
        resumedKeys.add(key);
      }
    }
    s.log(
      `resuming search ${root.slice(0, 8)}: ${done.size} candidate(s) already finished (${[...done.keys()].join(', ') || 'none'})`,
    );
  }

  const floor = accuracyFloor(source.validationScore, s.tolerance, s.toleranceMode);
  const started = performance.now();
  const spentBefore = [...done.values()].reduce(
    (t, r) => t + (Number.isFinite(r.seconds) ? r.seconds : 0),
    0,
  );
  const minutesUsed = (): number => (spentBefore + (performance.now() - started) / 1000) / 60;
  const budgetLeft = (): boolean =>
    s.budget.kind === 'trials' ? done.size < s.budget.trials : minutesUsed() < s.budget.minutes;
  const budgetText = (): string =>
    s.budget.kind === 'trials'
      ? `${done.size}/${s.budget.trials} trials`
      : `${minutesUsed().toFixed(1)}/${s.budget.minutes} minutes`;

  const failedLevel = new Map<string, number>();
  for (const p of plans) {
    const r = done.get(p.key);
    if (r && r.validation < floor)
      failedLevel.set(p.entry.family, Math.min(failedLevel.get(p.entry.family) ?? Infinity, p.entry.level));
  }
  const skipped: { key: string; reason: string }[] = [];
  let stopReason: SearchResult['stopReason'] = 'space exhausted';
  try {
    for (const [i, p] of plans.entries()) {
      if (done.has(p.key)) continue;
      if (s.signal?.aborted) {
        stopReason = 'interrupted';
        break;
      }
      if (!budgetLeft()) {
        stopReason = 'budget';
        break;
      }
      const failedAt = failedLevel.get(p.entry.family);
      if (failedAt !== undefined && p.entry.level >= failedAt) {
        skipped.push({
          key: p.key,
          reason: `a milder ${p.entry.family} candidate (level ${failedAt}) missed the tolerance`,
        });
        s.log(`skip ${p.key}: a milder ${p.entry.family} candidate missed the tolerance`);
        continue;
      }
      s.log(`candidate ${i + 1}/${plans.length} ${p.key} (budget used: ${budgetText()})`);
      // A minutes budget also stops a candidate midway: it is then recorded as interrupted.
      const timer = new AbortController();
      const timeout =
        s.budget.kind === 'minutes'
          ? setTimeout(() => timer.abort(), Math.max(0, (s.budget.minutes - minutesUsed()) * 60_000))
          : undefined;
      const signal = s.signal ? AbortSignal.any([s.signal, timer.signal]) : timer.signal;
      try {
        let prepared: Awaited<ReturnType<typeof prepareCandidate>>;
        try {
          prepared = await prepareCandidate(source, p.plan);
        } catch (e) {
          // A candidate the model cannot take (e.g. structured pruning of a non-Sequential model) is skipped.
          const err = toModelautoError(e);
          if (err.code !== 'INVALID_ARGUMENT') throw err;
          skipped.push({ key: p.key, reason: err.message });
          s.log(`skip ${p.key}: ${err.message}`);
          continue;
        }
        const r = await runCandidate(source, prepared.spec, prepared.build, {
          log: s.log,
          ...(s.progress ? { progress: true } : {}),
          signal,
          tags: { search_run: run.id, search_root: root },
          ...(s.latencyRounds ? { latencyRounds: s.latencyRounds } : {}),
        });
        if (r.status === 'interrupted') {
          stopReason = s.signal?.aborted ? 'interrupted' : 'budget';
          break;
        }
        done.set(p.key, r);
        if (r.validation < floor) {
          failedLevel.set(
            p.entry.family,
            Math.min(failedLevel.get(p.entry.family) ?? Infinity, p.entry.level),
          );
        }
      } finally {
        if (timeout) clearTimeout(timeout);
      }
    }
    if (stopReason === 'space exhausted' && !budgetLeft()) stopReason = 'budget';

    const results = plans.map((p) => done.get(p.key)).filter((r): r is CandidateResult => r !== undefined);
    const points: ParetoPoint[] = results.map((r) => ({
      key: r.key,
      accuracy: r.validation,
      cost: costOf(r, s.objective),
    }));
    const front = paretoFront(points);
    const best = bestWithin(points, floor);
    const rows: SearchRow[] = results.map((r) => ({
      ...r,
      withinTolerance: r.validation >= floor,
      pareto: front.has(r.key),
      best: best?.key === r.key,
      resumed: resumedKeys.has(r.key),
    }));
    const bestRow = rows.find((r) => r.best);
    await store.logMetrics(run.id, [
      { key: 'baseline_val_score', value: source.validationScore, step: 0 },
      { key: 'baseline_size_gzip_bytes', value: source.size.gzipBytes, step: 0 },
      { key: 'accuracy_floor', value: floor, step: 0 },
      { key: 'candidates_finished', value: rows.length, step: 0 },
      ...(bestRow
        ? [
            { key: 'best_val_score', value: bestRow.validation, step: 0 },
            { key: 'best_test_score', value: bestRow.test, step: 0 },
            { key: 'best_size_gzip_bytes', value: bestRow.size.gzipBytes, step: 0 },
            { key: 'best_size_ratio_gzip', value: bestRow.sizeRatio, step: 0 },
            { key: 'best_speedup_b128', value: bestRow.speedup.b128, step: 0 },
          ]
        : []),
    ]);
    await store.setTags(run.id, {
      stop_reason: stopReason,
      ...(bestRow
        ? { best_candidate: bestRow.key, best_run: bestRow.runId }
        : { best_candidate: 'none within tolerance' }),
    });
    const stripped = rows.map(({ report: _r, testEvaluation: _e, ...rest }) => rest);
    await store.logArtifact(run.id, {
      name: 'pareto.json',
      data: JSON.stringify({ floor, rows: stripped }, null, 2) + '\n',
    });
    const finished =
      stopReason === 'interrupted'
        ? await store.finishRun(run.id, 'interrupted', 'interrupted by the user; continue with --resume')
        : await store.finishRun(run.id, 'finished');
    return {
      run: finished,
      rootId: root,
      objective: s.objective,
      tolerance: s.tolerance,
      toleranceMode: s.toleranceMode,
      budget: s.budget,
      baseline: {
        validation: source.validationScore,
        test: source.testScore,
        params: source.bundle.model.countParams(),
        gzipBytes: source.size.gzipBytes,
        rawBytes: source.size.rawBytes,
      },
      floor,
      rows,
      ...(bestRow ? { best: bestRow } : {}),
      stopReason,
      skipped,
    };
  } catch (e) {
    const err = toModelautoError(e);
    await store.finishRun(run.id, 'failed', `${err.code}: ${err.message}`).catch(() => undefined);
    throw err;
  }
}
