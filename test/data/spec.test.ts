import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import { DataSpecSchema, parseDataSpec, PreprocessSpecSchema } from '../../src/data/spec.js';

function specError(input: unknown): string {
  try {
    parseDataSpec(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelautoError);
    expect((e as ModelautoError).code).toBe('INVALID_SPEC');
    return (e as ModelautoError).message;
  }
  throw new Error('expected the spec to be rejected');
}

describe('DataSpecSchema', () => {
  it('fills defaults for split, preprocess and missing values', () => {
    const spec = parseDataSpec({ csv: 'data.csv', label: 'y' });
    expect(spec).toEqual({
      csv: 'data.csv',
      label: 'y',
      task: 'classification',
      missing: { values: ['', 'NA', 'N/A', 'null', '?'], policy: 'error' },
      split: { validation: 0.1, test: 0.1, seed: 42, stratify: true },
      preprocess: {
        numeric: 'standardize',
        categorical: 'onehot',
        unknownCategory: 'ignore',
        impute: { numeric: 'mean', categorical: 'mostFrequent' },
        pixels: 'scale',
      },
    });
  });

  it('accepts every source kind', () => {
    expect(DataSpecSchema.safeParse({ source: 'mnist', limit: 1000, testLimit: 100 }).success).toBe(true);
    expect(DataSpecSchema.safeParse({ jsonl: 'a.jsonl', label: 'y', task: 'regression' }).success).toBe(true);
    expect(
      DataSpecSchema.safeParse({ idx: { images: 'i', labels: 'l' }, split: { validation: 0 } }).success,
    ).toBe(true);
    expect(
      DataSpecSchema.safeParse({ csv: 'a.tsv', delimiter: '\t', label: 'y', missing: { policy: 'drop' } })
        .success,
    ).toBe(true);
  });

  it('rejects bad values with the field path', () => {
    expect(specError({ source: 'mnist', split: { validation: 0.95 } })).toMatch(
      'data.split.validation: expected number <= 0.9',
    );
    expect(specError({ source: 'cifar' })).toBe('data.source: expected one of "mnist", "iris"');
    expect(specError({ source: 'iris', split: { validation: 0.5, test: 0.5 } })).toBe(
      'data.split: validation + test must be < 1 (got 0.5 + 0.5)',
    );
    expect(specError({ csv: 'a.csv', label: 'y', missing: { policy: 'skip' } })).toBe(
      'data.missing.policy: expected one of "error", "drop", "impute"',
    );
    expect(specError({ csv: 'a.csv', label: 'y', delimiter: ';;' })).toBe(
      'data.delimiter: expected at most 1 character',
    );
    expect(specError({ csv: 'a.csv', label: 'y', limit: 0 })).toBe('data.limit: expected number > 0');
  });

  it('rejects unknown keys (strict objects) and names the missing ones', () => {
    expect(specError({ csv: 'a.csv', labl: 'y' })).toBe(
      'data.label: required (expected string); data.labl: unknown key',
    );
    expect(specError({ source: 'iris', split: { valdation: 0.2 } })).toBe(
      'data.split.valdation: unknown key',
    );
    expect(specError({ source: 'iris', preprocess: { scaling: 'x' } })).toBe(
      'data.preprocess.scaling: unknown key',
    );
    expect(specError({ idx: { images: 'i' } })).toBe('data.idx.labels: required (expected string)');
  });

  it('rejects conflicting column lists and classes', () => {
    expect(specError({ csv: 'a.csv', label: 'y', numeric: ['a', 'y'], categorical: ['a'] })).toBe(
      'data.numeric[1]: "y" is the label column; data.categorical[0]: "a" is already listed in numeric',
    );
    expect(specError({ csv: 'a.csv', label: 'y', classes: ['a', 'a'] })).toBe(
      'data.classes: duplicate class "a"',
    );
  });

  it('requires a numeric fill value for constant numeric imputation', () => {
    const r = PreprocessSpecSchema.safeParse({ impute: { numeric: 'constant', fillValue: 'zero' } });
    expect(r.success).toBe(false);
    expect(
      PreprocessSpecSchema.parse({ impute: { categorical: 'constant', fillValue: 'unknown' } }).impute,
    ).toEqual({
      numeric: 'mean',
      categorical: 'constant',
      fillValue: 'unknown',
    });
  });
});
