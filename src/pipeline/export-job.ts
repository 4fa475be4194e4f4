import type * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ModelautoError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { fingerprintDataset } from '../data/fingerprint.js';
import { loadDataset } from '../data/load.js';
import type { Preprocessor } from '../data/preprocess.js';
import { splitDataset } from '../data/split.js';
import type { Dataset } from '../data/types.js';
import { EXPORT_MANIFEST, type ExportFormat, type ExportManifest } from '../export/manifest.js';
import { exportOnnx, type Int8Mode, type OnnxExportOptions } from '../export/onnx/export.js';
import type { CalibrationMethod } from '../export/onnx/quantize/calibrate.js';
import { parseRanges, type Range } from '../export/onnx/quantize/params.js';
import { createSession } from '../export/onnx/runtime.js';
import { calibrationBatches, predictDataset, scorePredictions, type Score } from '../export/onnx/score.js';
import { exportTfjs, loadTfjsExport, type ExportResult } from '../export/tfjs.js';
import { loadModel } from '../model/io.js';
import type { TrackingStore } from '../store/tracking-store.js';
import type { RunRecord } from '../store/types.js';
import { loadBundle } from './bundle.js';
import { withStore, type StoreOption } from './runs.js';

export interface ExportJobOptions extends StoreOption {
  format: ExportFormat;
  /** ONNX only: also write an int8 model. */
  int8?: Int8Mode;
  /** Static int8: calibration samples taken from the run's training split (default 512). */
  calibration?: number;
  calibrationMethod?: CalibrationMethod;
  /** Percentile calibration: share of values inside the range, in percent (default 99.999). */
  percentile?: number;
  /** Static int8: activation ranges learned by quantization-aware training, by layer name. */
  ranges?: Record<string, Range>;
  /**
   * Static int8 of a run trained with activation fake-quantization (`modelauto quantize --dtype int8
   * --activations`): use the ranges it learned, recorded on the run as `qat-ranges.json`, and calibrate
   * only what it did not learn (the model input) on the training split (default true; `ranges` wins).
   */
  learnedRanges?: boolean;
  /** ONNX: short internal names and no descriptive metadata in the files (default true). */
  compact?: boolean;
  /** 7-bit int8 weights (CPUs without VNNI). */
  reduceRange?: boolean;
  /** Output folder (default: the run's folder, `export/<format>/...`; for a model folder `./export/<format>/...`). */
  outDir?: string;
  /** ONNX only: the preprocessing as graph nodes (the model then takes raw data). */
  includePreprocessing?: boolean;
  /** Status lines; default silent. */
  log?: (line: string) => void;
}

export interface ExportedFile {
  path: string;
  /** Artifact name on the run (absent when exported from a model folder). */
  artifact?: string;
  bytes: number;
  sha256: string;
}

export interface ExportJobResult {
  /** The run the export was recorded on; null when exporting a model folder. */
  runId: string | null;
  format: ExportFormat;
  dir: string;
  manifest: ExportManifest;
  files: ExportedFile[];
  /** int8: float and int8 scores on the run's test split (accuracy, or mae for regression). */
  evaluation?: { split: string; float: Score; int8: Score };
  /** ONNX model sizes in bytes. */
  sizes?: { float: number; int8?: number };
  /** Static int8: the run artifact the activation ranges were learned in (QAT), when they were used. */
  learnedRanges?: string;
}

const DEFAULT_CALIBRATION = 512;

/**
 * The artifact in which quantization-aware training with activation fake-quantization records its learned
 * ranges (written by src/pipeline/optimize/techniques.ts): `{"<layer>": {"min": .., "max": ..}}`.
 */
export const QAT_RANGES_ARTIFACT = 'qat-ranges.json';

interface Source {
  model: tf.LayersModel;
  preprocessor?: Preprocessor;
  run?: RunRecord;
  /** Re-creates a split of the run's data (runs only). */
  split?: (which: 'train' | 'test') => Promise<Dataset>;
}

/**
 * Exports a trained run's model (or a model folder) to the tfjs format or ONNX, records every written
 * file as an artifact of the run (`export/<format>/...`), and for int8 scores the float and int8 ONNX
 * models on the run's test split and records both as metrics on the run.
 */
