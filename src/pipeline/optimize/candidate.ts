import type * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toModelautoError } from '../../core/errors.js';
import type { ModelSpec } from '../../model/spec.js';
import { MODEL_JSON, WEIGHTS_BIN } from '../../model/io.js';
import { ARTIFACTS, saveBundle } from '../bundle.js';
import { REFERENCE_ARTIFACTS } from '../../monitor/drift/reference.js';
import type { Evaluation } from '../evaluation.js';
import type { TrackingStore } from '../../store/tracking-store.js';
import type { JsonValue, RunRecord } from '../../store/types.js';
import { BaseCallback, type Callback, type Logs } from '../../train/callbacks.js';
import type { ExperimentSpec } from '../../train/experiment.js';
import { ProgressLogger } from '../../train/progress.js';
import { measureLatency, pairedSpeedup, type Latency } from '../../optimize/latency.js';
import { compressionReport, type CompressionReport } from '../../optimize/report.js';
import {
  loadModelFiles,
  sizeOfFiles,
  writeModelFiles,
  type ModelFiles,
  type ModelSize,
} from '../../optimize/serialize.js';
import { tryOnnxLatency } from './onnx-latency.js';
import { evaluateOnTest, scoreModel, type Source } from './source.js';

export const TECHNIQUES = ['prune', 'structured', 'distill', 'quantize', 'qat'] as const;
export type Technique = (typeof TECHNIQUES)[number];

export interface CandidateSpec {
  /** Unique within a search, e.g. `prune-0.8+uint8`; names the run `<source name>-<key>`. */
  key: string;
  /** Techniques applied, in order. */
  techniques: Technique[];
  params: Record<string, JsonValue>;
}

export interface BuildContext {
  runId: string;
  runDir: string;
  /** Tracking (per-epoch metrics, steps continuing across successive fits) and progress callbacks for the next fit. */
  callbacks: () => Callback[];
  signal?: AbortSignal;
  log: (line: string) => void;
}

export interface CandidateOutput {
  /** The float model (saved as the run's model unless `files` are given). */
  model: tf.LayersModel;
  /** Quantized files saved instead; candidates are scored on the model stock tfjs loads from them. */
  files?: ModelFiles;
  history: Logs[];
  /** True when fine-tuning was interrupted: the run is recorded as interrupted and not scored. */
  interrupted?: boolean;
  /** Architecture to record in the bundle's spec, when it is known (distilled students). */
  modelSpec?: ModelSpec;
  metrics?: Record<string, number>;
  artifacts?: { name: string; data: string }[];
  notes?: string[];
}

export interface CandidateResult {
  key: string;
  runId: string;
  status: 'finished' | 'interrupted';
  techniques: Technique[];
  /** Score on validation data (accuracy, or -MAE for regression) and its change from the source. */
  validation: number;
  drop: number;
  test: number;
  testEvaluation?: Evaluation;
  params: number;
  nonzeroParams: number;
  size: ModelSize;
  /** Source gzipped bytes / candidate gzipped bytes. */
  sizeRatio: number;
  /** tfjs predict on the job's backend (median ms per call). */
  latencyMs: { b1: number; b128: number };
  /** How many times faster than the source on tfjs: median of per-round ratios, timed in the same rounds. */
  speedup: { b1: number; b128: number };
  /**
   * The same for the model exported to ONNX and run by onnxruntime (one thread, as served); NaN when the
   * model cannot be exported to ONNX (a note says why).
   */
  onnxLatencyMs: { b1: number; b128: number };
  onnxSpeedup: { b1: number; b128: number };
  report?: CompressionReport;
  seconds: number;
  notes: string[];
}

export interface CandidateOptions {
  log: (line: string) => void;
  progress?: boolean;
  signal?: AbortSignal;
  /** Tags linking the run to a search (search id, root of resumed searches). */
  tags?: Record<string, string>;
  /** Timed rounds per batch size when measuring latency (default 60). */
  latencyRounds?: number;
}

