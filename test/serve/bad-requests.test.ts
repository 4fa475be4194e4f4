/**
 * Every kind of bad request gets a 4xx with `{"error": "..."}` naming the problem, and the server keeps
 * answering good requests in between.
 */
import { describe, expect, it } from 'vitest';
import {
  call,
  fixtureStore,
  pixels,
  registerChurn,
  registerFlags,
  registerHalfPlusThree,
  registerMnist,
  testServer,
  type Reply,
} from './fixtures.js';

const f = await fixtureStore();
await registerMnist(f, 1, { aliases: ['champion'] });
await registerHalfPlusThree(f, { aliases: ['champion'] });
await registerChurn(f, { aliases: ['champion'] });
await registerFlags(f);
const server = await testServer(f, { queue: 64, maxBatch: 32, bodyLimit: 200_000 });

function expectError(r: Reply, status: number, ...fragments: (string | RegExp)[]): void {
  expect(r.status, r.text).toBe(status);
  expect(Object.keys(r.json as object)).toEqual(['error']);
  const message = (r.json as { error: string }).error;
  expect(typeof message).toBe('string');
  for (const f of fragments) {
    if (typeof f === 'string') expect(message).toContain(f);
    else expect(message).toMatch(f);
  }
}

const tf = (path: string, body: unknown) => call(server, 'POST', `/v1/models/${path}`, body);
const oip = (path: string, body: unknown) => call(server, 'POST', `/v2/models/${path}`, body);
const image = (values: unknown[], datatype = 'FP32', shape = [1, 784]) => ({
  inputs: [{ name: 'input', shape, datatype, data: values }],
});

async function stillServing(): Promise<void> {
  const r = await tf('mnist:predict', { instances: [pixels(1)] });
  expect(r.status).toBe(200);
}

describe('malformed JSON', () => {
  it('says where the document breaks', async () => {
    expectError(
      await tf('mnist:predict', '{"instances": [[1, 2,'),
      400,
      'malformed JSON',
      'line 1, column 22',
    );
    expectError(
      await tf('mnist:predict', '{"instances": [1, 2]\n  "x": 1}'),
      400,
      'malformed JSON at line 2, column 3',
      "expected ',' or '}'",
    );
    expectError(await tf('mnist:predict', ''), 400, 'the request body is empty');
    expectError(await tf('mnist:predict', 'instances = [1, 2]'), 400, 'malformed JSON at line 1, column 1');
    expectError(await oip('mnist/infer', '{"inputs": [}'), 400, 'malformed JSON');
    expectError(await tf('mnist:predict', '[1, 2]'), 400, 'must be a JSON object');
    await stillServing();
  });
});

describe('wrong shape', () => {
  it('names the instance and the expected shape', async () => {
    expectError(
      await tf('mnist:predict', { instances: [pixels(1), pixels(2).slice(0, 783)] }),
      400,
      'instances[1]',
      'shape [28, 28, 1]',
    );
    expectError(await tf('mnist:predict', { instances: [[[1, 2], [3]]] }), 400, 'instances[0]');
    expectError(await tf('mnist:predict', { inputs: [pixels(1), 5] }), 400, 'inputs[1]', 'expected a list');
    expectError(
      await oip('mnist/infer', image(pixels(1), 'FP32', [1, 783])),
      400,
      'shape [1, 783] does not fit input "input"',
    );
    expectError(
      await oip('mnist/infer', image(pixels(1).slice(1), 'FP32', [1, 784])),
      400,
      'holds 784 values, data has 783',
    );
    expectError(
      await oip('churn/infer', {
        inputs: [{ name: 'plan', shape: [2, 2], datatype: 'BYTES', data: ['a', 'b', 'c', 'd'] }],
      }),
      400,
      '[n] or [n, 1]',
    );
    expectError(
      await tf('churn:predict', {
        inputs: {
          plan: ['basic'],
          region: ['north', 'south'],
          tenure_months: [1],
          monthly_spend: [1],
          support_tickets: [1],
          autopay: ['yes'],
        },
      }),
      400,
      'every input needs the same number of rows',
    );
    await stillServing();
  });
});