export async function runExportJob(runRef: string, given: ExportJobOptions): Promise<ExportJobResult> {
  checkOptions(given);
  const log = given.log ?? (() => undefined);
  if (isModelFolder(runRef)) return exportFolder(resolve(runRef), given, log);
  return withStore(given, async (store) => {
    const runId = await store.resolveRunId(runRef);
    const run = await store.getRun(runId);
    const bundle = await loadBundle(store, runId);
    const source: Source = {
      model: bundle.model,
      preprocessor: bundle.preprocessor,
      run,
      split: async (which) => {
        const specDir = typeof run.params['specDir'] === 'string' ? run.params['specDir'] : process.cwd();
        const full = await loadDataset(bundle.spec.data, { baseDir: specDir });
        if (run.dataFingerprint && fingerprintDataset(full) !== run.dataFingerprint) {
          throw new ModelautoError(
            'CONFLICT',
            `the data of run ${runId.slice(0, 8)} changed since training (fingerprint differs): its ${which} split cannot be re-created`,
          );
        }
        return splitDataset(full, bundle.spec.data.split)[which];
      },
    };
    try {
      const learned = await learnedRanges(store, run, given);
      if (learned)
        log(`static int8: activation ranges learned by quantization-aware training (${learned.from})`);
      // What QAT did not learn (the input) is calibrated on the run's own training split.
      const options: ExportJobOptions = learned
        ? { ...given, ranges: learned.ranges, calibration: given.calibration ?? DEFAULT_CALIBRATION }
        : given;
      const variant = variantName(options);
      const dir = resolve(
        options.outDir ?? join(await store.runDir(runId), 'export', options.format, variant),
      );
      const result = await exportFrom(source, dir, options, log);
      const files = await recordArtifacts(
        store,
        runId,
        result,
        `export/${options.format}${variant ? `/${variant}` : ''}`,
      );
      const job: ExportJobResult = { runId, format: options.format, dir, manifest: result.manifest, files };
      if (options.format === 'onnx') job.sizes = onnxSizes(result.manifest);
      if (learned) job.learnedRanges = learned.from;
      if (options.int8 && options.format === 'onnx' && source.split && bundle.preprocessor) {
        job.evaluation = await evaluateInt8(result, await source.split('test'), bundle.preprocessor, options);
        log(
          `test ${job.evaluation.float.metric}: float ${job.evaluation.float.value.toFixed(4)}, int8 ${job.evaluation.int8.value.toFixed(4)}`,
        );
        const prefix = `export_onnx`;
        const metric = job.evaluation.float.metric;
        await store.logMetrics(runId, [
          { key: `${prefix}_float_test_${metric}`, value: job.evaluation.float.value, step: 0 },
          { key: `${prefix}_int8_${options.int8}_test_${metric}`, value: job.evaluation.int8.value, step: 0 },
          { key: `${prefix}_float_bytes`, value: job.sizes?.float ?? 0, step: 0 },
          { key: `${prefix}_int8_${options.int8}_bytes`, value: job.sizes?.int8 ?? 0, step: 0 },
        ]);
      }
      return job;
    } finally {
      bundle.model.dispose();
    }
  });
}