/** The source spec renamed, with the candidate's architecture when it can be stated as a spec. */
function candidateSpec(
  source: Source,
  key: string,
  model: tf.LayersModel,
  modelSpec?: ModelSpec,
): ExperimentSpec {
  const base = source.bundle.spec;
  const name = `${base.name}-${key}`.replace(/[^A-Za-z0-9_.-]/g, '_');
  const { model: _old, ...rest } = base;
  if (modelSpec) return { ...rest, name, model: modelSpec };
  if (!base.model || base.model.layers.length !== model.layers.length) return { ...rest, name };
  // Spec-built models have one layer per spec entry: carry over the (possibly reduced) widths.
  const layers = base.model.layers.map((l, i) => {
    const config = model.layers[i]?.getConfig() ?? {};
    if (l.type === 'dense' && typeof config['units'] === 'number') return { ...l, units: config['units'] };
    if (l.type === 'conv2d' && typeof config['filters'] === 'number')
      return { ...l, filters: config['filters'] };
    return l;
  });
  return { ...rest, name, model: { ...base.model, layers } };
}

/**
 * Runs one candidate as a tracked run linked to the source run (parentRunId): builds it, scores it on
 * validation and test data, measures files (raw and gzipped) and latency at batch 1 and 128 next to the
 * source model, logs everything as metrics, and stores the model bundle. Failures are recorded as failed
 * runs and rethrown; an interrupted fine-tune is recorded as interrupted.
 */
export async function runCandidate(
  source: Source,
  spec: CandidateSpec,
  build: (ctx: BuildContext) => Promise<CandidateOutput>,
  options: CandidateOptions,
): Promise<CandidateResult> {
  const { store } = source;
  const started = performance.now();
  const run: RunRecord = await store.createRun({
    name: `${source.run.name}-${spec.key}`.slice(0, 256),
    kind: 'optimize',
    parentRunId: source.run.id,
    params: {
      source_run: source.run.id,
      candidate: spec.key,
      techniques: spec.techniques,
      ...spec.params,
      // What loadSource reads to re-create the data, so that a candidate can be optimized further.
      loss: source.loss,
      ...(source.run.params['specDir'] !== undefined ? { specDir: source.run.params['specDir'] } : {}),
      ...(source.run.params['classes'] !== undefined ? { classes: source.run.params['classes'] } : {}),
    },
    tags: { candidate: spec.key, technique: spec.techniques.join('+'), ...(options.tags ?? {}) },
    ...(source.run.dataFingerprint ? { dataFingerprint: source.run.dataFingerprint } : {}),
  });
  const runDir = await store.runDir(run.id);
  const log = (line: string): void => options.log(`[${spec.key}] ${line}`);
  let scored: tf.LayersModel | undefined;
  let out: CandidateOutput | undefined;
  try {
    let epochsLogged = 0;
    const callbacks = (): Callback[] => {
      const offset = epochsLogged;
      const list: Callback[] = [
        new StepCounter(() => (epochsLogged += 1)),
        new TrackingCallback(store, run.id, offset),
      ];
      if (options.progress) list.push(new ProgressLogger());
      return list;
    };
    out = await build({
      runId: run.id,
      runDir,
      callbacks,
      ...(options.signal ? { signal: options.signal } : {}),
      log,
    });
    if (out.interrupted) {
      await store.finishRun(run.id, 'interrupted', 'interrupted while fine-tuning');
      log('interrupted');
      return emptyResult(spec, run.id, source, (performance.now() - started) / 1000);
    }
    scored = out.files ? await loadModelFiles(out.files, `candidate ${spec.key}`) : out.model;
    const validation = await scoreModel(scored, source.validation, source.splits.validation);
    const test =
      source.splits.test.n > 0 ? await scoreModel(scored, source.test, source.splits.test) : Number.NaN;
    const testEvaluation = await evaluateOnTest(source, scored);

    // The bundle first: sizes are those of the files the run stores.
    const modelSpec = candidateSpec(source, spec.key, out.model, out.modelSpec);
    let files: ModelFiles;
    if (out.files) {
      files = out.files;
      await saveFilesBundle(source, run.id, runDir, files, modelSpec, out.history, testEvaluation);
    } else {
      await saveBundle(store, run.id, runDir, {
        model: out.model,
        preprocessor: source.bundle.preprocessor,
        profile: source.profile,
        spec: modelSpec,
        history: out.history,
        ...(testEvaluation ? { evaluation: testEvaluation } : {}),
      });
      files = {
        modelJson: readFileSync(join(runDir, 'model', MODEL_JSON)),
        weights: readFileSync(join(runDir, 'model', WEIGHTS_BIN)),
        weightSpecs: [],
      };
    }
    // The source's drift reference (its raw training sample) goes with the candidate: same training
    // data, so a server can watch the compressed model for drift too.
    await copyDriftReference(store, source.run, run.id);
    const size = sizeOfFiles(files);
    const report = await compressionReport(scored, files);
    const timing = { ...(options.latencyRounds ? { rounds: options.latencyRounds } : {}) };
    const pair = [source.bundle.model, scored];
    const tfjs = latencyPair(await measureLatency(pair, source.validation.xShape, timing));
    const onnx = await tryOnnxLatency(pair, source.validation.xShape, timing);
    const served = 'latency' in onnx ? latencyPair(onnx.latency) : latencyPair([]);
    const notes = out.notes ?? [];
    if ('error' in onnx) notes.push(`no onnxruntime latency: ${onnx.error}`);
    const seconds = (performance.now() - started) / 1000;
    const result: CandidateResult = {
      key: spec.key,
      runId: run.id,
      status: 'finished',
      techniques: spec.techniques,
      validation,
      drop: source.validationScore - validation,
      test,
      ...(testEvaluation ? { testEvaluation } : {}),
      params: report.params,
      nonzeroParams: report.nonzeroParams,
      size,
      sizeRatio: source.size.gzipBytes / size.gzipBytes,
      latencyMs: tfjs.latencyMs,
      speedup: tfjs.speedup,
      onnxLatencyMs: served.latencyMs,
      onnxSpeedup: served.speedup,
      report,
      seconds,
      notes,
    };
    await store.logMetrics(run.id, metricPoints(result, source, out.metrics ?? {}, out.history.length));
    await store.logArtifact(run.id, {
      name: 'compression-report.json',
      data: JSON.stringify(report, null, 2) + '\n',
    });
    for (const a of out.artifacts ?? []) await store.logArtifact(run.id, a);
    await store.finishRun(run.id, 'finished');
    log(
      `validation ${validation.toFixed(4)} (change ${(-result.drop).toFixed(4)}), test ${test.toFixed(4)}, ` +
        `gzipped ${size.gzipBytes} B (${result.sizeRatio.toFixed(2)}x smaller), speedup at b1/b128: tfjs ${tfjs.speedup.b1.toFixed(2)}x/${tfjs.speedup.b128.toFixed(2)}x, ` +
        `onnxruntime ${served.speedup.b1.toFixed(2)}x/${served.speedup.b128.toFixed(2)}x`,
    );
    return result;
  } catch (e) {
    const err = toModelautoError(e);
    await store.finishRun(run.id, 'failed', `${err.code}: ${err.message}`).catch(() => undefined);
    throw err;
  } finally {
    if (scored && scored !== out?.model) scored.dispose();
    out?.model.dispose();
  }
}

