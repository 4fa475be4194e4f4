/**
 * The experiment a train or search step runs: an experiment file (relative to the pipeline file) or an
 * inline spec, optionally with its `data:` replaced (fresh data from a data step) and fields overridden
 * by path (`set: { train.epochs: 3 }`). Errors name the step's field and what was expected.
 */
import { isAbsolute, resolve, dirname } from 'node:path';
import { z } from 'zod';
import { ModelautoError } from '../../core/errors.js';
import { sha256File } from '../../core/hash.js';
import { DataSpecSchema, type DataSpec } from '../../data/spec.js';
import {
  ExperimentSpecSchema,
  loadExperimentSpec,
  parseExperimentSpec,
  type ExperimentSpec,
} from '../../train/experiment.js';
import { formatZodError } from '../../core/zod-error.js';
import { formatIssues } from './zod.js';
import { JsonValueSchema, type JsonValue } from '../../store/types.js';
import { applySet, parsePath, setPath } from './paths.js';

export const ExperimentSourceSchema = z.union([
  z.string().min(1, 'expected an experiment file path'),
  z.record(z.string(), z.unknown()),
]);

/** The fields a train and a search step share. */
export const ExperimentInputShape = {
  /** An experiment file (relative to the pipeline file) or an inline experiment spec. */
  experiment: ExperimentSourceSchema,
  /** Replaces the experiment's `data:` (relative paths are the pipeline file's). */
  data: z.record(z.string(), z.unknown()).optional(),
  /** Overrides by path: `train.epochs: 3`, `model.layers[0].units: 64`. */
  set: z.record(z.string(), JsonValueSchema).optional(),
};

export interface ExperimentInput {
  experiment: string | Record<string, unknown>;
  data?: Record<string, unknown> | undefined;
  set?: Record<string, JsonValue> | undefined;
}

export interface ResolvedExperiment {
  spec: ExperimentSpec;
  /** What relative data paths in `spec` are resolved against. */
  baseDir: string;
  /** The experiment file, when it came from one. */
  file?: string;
}

/** Loads, replaces `data`, applies `set`, and validates; `what` prefixes error paths (`steps.train.with`). */
export function resolveExperiment(input: ExperimentInput, baseDir: string, what: string): ResolvedExperiment {
  let spec: ExperimentSpec;
  let specDir = baseDir;
  let file: string | undefined;
  if (typeof input.experiment === 'string') {
    file = resolve(baseDir, input.experiment);
    spec = loadExperimentSpec(file);
    specDir = dirname(file);
  } else {
    spec = parseSpec(input.experiment, (e) => formatIssues(e, `${what}.experiment`));
  }
  let json = JSON.parse(JSON.stringify(spec)) as JsonValue;
  if (input.data) {
    const data = DataSpecSchema.safeParse(input.data);
    if (!data.success) {
      throw new ModelautoError('INVALID_SPEC', formatIssues(data.error, `${what}.data`));
    }
    json = setPath(json, ['data'], absoluteData(data.data, baseDir) as unknown as JsonValue);
  }
  for (const [path, value] of Object.entries(input.set ?? {})) {
    json = applySet(json, parsePath(path, `${what}.set`), value, `${what}.set[${JSON.stringify(path)}]`);
  }
  if (input.data || input.set) {
    const applied = input.set ? `${what}.set` : `${what}.data`;
    spec = parseSpec(json, (e) => `${applied}: the experiment becomes invalid: ${formatZodError(e)}`);
  }
  return { spec, baseDir: specDir, ...(file ? { file } : {}) };
}

function parseSpec(value: unknown, message: (e: z.ZodError) => string): ExperimentSpec {
  const r = ExperimentSpecSchema.safeParse(value);
  if (!r.success) throw new ModelautoError('INVALID_SPEC', message(r.error));
  return parseExperimentSpec(r.data);
}

/** The data spec with its file paths made absolute, so that it means the same from any folder. */
export function absoluteData(data: DataSpec, baseDir: string): DataSpec {
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  if ('csv' in data) return { ...data, csv: at(data.csv) };
  if ('jsonl' in data) return { ...data, jsonl: at(data.jsonl) };
  if ('idx' in data) return { ...data, idx: { images: at(data.idx.images), labels: at(data.idx.labels) } };
  return data;
}

/**
 * What identifies the data's content without loading it: the SHA-256 of its files, or the name of a
 * built-in set (they are fixed by the installed package). Feeds the step cache key.
 */
export async function dataFingerprint(data: DataSpec, baseDir: string): Promise<JsonValue> {
  const abs = absoluteData(data, baseDir);
  try {
    if ('csv' in abs) return { csv: await sha256File(abs.csv) };
    if ('jsonl' in abs) return { jsonl: await sha256File(abs.jsonl) };
    if ('idx' in abs) {
      return { images: await sha256File(abs.idx.images), labels: await sha256File(abs.idx.labels) };
    }
  } catch (e) {
    throw new ModelautoError('NOT_FOUND', `cannot read the data: ${(e as Error).message}`, { cause: e });
  }
  return { builtin: abs.source };
}
