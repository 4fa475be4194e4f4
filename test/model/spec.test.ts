import { describe, expect, it } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import { buildModel, parseModelSpec } from '../../src/model/build.js';

function specError(input: unknown): string {
  try {
    parseModelSpec(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelautoError);
    expect((e as ModelautoError).code).toBe('INVALID_SPEC');
    return (e as Error).message;
  }
  throw new Error('expected the spec to be rejected');
}

describe('model spec validation', () => {
  it('names the path and what was expected', () => {
    const msg = specError({
      layers: [
        { type: 'dense', units: 8 },
        { type: 'dropout', rate: 0.5 },
        { type: 'dense', units: -3 },
      ],
    });
    expect(msg).toContain('model.layers[2].units: expected positive integer');
  });

  it('rejects unknown layer types listing the known ones', () => {
    const msg = specError({ layers: [{ type: 'lstm', units: 3 }] });
    expect(msg).toContain('model.layers[0].type');
    expect(msg).toContain('dense');
    expect(msg).toContain('conv2d');
  });

  it('rejects unknown keys, bad enums and out-of-range values', () => {
    expect(specError({ layers: [{ type: 'dense', units: 2, activaton: 'relu' }] })).toContain(
      'model.layers[0].activaton: unknown key',
    );
    expect(specError({ layers: [{ type: 'dense', units: 2, activation: 'rleu' }] })).toContain(
      'model.layers[0].activation',
    );
    expect(specError({ layers: [{ type: 'dropout', rate: 1 }] })).toContain('model.layers[0].rate');
    expect(specError({ layers: [] })).toContain('model.layers');
    expect(specError({ layers: [{ type: 'dense', units: 2.5 }] })).toContain('expected positive integer');
  });

  it('fills Keras defaults', () => {
    const spec = parseModelSpec({ layers: [{ type: 'conv2d', filters: 4, kernelSize: 3 }] });
    expect(spec.layers[0]).toMatchObject({
      strides: 1,
      padding: 'valid',
      activation: 'linear',
      useBias: true,
    });
  });
});

describe('buildModel', () => {
  it('builds every supported layer type into a working model', () => {
    const model = buildModel(
      {
        seed: 1,
        layers: [
          { type: 'reshape', targetShape: [8, 8, 1] },
          {
            type: 'conv2d',
            filters: 4,
            kernelSize: 3,
            padding: 'same',
            activation: 'relu',
            kernelRegularizer: { l2: 0.01 },
          },
          { type: 'batchNormalization' },
          { type: 'depthwiseConv2d', kernelSize: [3, 3], depthMultiplier: 2 },
          { type: 'maxPooling2d', poolSize: 2 },
          { type: 'averagePooling2d', poolSize: 1 },
          { type: 'activation', activation: 'tanh' },
          { type: 'globalAveragePooling2d' },
          { type: 'dropout', rate: 0.2 },
          { type: 'dense', units: 3, activation: 'softmax' },
        ],
      },
      { inputShape: [64] },
    );
    expect(model.outputs[0]?.shape).toEqual([null, 3]);
    expect(model.layers).toHaveLength(10);
  });

  it('builds an embedding model', () => {
    const model = buildModel(
      {
        layers: [
          { type: 'embedding', inputDim: 10, outputDim: 4 },
          { type: 'flatten' },
          { type: 'dense', units: 1 },
        ],
      },
      { inputShape: [5] },
    );
    expect(model.outputs[0]?.shape).toEqual([null, 1]);
  });

  it('is reproducible with a seed', () => {
    const spec = { seed: 5, layers: [{ type: 'dense' as const, units: 4 }] };
    const a = buildModel(spec, { inputShape: [3] })
      .getWeights()[0]!
      .dataSync();
    const b = buildModel(spec, { inputShape: [3] })
      .getWeights()[0]!
      .dataSync();
    const c = buildModel({ ...spec, seed: 6 }, { inputShape: [3] })
      .getWeights()[0]!
      .dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('says which layer does not fit the input', () => {
    expect(() =>
      buildModel({ layers: [{ type: 'conv2d', filters: 2, kernelSize: 3 }] }, { inputShape: [10] }),
    ).toThrow(/model\.layers\[0\] \(conv2d\)/);
  });

  it('refuses a spec input shape that contradicts the data', () => {
    expect(() =>
      buildModel({ inputShape: [4], layers: [{ type: 'dense', units: 1 }] }, { inputShape: [5] }),
    ).toThrow(/does not match/);
  });
});