/** Candidate latency (batch 1 and 128) and its paired speedup over the source, from [source, candidate] timings. */
function latencyPair(timings: Latency[][]): Pick<CandidateResult, 'latencyMs' | 'speedup'> {
  const [base, cand] = timings;
  const at = (i: number): [Latency | undefined, Latency | undefined] => [base?.[i], cand?.[i]];
  const ms = (i: number): number => at(i)[1]?.ms ?? Number.NaN;
  const speedup = (i: number): number => {
    const [b, c] = at(i);
    return b && c ? pairedSpeedup(b, c) : Number.NaN;
  };
  return { latencyMs: { b1: ms(0), b128: ms(1) }, speedup: { b1: speedup(0), b128: speedup(1) } };
}

/** Counts finished epochs, so that each fit of a candidate logs its epochs after the previous fit's. */
class StepCounter extends BaseCallback {
  constructor(private readonly onEpoch: () => void) {
    super();
  }
  onEpochEnd(): void {
    this.onEpoch();
  }
}

/** Per-epoch logs as run metrics at step offset + epoch + 1 (TrackingCallback's steps, continued). */
class TrackingCallback extends BaseCallback {
  constructor(
    private readonly store: TrackingStore,
    private readonly runId: string,
    private readonly offset: number,
  ) {
    super();
  }
  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const timestamp = Date.now();
    await this.store.logMetrics(
      this.runId,
      Object.entries(logs).map(([key, value]) => ({ key, value, step: this.offset + epoch + 1, timestamp })),
    );
  }
}