function checkOptions(o: ExportJobOptions): void {
  if (o.format !== 'tfjs' && o.format !== 'onnx') {
    throw new ModelautoError('USAGE', `--format: expected tfjs or onnx, got ${String(o.format)}`);
  }
  if (o.format === 'tfjs' && (o.int8 || o.includePreprocessing)) {
    throw new ModelautoError(
      'USAGE',
      `--format tfjs: ${o.int8 ? '--int8' : '--include-preprocessing'} applies to ONNX only`,
    );
  }
  if (o.calibration !== undefined && (!Number.isInteger(o.calibration) || o.calibration < 1)) {
    throw new ModelautoError('USAGE', `--calibration: expected a positive integer, got ${o.calibration}`);
  }
  if (o.learnedRanges === false && o.int8 !== 'static') {
    throw new ModelautoError(
      'USAGE',
      '--no-learned-ranges: learned ranges are for static int8 quantization (add --int8 static)',
    );
  }
  if (o.compact === false && o.format !== 'onnx') {
    throw new ModelautoError('USAGE', '--full-names: applies to ONNX only');
  }
  if (o.ranges !== undefined && o.int8 !== 'static') {
    throw new ModelautoError(
      'USAGE',
      '--ranges: learned ranges are for static int8 quantization (add --int8 static)',
    );
  }
  if (o.calibrationMethod !== undefined && o.int8 !== 'static') {
    throw new ModelautoError(
      'USAGE',
      '--calibration-method: only static int8 quantization is calibrated (add --int8 static)',
    );
  }
  if (o.percentile !== undefined && o.calibrationMethod !== 'percentile') {
    throw new ModelautoError('USAGE', '--percentile: goes with --calibration-method percentile');
  }
  if (o.calibration !== undefined && o.int8 !== 'static') {
    throw new ModelautoError(
      'USAGE',
      '--calibration: only static int8 quantization is calibrated (add --int8 static)',
    );
  }
}

/**
 * The ranges a QAT run learned, for a static int8 export that was given none and did not opt out; an
 * unreadable or malformed artifact is an error naming it, never a silent fall back to calibration.
 */
async function learnedRanges(
  store: TrackingStore,
  run: RunRecord,
  o: ExportJobOptions,
): Promise<{ ranges: Record<string, Range>; from: string } | undefined> {
  if (o.format !== 'onnx' || o.int8 !== 'static' || o.ranges || o.learnedRanges === false) return undefined;
  if (!run.artifacts.some((a) => a.name === QAT_RANGES_ARTIFACT)) return undefined;
  const from = `run ${run.id.slice(0, 8)}: ${QAT_RANGES_ARTIFACT}`;
  const text = (await store.readArtifact(run.id, QAT_RANGES_ARTIFACT)).toString('utf8');
  return { ranges: parseRanges(text, from), from };
}

/** A path to a folder with a model.json (or the model.json itself) rather than a run reference. */
function isModelFolder(ref: string): boolean {
  if (!existsSync(ref)) return false;
  const s = statSync(ref);
  return s.isDirectory() ? existsSync(join(ref, 'model.json')) : ref.endsWith('.json');
}

/**
 * Sub-folder for one set of options, so different exports of one run never collide as artifacts and the
 * same export repeated is the same files.
 */
export function variantName(o: ExportJobOptions): string {
  if (o.format === 'tfjs') return '';
  const parts: string[] = [];
  if (!o.int8) parts.push('float');
  else if (o.int8 === 'dynamic') parts.push('int8-dynamic');
  else if (o.ranges) parts.push('int8-static-learned');
  else parts.push(`int8-static-${o.calibrationMethod ?? 'minmax'}-n${o.calibration ?? DEFAULT_CALIBRATION}`);
  if (o.reduceRange) parts.push('7bit');
  if (o.includePreprocessing) parts.push('preprocessing');
  if (o.compact === false) parts.push('full-names');
  return parts.join('-');
}

async function exportFrom(
  source: Source,
  dir: string,
  options: ExportJobOptions,
  log: (l: string) => void,
): Promise<ExportResult> {
  const common = {
    ...(source.preprocessor ? { preprocessor: source.preprocessor } : {}),
    ...(source.run ? { sourceRun: source.run.id } : {}),
  };
  if (options.format === 'tfjs') {
    log(`exporting ${source.model.name} to the tfjs format in ${dir}`);
    return exportTfjs(source.model, dir, common);
  }
  const onnx: OnnxExportOptions = {
    ...common,
    ...(options.includePreprocessing ? { includePreprocessing: true } : {}),
    ...(options.int8 ? { int8: options.int8 } : {}),
    ...(options.calibrationMethod ? { calibrationMethod: options.calibrationMethod } : {}),
    ...(options.percentile !== undefined ? { percentile: options.percentile } : {}),
    ...(options.ranges ? { ranges: options.ranges } : {}),
    ...(options.reduceRange ? { reduceRange: true } : {}),
    ...(options.compact === false ? { compact: false } : {}),
  };
  // Learned ranges need no data; with --calibration too, what they miss is calibrated.
  if (options.int8 === 'static' && (!options.ranges || options.calibration !== undefined)) {
    if (!source.split || !source.preprocessor) {
      throw new ModelautoError(
        'USAGE',
        '--int8 static: calibration needs a run (its training split); a model folder has no data',
      );
    }
    const n = options.calibration ?? DEFAULT_CALIBRATION;
    const train = await source.split('train');
    log(`calibrating on ${Math.min(n, train.n)} training samples (${options.calibrationMethod ?? 'minmax'})`);
    onnx.calibration = calibrationBatches(
      train,
      source.preprocessor,
      options.includePreprocessing === true,
      n,
    );
  }
  log(`exporting ${source.model.name} to ONNX${options.int8 ? ` (+ int8 ${options.int8})` : ''} in ${dir}`);
  return exportOnnx(source.model, dir, onnx);
}