describe('wrong datatype', () => {
  it('TF Serving values that do not fit the input', async () => {
    expectError(
      await tf('mnist:predict', { instances: [['x', ...pixels(1).slice(1)]] }),
      400,
      'instances[0][0]',
      'expected a number',
      'the string "x"',
    );
    expectError(
      await tf('half_plus_three:predict', { instances: [{ x: { a: 1 } }] }),
      400,
      'instances[0].x',
      'expected one value',
    );
    expectError(
      await tf('half_plus_three:predict', { instances: ['abc'] }),
      400,
      'instances[0]',
      'expected a finite number',
    );
  });

  it('OIP datatypes: unknown, out of range, not matching the data or the input', async () => {
    expectError(
      await oip('mnist/infer', image(pixels(1), 'FLOAT')),
      400,
      'datatype',
      'BOOL, UINT8',
      'FP32',
      'BYTES',
    );
    expectError(
      await oip('mnist/infer', image([300, ...pixels(1).slice(1)], 'UINT8')),
      400,
      'data[0]',
      '300 is outside the range of UINT8',
    );
    expectError(
      await oip('mnist/infer', image([1.5, ...pixels(1).slice(1)], 'INT32')),
      400,
      'expected an integer for INT32',
    );
    expectError(
      await oip('mnist/infer', image(['a', ...pixels(1).slice(1)], 'FP32')),
      400,
      'expected a number for FP32',
    );
    expectError(
      await oip(
        'mnist/infer',
        image(
          pixels(1).map(() => 'a'),
          'BYTES',
        ),
      ),
      400,
      'datatype BYTES does not fit input "input"',
    );
    expectError(
      await oip('flags/infer', {
        inputs: [
          { name: 'input0', shape: [1], datatype: 'UINT32', data: [1] },
          { name: 'input1', shape: [1], datatype: 'BOOL', data: [1] },
        ],
      }),
      400,
      'expected true or false for BOOL',
    );
    expectError(
      await oip('flags/infer', {
        inputs: [
          { name: 'input0', shape: [1], datatype: 'UINT32', data: [1] },
          { name: 'input1', shape: [1], datatype: 'FP32', data: [1] },
        ],
      }),
      400,
      'does not fit categorical input "input1"',
    );
    await stillServing();
  });
});

describe('NaN where it is not allowed', () => {
  it('pixels must be finite; a numeric column takes NaN as missing only when the model imputes', async () => {
    const nan = `{"instances": [[NaN${',0'.repeat(783)}]]}`;
    expectError(
      await tf('mnist:predict', nan),
      400,
      'instances[0][0]',
      'NaN is not allowed',
      'finite numbers',
    );
    expectError(
      await tf('mnist:predict', `{"instances": [[Infinity${',0'.repeat(783)}]]}`),
      400,
      'Infinity is not allowed',
    );
    expectError(
      await tf('flags:predict', '{"instances": [{"input0": NaN, "input1": true}]}'),
      400,
      'instances[0].input0',
      'missing.policy error',
    );
    expectError(
      await tf('half_plus_three:predict', '{"instances": [-Infinity]}'),
      400,
      'expected a finite number',
    );
    const churn = await tf(
      'churn:predict',
      '{"instances": [{"plan": "pro", "region": "north", "tenure_months": NaN, "monthly_spend": 50, "support_tickets": 1, "autopay": "yes"}]}',
    );
    expect(churn.status, churn.text).toBe(200);
    expectError(
      await tf('flags:predict', { instances: [{ input0: null, input1: true }] }),
      400,
      'instances[0].input0',
      'missing value',
    );
    await stillServing();
  });
});