function emptyResult(spec: CandidateSpec, runId: string, source: Source, seconds: number): CandidateResult {
  const nan = Number.NaN;
  return {
    key: spec.key,
    runId,
    status: 'interrupted',
    techniques: spec.techniques,
    validation: nan,
    drop: nan,
    test: nan,
    params: 0,
    nonzeroParams: 0,
    size: { rawBytes: 0, gzipBytes: 0, weightsBytes: 0, weightsGzipBytes: 0 },
    sizeRatio: nan,
    latencyMs: { b1: nan, b128: nan },
    speedup: { b1: nan, b128: nan },
    onnxLatencyMs: { b1: nan, b128: nan },
    onnxSpeedup: { b1: nan, b128: nan },
    seconds,
    notes: [`source ${source.run.id.slice(0, 8)}: interrupted before scoring`],
  };
}

/**
 * Run metrics of a scored candidate, at the step of the last fine-tuning epoch. Scores are `val_score` and
 * `test_score` (accuracy, or -MAE for regression), distinct from the per-epoch `val_accuracy` of fine-tuning.
 */
function metricPoints(r: CandidateResult, source: Source, extra: Record<string, number>, step: number) {
  const values: Record<string, number> = {
    val_score: r.validation,
    val_score_change: -r.drop,
    test_score: r.test,
    baseline_val_score: source.validationScore,
    baseline_test_score: source.testScore,
    params: r.params,
    nonzero_params: r.nonzeroParams,
    sparsity: r.params === 0 ? 0 : 1 - r.nonzeroParams / r.params,
    size_raw_bytes: r.size.rawBytes,
    size_gzip_bytes: r.size.gzipBytes,
    weights_raw_bytes: r.size.weightsBytes,
    weights_gzip_bytes: r.size.weightsGzipBytes,
    baseline_size_gzip_bytes: source.size.gzipBytes,
    size_ratio_gzip: r.sizeRatio,
    latency_b1_ms: r.latencyMs.b1,
    latency_b128_ms: r.latencyMs.b128,
    speedup_b1: r.speedup.b1,
    speedup_b128: r.speedup.b128,
    onnx_latency_b1_ms: r.onnxLatencyMs.b1,
    onnx_latency_b128_ms: r.onnxLatencyMs.b128,
    onnx_speedup_b1: r.onnxSpeedup.b1,
    onnx_speedup_b128: r.onnxSpeedup.b128,
    seconds: r.seconds,
    ...extra,
  };
  for (const [k, v] of Object.entries(r.testEvaluation?.scalars ?? {})) values[`test_${k}`] = v;
  return Object.entries(values).map(([key, value]) => ({ key, value, step }));
}

/** Logs the source run's drift reference artifacts (when it has them) on the candidate run. */
async function copyDriftReference(store: TrackingStore, sourceRun: RunRecord, runId: string): Promise<void> {
  const names = new Set(sourceRun.artifacts.map((a) => a.name));
  for (const name of [ARTIFACTS.referenceSample, REFERENCE_ARTIFACTS.data]) {
    if (names.has(name))
      await store.logArtifact(runId, {
        name,
        data: new Uint8Array(await store.readArtifact(sourceRun.id, name)),
      });
  }
}

/** The bundle of a candidate whose model files are given (quantized): same artifact names as saveBundle. */
async function saveFilesBundle(
  source: Source,
  runId: string,
  runDir: string,
  files: ModelFiles,
  spec: ExperimentSpec,
  history: Logs[],
  evaluation: Evaluation | undefined,
): Promise<void> {
  const { store } = source;
  const dir = join(runDir, 'model');
  writeModelFiles(dir, files);
  const json = (v: unknown): string => JSON.stringify(v, null, 2) + '\n';
  await store.logArtifact(runId, { name: ARTIFACTS.modelJson, path: join(dir, MODEL_JSON) });
  await store.logArtifact(runId, { name: ARTIFACTS.weights, path: join(dir, WEIGHTS_BIN) });
  await store.logArtifact(runId, {
    name: ARTIFACTS.preprocessor,
    data: json(source.bundle.preprocessor.toJSON()),
  });
  await store.logArtifact(runId, { name: ARTIFACTS.profile, data: json(source.profile) });
  await store.logArtifact(runId, { name: ARTIFACTS.spec, data: json(spec) });
  await store.logArtifact(runId, { name: ARTIFACTS.history, data: json(history) });
  if (evaluation) await store.logArtifact(runId, { name: ARTIFACTS.evaluation, data: json(evaluation) });
}
