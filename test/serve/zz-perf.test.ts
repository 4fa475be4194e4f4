import { it } from 'vitest';
import { call, fixtureStore, pixels, registerMnist, testServer } from './fixtures.js';
const f = await fixtureStore();
await registerMnist(f, 1, { aliases: ['champion'] });
const s0 = await testServer(f, { maxDelayMs: 0 });
const INFER = { inputs: [{ name: 'input', shape: [1, 784], datatype: 'UINT8', data: pixels(5) }] };
async function bench(name: string, fn: () => Promise<unknown>) {
  const t = performance.now();
  for (let i = 0; i < 200; i++) await fn();
  console.log(name, ((performance.now() - t) / 200).toFixed(3), 'ms');
}
it('perf', async () => {
  await bench('live', () => call(s0, 'GET', '/v2/health/live'));
  await bench('meta', () => call(s0, 'GET', '/v2/models/mnist'));
  await bench('bad', () => call(s0, 'POST', '/v2/models/mnist/infer', { inputs: 1 }));
  await bench('infer', () => call(s0, 'POST', '/v2/models/mnist/infer', INFER));
  await bench('live', () => call(s0, 'GET', '/v2/health/live'));
  await bench('fetchlive', () => fetch(s0.url + '/v2/health/live').then(r => r.text()));
});
