import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import { loadExperimentSpec } from '../../src/train/experiment.js';

const dir = mkdtempSync(join(tmpdir(), 'modelauto-spec-'));
function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
function error(file: string): ModelautoError {
  try {
    loadExperimentSpec(file);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelautoError);
    return e as ModelautoError;
  }
  throw new Error('expected an error');
}

const VALID = `name: t
data:
  source: iris
model:
  layers:
    - { type: dense, units: 8, activation: relu }
    - { type: dense, units: 3, activation: softmax }
train:
  epochs: 2
`;

describe('loadExperimentSpec', () => {
  it('loads every example in examples/ and fills defaults', () => {
    for (const f of ['iris.yaml', 'mnist.yaml', 'churn.yaml']) {
      const spec = loadExperimentSpec(join('examples', f));
      expect(spec.name).toBeTruthy();
      expect(spec.train.seed).toBe(42);
    }
    const spec = loadExperimentSpec(write('ok.yaml', VALID));
    expect(spec.train).toMatchObject({
      epochs: 2,
      batchSize: 32,
      shuffle: true,
      optimizer: { type: 'adam', learningRate: 0.001 },
    });
  });

  it('points at the file and line of a bad field, with its path', () => {
    const e = error(write('bad-units.yaml', VALID.replace('units: 3', 'units: -3')));
    expect(e.code).toBe('INVALID_SPEC');
    expect(e.message).toMatch(/bad-units\.yaml:7: model\.layers\[1\]\.units: expected positive integer/);
  });

  it('reports YAML syntax errors with a line', () => {
    const e = error(write('syntax.yaml', 'name: t\ndata: [\n'));
    expect(e.message).toMatch(/syntax\.yaml:\d+: /);
  });

  it('requires explicit early-stopping mode and rejects unknown keys', () => {
    expect(error(write('es.yaml', `${VALID}  earlyStopping: { monitor: val_loss }\n`)).message).toMatch(
      /train\.earlyStopping\.mode/,
    );
    expect(error(write('unknown.yaml', `${VALID}  epoch: 3\n`)).message).toMatch(/train\.epoch: unknown key/);
  });

  it('refuses missing files and wrong extensions clearly', () => {
    expect(error(join(dir, 'nope.yaml')).code).toBe('NOT_FOUND');
    expect(error(write('spec.txt', VALID)).code).toBe('USAGE');
  });
});

describe('the main job', () => {
  it('embeds the same experiment as examples/mnist.yaml', async () => {
    const { QUICKSTART_SPEC } = await import('../../src/pipeline/quickstart.js');
    const { parseExperimentSpec } = await import('../../src/train/experiment.js');
    const file = loadExperimentSpec('examples/mnist.yaml');
    const embedded = parseExperimentSpec(QUICKSTART_SPEC);
    expect({ ...embedded, description: '' }).toEqual({ ...file, description: '' });
  });
});
