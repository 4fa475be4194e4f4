/**
 * Registered versions scored offline on one set of labelled images (e.g. a shifted holdout no model
 * trained on): each version's model from its source run, with its own preprocessing, the same rows for
 * all — what "the new champion beats the old one on the shifted data" is measured with.
 */
import { ModelautoError } from '../../core/errors.js';
import type { Dataset } from '../../data/types.js';
import { setupBackend } from '../../engine/backend.js';
import type { Stores } from '../../store/open.js';
import { loadBundle } from '../bundle.js';
import { scoreOnHoldout } from '../flow/gate/measure.js';
import type { LabelledImages } from './digits.js';

export interface VersionScore {
  version: number;
  runId: string;
  accuracy: number;
  f1Macro: number;
}

function asDataset(images: LabelledImages, classes: string[]): Dataset {
  const y = Int32Array.from(images.labels, (label, i) => {
    const k = classes.indexOf(label);
    if (k < 0) {
      throw new ModelautoError(
        'INVALID_DATA',
        `${images.description}: row ${i} has class ${JSON.stringify(label)}, which the model does not predict (${classes.join(', ')})`,
      );
    }
    return k;
  });
  return {
    name: images.description,
    n: images.n,
    features: { kind: 'tensor', shape: images.shape, data: images.data },
    target: { kind: 'classification', name: 'label', classes, y },
    source: { kind: 'memory', location: images.description },
  };
}

export async function scoreVersions(
  stores: Stores,
  model: string,
  versions: readonly number[],
  images: LabelledImages,
): Promise<VersionScore[]> {
  await setupBackend({});
  const out: VersionScore[] = [];
  for (const version of versions) {
    const record = await stores.registry.getVersion(model, version);
    if (!record.sourceRunId) {
      throw new ModelautoError('CONFLICT', `${model}:${version} has no source run to load its model from`);
    }
    const run = await stores.tracking.getRun(record.sourceRunId);
    const classes = run.params['classes'];
    if (!Array.isArray(classes)) {
      throw new ModelautoError(
        'CONFLICT',
        `${model}:${version} is not a classifier (its run records no classes)`,
      );
    }
    const bundle = await loadBundle(stores.tracking, record.sourceRunId);
    try {
      const scores = await scoreOnHoldout(bundle, {
        data: asDataset(images, classes.map(String)),
        classes: classes.map(String),
        description: images.description,
      });
      out.push({
        version,
        runId: record.sourceRunId,
        accuracy: scores['test_accuracy'] ?? Number.NaN,
        f1Macro: scores['test_f1_macro'] ?? Number.NaN,
      });
    } finally {
      bundle.model.dispose();
    }
  }
  return out;
}
