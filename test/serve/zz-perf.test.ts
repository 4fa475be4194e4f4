import { it } from 'vitest';
import { call, fixtureStore, pixels, registerMnist, testServer } from './fixtures.js';
const f = await fixtureStore();
await registerMnist(f, 1, { aliases: ['champion'] });
const s0 = await testServer(f, { maxDelayMs: 0 });
const s2 = await testServer(f, { maxDelayMs: 2 });
const s2p = await testServer(f, { maxDelayMs: 2, pollIntervalMs: 50 });
const INFER = { inputs: [{ name: 'input', shape: [1, 784], datatype: 'UINT8', data: pixels(5) }] };
it('perf', async () => {
  for (const [name, s] of [['delay0', s0], ['delay2', s2], ['delay2poll', s2p]] as const) {
    for (const c of [1, 8]) {
      let n = 0;
      const t = performance.now();
      await Promise.all(Array.from({ length: c }, async () => { while (n++ < 400) await call(s, 'POST', '/v2/models/mnist/infer', INFER); }));
      const ms = performance.now() - t;
      console.log(name, 'c', c, (400 / ms * 1000).toFixed(0), 'req/s', (ms / 400 * c).toFixed(2), 'ms/req');
    }
  }
});
