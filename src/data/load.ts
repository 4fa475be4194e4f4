import { isAbsolute, resolve } from 'node:path';
import { loadBuiltin } from './builtin.js';
import { loadCsv } from './csv.js';
import { loadIdx } from './idx.js';
import { loadJsonl } from './jsonl.js';
import type { DataSpec } from './spec.js';
import { headDataset } from './split.js';
import type { Dataset } from './types.js';

export interface LoadDatasetOptions {
  /** Directory that relative paths in the spec are resolved against (usually the spec file's directory). */
  baseDir: string;
}

/** Loads the data set a validated `data:` spec describes, applying `limit` / `testLimit`. */
export async function loadDataset(spec: DataSpec, options: LoadDatasetOptions): Promise<Dataset> {
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(options.baseDir, p));
  let ds: Dataset;
  if ('source' in spec) {
    return loadBuiltin(spec.source, { limit: spec.limit, testLimit: spec.testLimit });
  } else if ('csv' in spec) {
    const { csv, delimiter, label, numeric, categorical, ignore, classes, task, missing } = spec;
    ds = await loadCsv(at(csv), { delimiter, label, numeric, categorical, ignore, classes, task, missing });
  } else if ('jsonl' in spec) {
    const { jsonl, label, numeric, categorical, ignore, classes, task, missing } = spec;
    ds = await loadJsonl(at(jsonl), { label, numeric, categorical, ignore, classes, task, missing });
  } else {
    ds = await loadIdx(at(spec.idx.images), at(spec.idx.labels), { name: spec.name });
  }
  return headDataset(ds, spec.limit);
}