describe('both instances and inputs, and other body mistakes', () => {
  it('names the keys', async () => {
    expectError(
      await tf('half_plus_three:predict', { instances: [1], inputs: [1] }),
      400,
      'both "instances"',
      '"inputs"',
    );
    expectError(await tf('half_plus_three:predict', { instance: [1] }), 400, 'unknown key "instance"');
    expectError(
      await tf('half_plus_three:predict', { signature_name: 'serving' }),
      400,
      'serving signature "serving" not found',
    );
    expectError(await tf('half_plus_three:predict', {}), 400, 'missing "instances" or "inputs"');
    expectError(
      await tf('churn:predict', { instances: [{ plan: 'pro', colour: 'red' }] }),
      400,
      'unknown input "colour"',
      'plan, region',
    );
    expectError(await tf('flags:predict', { instances: [{ input1: true }] }), 400, 'missing input "input0"');
    expectError(await tf('churn:classify', { instances: [] }), 400, 'unknown key "instances"');
    expectError(
      await tf('half_plus_three:classify', { examples: [{ x: 1 }] }),
      400,
      'regression model',
      ':predict',
    );
    expectError(await tf('churn:regress', { examples: [{ plan: 'pro' }] }), 400, 'classification model');
    expectError(
      await oip('mnist/infer', {
        inputs: [{ name: 'pixels', shape: [1, 784], datatype: 'FP32', data: pixels(1) }],
      }),
      400,
      'unknown input "pixels"',
      'input',
    );
    expectError(
      await oip('mnist/infer', { ...image(pixels(1)), outputs: [{ name: 'probabilities' }] }),
      400,
      'unknown output "probabilities"',
    );
    expectError(await oip('mnist/infer', { id: 42, ...image(pixels(1)) }), 400, '"id" must be a string');
    expectError(
      await oip('flags/infer', { inputs: [{ name: 'input0', shape: [1], datatype: 'UINT32', data: [1] }] }),
      400,
      'missing input "input1"',
    );
    expectError(
      await oip('half_plus_three/infer', {
        inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }],
        outputs: [{ name: 'output', parameters: { classification: 2 } }],
      }),
      400,
      'not a classifier',
    );
    await stillServing();
  });
});

describe('unknown or invalid models and versions', () => {
  it('404 for what is not there, 400 for what cannot be a name', async () => {
    expectError(await tf('nope:predict', { instances: [1] }), 404, 'model "nope" is not served');
    expectError(
      await tf('mnist/versions/7:predict', { instances: [pixels(1)] }),
      404,
      'version 7 of mnist is not loaded',
    );
    expectError(
      await tf('mnist/labels/canary:predict', { instances: [pixels(1)] }),
      404,
      'no label (alias) "canary"',
    );
    expectError(
      await oip('mnist/versions/9/infer', image(pixels(1))),
      404,
      'version 9 of mnist is not loaded',
    );
    expectError(
      await tf('mnist/versions/abc:predict', { instances: [pixels(1)] }),
      400,
      'invalid version "abc"',
    );
    expectError(await tf('mnist/versions/0:predict', { instances: [pixels(1)] }), 400, 'invalid version "0"');
    expectError(
      await tf('..%2F..%2Fetc%2Fpasswd:predict', { instances: [1] }),
      400,
      'invalid model name "../../etc/passwd"',
    );
    expectError(
      await call(server, 'POST', '/v2/models/%2e%2e/infer', JSON.stringify(image(pixels(1)))),
      400,
      'invalid model name ".."',
    );
    expectError(
      await call(server, 'GET', '/v1/models/mnist%2F..%2F..%2Fsecret'),
      400,
      'invalid model name "mnist/../../secret"',
    );
    expectError(await call(server, 'GET', '/v1/models/mnist/versions/1%2F..'), 400, 'invalid version "1/.."');
    expectError(await call(server, 'GET', '/v2/models/MNIST'), 400, 'invalid model name "MNIST"');
    expectError(await tf('mnist/labels/Bad:predict', { instances: [pixels(1)] }), 400, 'invalid label "Bad"');
    expectError(await tf('mnist:explain', { instances: [pixels(1)] }), 400, 'unknown method ":explain"');
    expectError(await call(server, 'GET', '/v1/models/mnist:predict'), 405, 'takes POST');
    expectError(await call(server, 'GET', '/nothing/here'), 404, 'no route for GET /nothing/here');
    await stillServing();
  });
});

describe('empty and oversized batches', () => {
  it('refuses an empty batch', async () => {
    expectError(await tf('mnist:predict', { instances: [] }), 400, '"instances" is empty');
    expectError(await tf('mnist:predict', { inputs: [] }), 400, 'holds no rows');
    expectError(await oip('mnist/infer', image([], 'FP32', [0, 784])), 400, 'no rows');
    expectError(await tf('half_plus_three:regress', { examples: [] }), 400, '"examples" is empty');
  });

  it('refuses more rows than a request may carry, and bodies over the size limit', async () => {
    const rows = Array.from({ length: 65 }, () => pixels(0).map((v) => (v > 100 ? 1 : 0)));
    expectError(await tf('mnist:predict', { instances: rows }), 400, 'the batch has 65 rows', 'at most 64');
    const big = JSON.stringify({ instances: Array.from({ length: 120 }, () => pixels(1)) });
    expect(big.length).toBeGreaterThan(200_000);
    expectError(await tf('mnist:predict', big), 413, "larger than the server's limit of 200000 bytes");
    await stillServing();
  });
});