async function recordArtifacts(
  store: TrackingStore,
  runId: string,
  result: ExportResult,
  prefix: string,
): Promise<ExportedFile[]> {
  const out: ExportedFile[] = [];
  const entries = new Map(result.manifest.files.map((f) => [f.path, f]));
  for (const file of result.files) {
    const path = join(result.dir, file);
    const record = await store.logArtifact(runId, { name: `${prefix}/${file}`, path });
    const listed = entries.get(file);
    out.push({ path, artifact: record.name, bytes: listed?.bytes ?? record.size, sha256: record.sha256 });
  }
  return out;
}

function onnxSizes(m: ExportManifest): { float: number; int8?: number } {
  const size = (p: string | undefined) => m.files.find((f) => f.path === p)?.bytes;
  const int8 = size(m.models.int8);
  return { float: size(m.models.float) ?? 0, ...(int8 !== undefined ? { int8 } : {}) };
}

async function evaluateInt8(
  result: ExportResult,
  test: Dataset,
  preprocessor: Preprocessor,
  options: ExportJobOptions,
): Promise<{ split: string; float: Score; int8: Score }> {
  if (test.n === 0)
    throw new ModelautoError('INVALID_DATA', 'the run has no test split to compare float and int8 on');
  const inGraph = options.includePreprocessing === true;
  const score = async (file: string) => {
    const session = await createSession(join(result.dir, file));
    try {
      return scorePredictions(await predictDataset(session, test, preprocessor, inGraph), test.target);
    } finally {
      await session.release();
    }
  };
  const int8File = result.manifest.models.int8;
  if (!int8File) throw new ModelautoError('INTERNAL', 'the int8 model was not written');
  return { split: 'test', float: await score(result.manifest.models.float), int8: await score(int8File) };
}

/** A model folder (plain tfjs or a modelauto tfjs export): exported, not recorded (there is no run). */
async function exportFolder(
  ref: string,
  options: ExportJobOptions,
  log: (l: string) => void,
): Promise<ExportJobResult> {
  const folder = statSync(ref).isDirectory() ? ref : dirname(ref);
  let source: Source;
  if (existsSync(join(folder, EXPORT_MANIFEST))) {
    const loaded = await loadTfjsExport(folder);
    source = { model: loaded.model, ...(loaded.preprocessor ? { preprocessor: loaded.preprocessor } : {}) };
  } else {
    source = { model: await loadModel(folder) };
  }
  if (options.includePreprocessing && !source.preprocessor) {
    throw new ModelautoError(
      'USAGE',
      `--include-preprocessing: ${folder} has no saved preprocessing (export a run instead)`,
    );
  }
  try {
    const variant = variantName(options);
    const dir = resolve(options.outDir ?? join('export', options.format, variant));
    const result = await exportFrom(source, dir, options, log);
    const files = result.files.map((f) => {
      const data = readFileSync(join(result.dir, f));
      return { path: join(result.dir, f), bytes: data.byteLength, sha256: sha256(data) };
    });
    const job: ExportJobResult = {
      runId: null,
      format: options.format,
      dir,
      manifest: result.manifest,
      files,
    };
    if (options.format === 'onnx') job.sizes = onnxSizes(result.manifest);
    return job;
  } finally {
    source.model.dispose();
  }
}
