import { extname, resolve } from 'node:path';
import { writeJsonAtomic } from '../core/atomic.js';
import { ModelautoError, toModelautoError } from '../core/errors.js';
import { fingerprintDataset } from '../data/fingerprint.js';
import { loadDataset } from '../data/load.js';
import type { DataSpec } from '../data/spec.js';
import { splitDataset } from '../data/split.js';
import type { Dataset } from '../data/types.js';
import { setupBackend } from '../engine/backend.js';
import type { RunRecord } from '../store/types.js';
import { loadBundle } from './bundle.js';
import { evaluatePredictions, type Evaluation } from './evaluation.js';
import { withStore, type StoreOption } from './runs.js';
import { toTensorData } from './train-job.js';

export const EVAL_SPLITS = ['test', 'validation', 'train'] as const;
export type EvalSplit = (typeof EVAL_SPLITS)[number];

export interface EvaluateJobOptions extends StoreOption {
  /** Which split of the run's own data to score (re-created from the recorded seed); default test. */
  split?: EvalSplit;
  /**
   * A CSV or JSON Lines file with the training data's columns, scored whole instead of a split
   * (read with the run's own loader options: label, column types, missing values, classes).
   */
  data?: string;
  /** Also write the evaluation as JSON to this file. */
  output?: string;
}

export interface EvaluateJobResult {
  run: RunRecord;
  sourceRunId: string;
  split: string;
  evaluation: Evaluation;
  output?: string;
}

/**
 * Scores a trained run's model on a split of its data or on a new file, with the preprocessing saved at
 * training time, and records an `evaluate` run linked to the trained one.
 */
export async function runEvaluateJob(
  runRef: string,
  options: EvaluateJobOptions = {},
): Promise<EvaluateJobResult> {
  return withStore(options, async (store) => {
    const sourceRunId = await store.resolveRunId(runRef);
    const source = await store.getRun(sourceRunId);
    const bundle = await loadBundle(store, sourceRunId);
    const classes = Array.isArray(source.params['classes'])
      ? (source.params['classes'] as string[])
      : undefined;

    let data: Dataset;
    let splitName: string;
    if (options.data) {
      data = await loadDataset(replaceSource(bundle.spec.data, options.data, classes), {
        baseDir: process.cwd(),
      });
      splitName = `file ${options.data}`;
    } else {
      const split = options.split ?? 'test';
      const specDir = typeof source.params['specDir'] === 'string' ? source.params['specDir'] : process.cwd();
      const full = await loadDataset(bundle.spec.data, { baseDir: specDir });
      if (source.dataFingerprint && fingerprintDataset(full) !== source.dataFingerprint) {
        throw new ModelautoError(
          'CONFLICT',
          `the data of run ${sourceRunId.slice(0, 8)} changed since training (fingerprint differs): its ${split} split cannot be re-created; evaluate on a file with --data instead`,
        );
      }
      data = splitDataset(full, bundle.spec.data.split)[split];
      splitName = `${split} split`;
    }
    if (data.n === 0) throw new ModelautoError('INVALID_DATA', `the ${splitName} has no samples to evaluate`);

    await setupBackend({});
    // Scoring reads the true labels from the data set itself; the encoded targets are not needed.
    const tensors = toTensorData(bundle.preprocessor, data, 'index');

    const run = await store.createRun({
      name: `${source.name}-eval`,
      kind: 'evaluate',
      parentRunId: sourceRunId,
      params: { source_run: sourceRunId, split: splitName },
      dataFingerprint: fingerprintDataset(data),
    });
    try {
      const evaluation = await evaluatePredictions(bundle.model, tensors, data.target, data);
      await store.logMetrics(
        run.id,
        Object.entries(evaluation.scalars).map(([key, value]) => ({ key, value, step: 0 })),
      );
      await store.logArtifact(run.id, {
        name: 'evaluation.json',
        data: JSON.stringify(evaluation, null, 2) + '\n',
      });
      if (options.output) writeJsonAtomic(resolve(options.output), evaluation);
      const finished = await store.finishRun(run.id, 'finished');
      return {
        run: finished,
        sourceRunId,
        split: splitName,
        evaluation,
        ...(options.output ? { output: resolve(options.output) } : {}),
      };
    } catch (e) {
      const err = toModelautoError(e);
      await store.finishRun(run.id, 'failed', `${err.code}: ${err.message}`).catch(() => undefined);
      throw err;
    } finally {
      bundle.model.dispose();
    }
  });
}

/** The training data spec with its file swapped for `file` (same loader options), scored whole. */
function replaceSource(spec: DataSpec, file: string, classes: string[] | undefined): DataSpec {
  const ext = extname(file.replace(/\.gz$/, '')).toLowerCase();
  if (!('label' in spec)) {
    throw new ModelautoError(
      'USAGE',
      `--data: the run was trained on ${'source' in spec ? `the built-in ${spec.source}` : 'IDX files'}; --data takes CSV or JSON Lines files of a run trained on such files`,
    );
  }
  const {
    csv: _c,
    jsonl: _j,
    delimiter: _d,
    ...rest
  } = spec as DataSpec & { csv?: string; jsonl?: string; delimiter?: string };
  const common = { ...rest, ...(classes ? { classes } : {}) };
  if (ext === '.csv' || ext === '.tsv') {
    return {
      ...common,
      csv: resolve(file),
      ...('delimiter' in spec && spec.delimiter ? { delimiter: spec.delimiter } : {}),
    } as DataSpec;
  }
  if (ext === '.jsonl' || ext === '.ndjson') return { ...common, jsonl: resolve(file) } as DataSpec;
  throw new ModelautoError('USAGE', `--data ${file}: expected a .csv, .tsv, .jsonl or .ndjson file`);
}
