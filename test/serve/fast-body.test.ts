/**
 * The fast lane of request bodies (fast-body.ts, decode-fast.ts): numbers read exactly as JSON.parse
 * reads them, anything outside its narrow shapes left to the general path, and through the server the
 * same answers, byte for byte, whichever path a request takes.
 */
import { describe, expect, it } from 'vitest';
import { matchInfer, matchInstances } from '../../src/serve/fast-body.js';
import { Rng } from '../../src/core/rng.js';
import { call, fixtureStore, pixels, registerHalfPlusThree, registerMnist, testServer } from './fixtures.js';

const f = await fixtureStore();
await registerMnist(f, 1, { aliases: ['champion'] });
await registerHalfPlusThree(f, { aliases: ['champion'] });
const server = await testServer(f);

const rng = new Rng(7);
const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rng.next() * 10)).join('');
const integer = (n: number) => digits(n).replace(/^0+(?=\d)/, '');

/**
 * Number tokens with at most 15 digits and exponents the fast arithmetic reads itself (one exact
 * division or multiplication by a power of ten).
 */
function shortTokens(count: number): string[] {
  const out = [
    '0',
    '-0',
    '0.0',
    '-0.0',
    '1',
    '-1',
    '255',
    '0.5',
    '1e0',
    '1E+2',
    '1e-2',
    '2.5e-3',
    '0.1',
    '4.35',
  ];
  out.push('123456789012345', '0.000001', '123.456e-7', '1e22', '1e-22', '9.99999999999999e-7');
  for (let i = 0; i < count; i++) {
    const whole = 1 + Math.floor(rng.next() * 8);
    const frac = Math.floor(rng.next() * (16 - whole));
    const exp = rng.next() < 0.3 ? `e${rng.next() < 0.5 ? '-' : '+'}${Math.floor(rng.next() * 7)}` : '';
    out.push(`${rng.next() < 0.3 ? '-' : ''}${integer(whole)}${frac ? `.${digits(frac)}` : ''}${exp}`);
  }
  return out;
}

/** Tokens the engine's own conversion reads: long mantissas, extreme exponents. */
function longTokens(count: number): string[] {
  const out = ['1234567890123456', '12345678901234567890', '9007199254740993', '0.30000000000000004'];
  out.push('1.7976931348623157e308', '5e-324', '2.2250738585072014e-308', '1e23', '1e-23', '3.4028235e38');
  for (let i = 0; i < count; i++) out.push(`${integer(1 + Math.floor(rng.next() * 12))}.${digits(16)}`);
  return out;
}

/** The values an OIP body's data reads to, next to JSON.parse's. */
function readBoth(list: string[]): { got: number[]; parsed: number[] } {
  const text = `{"inputs": [{"name": "x", "shape": [1, ${list.length}], "datatype": "FP64", "data": [${list.join(', ')}]}]}`;
  const m = matchInfer(Buffer.from(text));
  const parsed = (JSON.parse(text) as { inputs: { data: number[] }[] }).inputs[0]?.data ?? [];
  return { got: Array.from(m?.inputs[0]?.data.values ?? []), parsed };
}

describe('fast lane: numbers', () => {
  it('reads every number as JSON.parse does (doubles compared exactly)', () => {
    for (const list of [shortTokens(3000), longTokens(200), [...shortTokens(50), ...longTokens(5)]]) {
      const { got, parsed } = readBoth(list);
      expect(got).toHaveLength(list.length);
      const wrong = got.flatMap((v, i) =>
        Object.is(v, parsed[i]) ? [] : [`${list[i]}: ${v} != ${parsed[i]}`],
      );
      expect(wrong).toEqual([]);
    }
    const ints = matchInfer(
      Buffer.from('{"inputs": [{"name": "x", "shape": [3], "datatype": "INT32", "data": [1, -0, 2.0e1]}]}'),
    );
    expect(ints?.inputs[0]?.data.integers).toBe(true);
  });

  it('stores rows as a Float32Array does, with or without whitespace and a default signature name', () => {
    const list = [...shortTokens(40), ...longTokens(20)];
    const text = `{ "signature_name" : "serving_default", "instances" : [ [ ${list.join(' ,\n')} ] , [${list.join(',')}] ] }`;
    const m = matchInstances(Buffer.from(text));
    expect(m?.rows).toBe(2);
    expect(m?.width).toBe(list.length);
    const expected = Float32Array.from([...list, ...list].map(Number));
    expect(Array.from(m?.data ?? [])).toEqual(Array.from(expected));
  });

  it('leaves everything else to the general path', () => {
    const declined = [
      '{"instances": [[NaN, 1]]}',
      '{"instances": [[Infinity]]}',
      '{"instances": [[1e400]]}',
      '{"instances": [[01]]}',
      '{"instances": [[1.]]}',
      '{"instances": [[.5]]}',
      '{"instances": [[-]]}',
      '{"instances": [["1"]]}',
      '{"instances": [[[1, 2]]]}',
      '{"instances": [[1, 2], [3]]}',
      '{"instances": []}',
      '{"instances": [[]]}',
      '{"instances": [1, 2]}',
      '{"instances": [[1]], "inputs": [[1]]}',
      '{"instances": [[1]], "instances": [[2]]}',
      '{"instances": [[1]], "signature_name": "other"}',
      '{"instanc\\u0065s": [[1]]}',
      '{"instances": [[1]]} x',
      '{"instances": [[1]]',
      '[[1]]',
    ];
    for (const text of declined) expect(matchInstances(Buffer.from(text)), text).toBeUndefined();
    const oip = (input: string, top = '') =>
      `{${top}"inputs": [{"name": "input", "shape": [1, 2], "datatype": "FP32", ${input}}]}`;
    const declinedOip = [
      oip('"data": [1, NaN]'),
      oip('"data": [[1, 2]]'),
      oip('"data": []'),
      oip('"data": [true, false]'),
      oip('"data": [1, 2], "parameters": {}'),
      oip('"data": [1, 2]', '"outputs": [{"name": "output"}], '),
      oip('"data": [1, 2]', '"id": 7, '),
      oip('"data": [1, 2]', '"id": "a\\"b", '),
      '{"inputs": [{"name": "input", "shape": [1, -2], "datatype": "FP32", "data": [1, 2]}]}',
      '{"inputs": [{"name": "input", "shape": [1, 2.5], "datatype": "FP32", "data": [1, 2]}]}',
      '{"inputs": [{"name": "input", "shape": [1, 2], "datatype": "FLOAT", "data": [1, 2]}]}',
      '{"inputs": [{"name": "", "shape": [1, 2], "datatype": "FP32", "data": [1, 2]}]}',
      '{"inputs": [{"name": "input", "shape": [1, 2], "datatype": "FP32"}]}',
      '{"inputs": [{"name": "a", "shape": [1], "datatype": "FP32", "data": [1]}, {"name": "a", "shape": [1], "datatype": "FP32", "data": [1]}]}',
      '{"inputs": []}',
    ];
    for (const text of declinedOip) expect(matchInfer(Buffer.from(text)), text).toBeUndefined();
    expect(matchInfer(Buffer.from(oip('"data": [1, 2]', '"id": "req-1", ')))?.id).toBe('req-1');
  });
});

