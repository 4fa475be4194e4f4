import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../../src/core/errors.js';
import { loadPipeline } from '../../../src/pipeline/flow/load.js';

const dir = mkdtempSync(join(tmpdir(), 'modelauto-pipeline-load-'));
const IRIS = resolve('examples/iris.yaml');

/** Writes a pipeline file and returns the error loading it throws (or fails when it loads). */
function loadError(name: string, text: string, set?: string[]): ModelautoError {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  try {
    loadPipeline(file, set ? { set } : {});
  } catch (e) {
    expect(e).toBeInstanceOf(ModelautoError);
    return e as ModelautoError;
  }
  throw new Error(`${name} loaded without an error`);
}

const header = `name: p\nparams:\n  epochs: 3\n  gate: { min: 0.8 }\nsteps:\n`;

describe('loadPipeline', () => {
  it('orders steps by needs and references, and applies --set overrides', () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(
      file,
      header +
        `  gate:\n    uses: gate\n    with:\n      run: \${{ steps.train.outputs.run_id }}\n      conditions: ["test_accuracy >= \${{ params.gate.min }}"]\n` +
        `  register:\n    uses: register\n    needs: gate\n    with: { run: "\${{ steps.train.outputs.run_id }}", model: iris }\n` +
        `  train:\n    uses: train\n    with:\n      experiment: ${IRIS}\n      set: { train.epochs: "\${{ params.epochs }}" }\n`,
    );
    const p = loadPipeline(file, { set: ['epochs=5', 'gate.min=0.9'] });
    expect(p.order).toEqual(['train', 'gate', 'register']);
    expect(p.deps.get('gate')).toEqual(['train']);
    expect(p.deps.get('register')?.sort()).toEqual(['gate', 'train']);
    expect(p.params).toEqual({ epochs: 5, gate: { min: 0.9 } });
    expect(p.baseDir).toBe(dir);
  });

  it('names an unknown step type with the file and line', () => {
    const e = loadError('unknown-type', header + `  a:\n    uses: trian\n`);
    expect(e.code).toBe('INVALID_SPEC');
    expect(e.message).toMatch(
      /unknown-type\.yaml:7: steps\.a\.uses: unknown step type "trian"; known: await-retrain, data, deploy, evaluate, export, feedback-data, gate/,
    );
  });

  it('names unknown needs and dependency cycles', () => {
    expect(
      loadError('needs', header + `  a:\n    uses: data\n    needs: [b]\n    with: { experiment: ${IRIS} }\n`)
        .message,
    ).toMatch(/needs\.yaml:8: steps\.a\.needs\[0\]: unknown step "b"; steps: a/);
    const cycle = loadError(
      'cycle',
      header +
        `  a:\n    uses: data\n    needs: [c]\n    with: { experiment: ${IRIS} }\n` +
        `  b:\n    uses: data\n    needs: [a]\n    with: { experiment: ${IRIS} }\n` +
        `  c:\n    uses: data\n    needs: [b]\n    with: { experiment: ${IRIS} }\n` +
        `  d:\n    uses: data\n    with: { experiment: ${IRIS} }\n`,
    );
    expect(cycle.message).toMatch(/dependency cycle (a → b → c → a|b → c → a → b|c → a → b → c)/);
  });

  it('names references to missing steps, outputs and parameters', () => {
    const e = loadError(
      'refs',
      header +
        `  train:\n    uses: train\n    with: { experiment: ${IRIS} }\n` +
        `  gate:\n    uses: gate\n    with:\n` +
        `      run: \${{ steps.trian.outputs.run_id }}\n` +
        `      model: \${{ steps.train.outputs.runid }}\n` +
        `      conditions: ["test_accuracy >= \${{ params.gate.max }}"]\n`,
    );
    expect(e.message).toMatch(
      /refs\.yaml:12: steps\.gate\.with\.run: \$\{\{ steps\.trian\.outputs\.run_id \}\}: no step "trian"; steps: train, gate/,
    );
    expect(e.message).toMatch(
      /refs\.yaml:13: .*step "train" \(train\) has no output "runid"; its outputs: run_id, status, metrics/,
    );
    expect(e.message).toMatch(/refs\.yaml:14: .*no parameter gate\.max; parameters: epochs, gate\.min/);
    expect(
      loadError('bad-ref', header + `  a:\n    uses: data\n    with: { experiment: "\${{ stepz.x }}" }\n`)
        .message,
    ).toMatch(/unknown root "stepz"/);
  });

  it('refuses --set on a parameter the pipeline does not declare', () => {
    const e = loadError('set', header + `  a:\n    uses: data\n    with: { experiment: ${IRIS} }\n`, [
      'gate.minn=1',
    ]);
    expect(e.code).toBe('USAGE');
    expect(e.message).toMatch(/--set gate\.minn: no parameter gate\.minn; parameters: epochs, gate\.min/);
  });

  it("checks each step's inputs against its schema, with parameters applied", () => {
    const e = loadError(
      'schema',
      header +
        `  export:\n    uses: export\n    with:\n      run: abcd1234\n      format: tflite\n` +
        `  gate:\n    uses: gate\n    with:\n      run: abcd1234\n      conditions: ["accuracy >> 0.9"]\n` +
        `  train:\n    uses: train\n    with: { experiment: ${IRIS}, set: { train.epochs: "\${{ params.epochs }}" }, bogus: 1 }\n`,
    );
    expect(e.message).toMatch(/schema\.yaml:10: steps\.export\.with\.format: expected one of "tfjs", "onnx"/);
    expect(e.message).toMatch(
      /schema\.yaml:\d+: steps\.gate\.with\.conditions\[0\]: condition "accuracy >> 0\.9"/,
    );
    expect(e.message).toMatch(/steps\.train\.with\.bogus: unknown key/);
  });

  it("reports an experiment file's own error, and a `set` the experiment cannot take", () => {
    const bad = join(dir, 'bad-experiment.yaml');
    writeFileSync(
      bad,
      'name: x\ndata: { source: iris }\nmodel:\n  layers:\n    - { type: dense, units: 0 }\n',
    );
    expect(
      loadError(
        'experiment',
        header + `  t:\n    uses: train\n    with: { experiment: bad-experiment.yaml }\n`,
      ).message,
    ).toMatch(/bad-experiment\.yaml:5: model\.layers\[0\]\.units: expected positive integer/);
    expect(
      loadError(
        'set-path',
        header +
          `  t:\n    uses: train\n    with:\n      experiment: ${IRIS}\n      set:\n        model.layers[4].units: 8\n`,
      ).message,
    ).toMatch(/index 4 is out of range; the list has 2 item\(s\)/);
    expect(
      loadError(
        'search-space',
        header +
          `  s:\n    uses: search\n    with:\n      experiment: ${IRIS}\n      strategy: grid\n      metric: val_accuracy\n` +
          `      space:\n        train.optimizer.learningRate: [0.01, -1]\n        model.layers[0].units: { min: 4, max: 8 }\n`,
      ).message,
    ).toMatch(/mode: required with metric "val_accuracy": min or max/);
    expect(
      loadError(
        'search-values',
        header +
          `  s:\n    uses: search\n    with:\n      experiment: ${IRIS}\n      strategy: grid\n` +
          `      space:\n        train.optimizer.learningRate: [0.01, -1]\n`,
      ).message,
    ).toMatch(
      /with\.space: \{"train\.optimizer\.learningRate":-1\} makes the experiment invalid: train\.optimizer\.learningRate/,
    );
    expect(
      loadError(
        'grid-range',
        header +
          `  s:\n    uses: search\n    with:\n      experiment: ${IRIS}\n      strategy: grid\n` +
          `      space:\n        model.layers[0].units: { min: 4, max: 8 }\n`,
      ).message,
    ).toMatch(/grid search needs a list of values, not a range/);
  });

  it('reads a pipeline given as an object, relative paths against baseDir', () => {
    const p = loadPipeline(
      { name: 'obj', steps: { d: { uses: 'data', with: { experiment: 'iris.yaml' } } } },
      { baseDir: resolve('examples') },
    );
    expect(p.file).toBeNull();
    expect(p.order).toEqual(['d']);
    expect(() => loadPipeline({ name: 'obj', steps: {} })).toThrow(/steps: expected at least one step/);
  });
});