describe('fast lane through the server', () => {
  /** An escaped key reads the same to JSON.parse but sends the request down the general path. */
  const general = (text: string, key: string) =>
    text.replace(`"${key}"`, `"${key.slice(0, -1)}\\u00${key.charCodeAt(key.length - 1).toString(16)}"`);

  it('answers exactly as the general path: TF Serving rows and OIP tensors', async () => {
    const tf = JSON.stringify({ instances: [pixels(1), pixels(2)] });
    const oip = JSON.stringify({
      id: 'same-1',
      inputs: [{ name: 'input', shape: [2, 784], datatype: 'UINT8', data: [...pixels(3), ...pixels(4)] }],
    });
    const half = JSON.stringify({ instances: [[1], [2.5]] });
    for (const [path, text, key] of [
      ['/v1/models/mnist:predict', tf, 'instances'],
      ['/v2/models/mnist/infer', oip, 'data'],
      ['/v1/models/half_plus_three:predict', half, 'instances'],
    ] as const) {
      const fast = await call(server, 'POST', path, text, { 'content-type': 'application/json' });
      const slow = await call(server, 'POST', path, general(text, key), {
        'content-type': 'application/json',
      });
      expect(fast.status, fast.text).toBe(200);
      expect(fast.text).toBe(slow.text);
    }
  });

  it('gives the general path’s errors when the model needs something else', async () => {
    const cases: [string, string, string][] = [
      // 3 values for a 784-pixel input.
      ['/v1/models/mnist:predict', JSON.stringify({ instances: [[1, 2, 3]] }), 'instances'],
      // A pixel out of the UINT8 range, a fraction for an integer type.
      [
        '/v2/models/mnist/infer',
        JSON.stringify({
          inputs: [{ name: 'input', shape: [1, 784], datatype: 'UINT8', data: [...pixels(1).slice(1), 256] }],
        }),
        'data',
      ],
      [
        '/v2/models/mnist/infer',
        JSON.stringify({
          inputs: [{ name: 'input', shape: [1, 784], datatype: 'INT8', data: [...pixels(1).slice(1), 0.5] }],
        }),
        'data',
      ],
      // Wrong input name, wrong shape, a 784-value row for a one-column table model.
      [
        '/v2/models/mnist/infer',
        JSON.stringify({ inputs: [{ name: 'pixels', shape: [1, 784], datatype: 'FP32', data: pixels(1) }] }),
        'data',
      ],
      [
        '/v2/models/mnist/infer',
        JSON.stringify({ inputs: [{ name: 'input', shape: [2, 392], datatype: 'FP32', data: pixels(1) }] }),
        'data',
      ],
      ['/v1/models/half_plus_three:predict', JSON.stringify({ instances: [pixels(1)] }), 'instances'],
      // Unknown model: 404 either way.
      ['/v1/models/nothing:predict', JSON.stringify({ instances: [[1]] }), 'instances'],
    ];
    for (const [path, text, key] of cases) {
      const fast = await call(server, 'POST', path, text, { 'content-type': 'application/json' });
      const slow = await call(server, 'POST', path, general(text, key), {
        'content-type': 'application/json',
      });
      expect(fast.status, `${path} ${fast.text}`).toBeGreaterThanOrEqual(400);
      expect([fast.status, fast.text]).toEqual([slow.status, slow.text]);
    }
  });
});
