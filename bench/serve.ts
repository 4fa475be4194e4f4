/**
 * `npm run bench:serve`: load test of the model server (issue 6). Not a timed test: it prints figures.
 *
 * 1. Trains the MNIST MLP of GUIDE section 1 (784-256-128-10) briefly (the weights do not matter for
 *    speed), exports it to ONNX and registers it as mnist@champion in a temp store.
 * 2. Measures in-process onnxruntime batch-1 calls/s on the same model file (the baseline), before
 *    the load runs and again after them; the targets use the higher of the two (the stricter), as a
 *    shared machine can slow either moment down.
 * 3. Starts the server in a child process (so the load generator does not share its event loop) and
 *    drives it with autocannon at concurrency 1, 16 and 64 with batch-1 TF Serving requests of raw
 *    MNIST pixels; then 64 connections for --rss-seconds while sampling the server's RSS.
 *
 * Targets: requests/s at c=64 >= 1.0x the in-process batch-1 calls/s; p99 at c=16 <= 10 ms; 0 errors;
 * RSS flat (here: < 10% growth between the first and the last sample of the long run).
 *
 * Besides req/s it prints the server's CPU time per request (from /proc), all threads and the event
 * loop's thread alone (under load the event loop is what limits a Node server), which depend less on
 * how busy the machine is (the load generator shares the same cores), and the load average before
 * and after (the machine may be shared).
 *
 * The ceiling: the same autocannon run at c=64 against a bare node:http server that answers every
 * request with a fixed prediction-sized body and does no work at all. No server built on node:http
 * can be measured faster than that here: it is what the load generator and the kernel allow.
 *
 * Options: --duration <s> (per concurrency, default 10), --rss-seconds <s> (default 60), --quick
 * (3 s and 15 s), --monitor (the live monitor on, as `modelauto serve` runs it: metrics, prediction
 * log, drift), --max-delay-ms <ms>, --max-batch <n>, --threads <n>, --inference-thread worker|main, --json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { loadDataset } from '../src/data/load.js';
import { parseDataSpec } from '../src/data/spec.js';
import { createSession } from '../src/export/onnx/runtime.js';
import { startMonitoredServer } from '../src/monitor/server.js';
import { runExportJob } from '../src/pipeline/export-job.js';
import { runTrainJob } from '../src/pipeline/train-job.js';
import { openStores } from '../src/store/open.js';
import { registerRun } from '../src/store/register-run.js';
import { startServer } from '../src/serve/server.js';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const TOKEN = 'bench-admin-token-0123456789abcdef';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function numberFlag(name: string, fallback: number): number {
  const v = flag(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: expected a number >= 0, got "${v}"`);
  return n;
}

const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const monitored = process.argv.includes('--monitor');
const duration = numberFlag('--duration', quick ? 3 : 10);
const rssSeconds = numberFlag('--rss-seconds', quick ? 15 : 60);
const serverOptions = {
  maxDelayMs: numberFlag('--max-delay-ms', 2),
  maxBatch: numberFlag('--max-batch', 64),
  threads: numberFlag('--threads', 1),
  inferenceThread: (flag('--inference-thread') ?? 'main') as 'worker' | 'main',
};
if (!['worker', 'main'].includes(serverOptions.inferenceThread)) {
  throw new Error(`--inference-thread: expected worker or main, got "${serverOptions.inferenceThread}"`);
}
const say = (line: string) => {
  if (!json) process.stdout.write(`${line}\n`);
};

if (process.argv[2] === '--child') await child(process.argv[3] as string);
else if (process.argv[2] === '--bare') await bare(process.argv[3] as string);
else await main();

/** The server process: serves the store until SIGTERM, printing its URL as the first stdout line. */
async function child(store: string): Promise<void> {
  const options = JSON.parse(process.argv[4] as string) as typeof serverOptions & { monitor: boolean };
  const { monitor, ...serve } = options;
  const common = { store, port: 0, models: ['mnist'], pollIntervalMs: 0, adminToken: TOKEN, ...serve };
  const server = monitor
    ? await startMonitoredServer({ ...common, dashboard: false })
    : await startServer(common);
  process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);
  process.once('SIGTERM', () => {
    void server.close().then(() => process.exit(0));
  });
}

/** The ceiling: node:http reading each body and answering `reply`, nothing else. */
async function bare(reply: string): Promise<void> {
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
      res.end(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid })}\n`);
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'modelauto-bench-serve-'));
  let server: ChildProcess | undefined;
  try {
    say('preparing: training the 784-256-128-10 MLP briefly, exporting to ONNX, registering mnist@champion');
    const stores = await openStores(dir);
    const run = await runTrainJob(
      {
        name: 'mnist-mlp-bench',
        data: { source: 'mnist', limit: 512, testLimit: 64, split: { validation: 0, seed: 1 } },
        model: {
          seed: 1,
          layers: [
            { type: 'flatten' },
            { type: 'dense', units: 256, activation: 'relu' },
            { type: 'dense', units: 128, activation: 'relu' },
            { type: 'dense', units: 10, activation: 'softmax' },
          ],
        },
        train: { epochs: 1, batchSize: 64 },
      },
      { store: stores.tracking },
    );
    const exported = await runExportJob(run.run.id, { store: stores.tracking, format: 'onnx' });
    await registerRun(stores.tracking, stores.registry, run.run.id, 'mnist', { aliases: ['champion'] });
    await stores.close();

    const test = await loadDataset(parseDataSpec({ source: 'mnist', limit: 1, testLimit: 1 }), {
      baseDir: process.cwd(),
    });
    if (test.features.kind !== 'tensor') throw new Error('expected MNIST images');
    const image = Array.from(test.features.data.subarray(0, 784), (v) => Math.round(v));
    const body = JSON.stringify({ instances: [image] });

    const modelFile = join(exported.dir, 'model.onnx');
    const baselineBefore = await inProcessCalls(modelFile, image, serverOptions.threads);
    say(`in-process onnxruntime, batch 1: ${baselineBefore.toFixed(0)} calls/s (before the load runs)`);
    // Ratios printed during the runs are against this first measurement.
    let baseline = baselineBefore;

    const loadBefore = loadavg();
    say(
      `load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} (1, 5, 15 min) on this machine before the run`,
    );
    const started = await startChild([
      '--child',
      dir,
      JSON.stringify({ ...serverOptions, monitor: monitored }),
    ]);
    server = started.process;
    const url = `${started.url}/v1/models/mnist:predict`;
    say(
      `server ${started.url} (pid ${started.pid}), ${monitored ? 'live monitor ON (metrics, prediction log, drift)' : 'no monitor'}, max batch ${serverOptions.maxBatch}, max delay ${serverOptions.maxDelayMs} ms, onnxruntime on the ${serverOptions.inferenceThread === 'worker' ? 'inference thread' : "server's thread"}`,
    );
    const load = (connections: number, seconds: number) => loadTest(url, body, connections, seconds);

    await load(16, 2); // warm-up: JIT, sockets
    const rows: {
      connections: number;
      rps: number;
      p50: number;
      p99: number;
      errors: number;
      meanBatch: number;
      cpuUs: number;
      loopUs: number;
    }[] = [];
    for (const c of [1, 16, 64]) {
      const before = await batchStats(started.url);
      const cpuBefore = cpuSeconds(started.pid);
      const loopBefore = cpuSeconds(started.pid, true);
      const r = await load(c, duration);
      const cpuUs = ((cpuSeconds(started.pid) - cpuBefore) / Math.max(1, r.requests.total)) * 1e6;
      const loopUs = ((cpuSeconds(started.pid, true) - loopBefore) / Math.max(1, r.requests.total)) * 1e6;
      const after = await batchStats(started.url);
      const meanBatch = (after.rows - before.rows) / Math.max(1, after.batches - before.batches);
      const errors = r.errors + r.timeouts + r.non2xx;
      rows.push({
        connections: c,
        rps: r.requests.average,
        p50: r.latency.p50,
        p99: r.latency.p99,
        errors,
        meanBatch,
        cpuUs,
        loopUs,
      });
      say(
        `c=${String(c).padStart(2)}: ${r.requests.average.toFixed(0).padStart(6)} req/s (${(r.requests.average / baseline).toFixed(2)}x in-process), ` +
          `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, errors ${errors}, mean batch ${meanBatch.toFixed(1)}, ` +
          `server CPU ${cpuUs.toFixed(0)} us/request, ${loopUs.toFixed(0)} of them on the event loop's thread ` +
          `(in-process: ${(1e6 / baseline).toFixed(0)} us/call)`,
      );
    }

    say(`RSS run: 64 connections for ${rssSeconds} s`);
    const rss: { t: number; mb: number }[] = [];
    const t0 = performance.now();
    const sampler = setInterval(
      () => rss.push({ t: (performance.now() - t0) / 1000, mb: rssMb(started.pid) }),
      5000,
    );
    const long = await load(64, rssSeconds);
    clearInterval(sampler);
    const first = rss[0]?.mb ?? NaN;
    const last = rss[rss.length - 1]?.mb ?? NaN;
    const growth = (last - first) / first;
    say(
      `long run: ${long.requests.average.toFixed(0)} req/s, p99 ${long.latency.p99} ms, errors ${long.errors + long.timeouts + long.non2xx}`,
    );
    say(
      `RSS (MB) every 5 s: ${rss.map((s) => s.mb.toFixed(0)).join(' ')}; growth first->last ${(growth * 100).toFixed(1)}%`,
    );

    const sample = await (
      await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
    )
      .text()
      .catch(() => '');
    server.kill('SIGTERM');
    await new Promise((resolve) => server?.once('exit', resolve));
    server = undefined;
    const bareServer = await startChild([
      '--bare',
      sample || '{"predictions":[[0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1]]}',
    ]);
    server = bareServer.process;
    const bareUrl = `${bareServer.url}/v1/models/mnist:predict`;
    const bareLoad = (connections: number, seconds: number) => loadTest(bareUrl, body, connections, seconds);
    await bareLoad(16, 1);
    const ceiling = await bareLoad(64, duration);
    server.kill('SIGTERM');
    await new Promise((resolve) => server?.once('exit', resolve));
    server = undefined;
    const baselineAfter = await inProcessCalls(modelFile, image, serverOptions.threads);
    baseline = Math.max(baselineBefore, baselineAfter);
    say(
      `in-process onnxruntime, batch 1: ${baselineAfter.toFixed(0)} calls/s after the load runs; the targets use ${baseline.toFixed(0)}`,
    );
    const loadAfter = loadavg();
    const c64rps = rows.find((r) => r.connections === 64)?.rps ?? 0;
    say(
      `ceiling: bare node:http, fixed reply, no work, c=64: ${ceiling.requests.average.toFixed(0)} req/s ` +
        `(${(ceiling.requests.average / baseline).toFixed(2)}x in-process); the server reached ` +
        `${((c64rps / ceiling.requests.average) * 100).toFixed(0)}% of it`,
    );
    say(`load average ${loadAfter.map((l) => l.toFixed(2)).join(' ')} after the run`);

    const c16 = rows.find((r) => r.connections === 16);
    const c64 = rows.find((r) => r.connections === 64);
    const errors = rows.reduce((s, r) => s + r.errors, 0) + long.errors + long.timeouts + long.non2xx;
    const targets = [
      {
        target: 'req/s at c=64 >= 1.0x in-process batch-1 calls/s',
        value: `${((c64?.rps ?? 0) / baseline).toFixed(2)}x`,
        pass: (c64?.rps ?? 0) >= baseline,
      },
      { target: 'p99 at c=16 <= 10 ms', value: `${c16?.p99} ms`, pass: (c16?.p99 ?? Infinity) <= 10 },
      { target: '0 errors', value: String(errors), pass: errors === 0 },
      {
        target: `RSS flat over ${rssSeconds} s (< 10% growth)`,
        value: `${(growth * 100).toFixed(1)}%`,
        pass: growth < 0.1,
      },
    ];
    say('');
    for (const t of targets) say(`${t.pass ? 'PASS' : 'MISS'}  ${t.target}: ${t.value}`);
    if (json) {
      process.stdout.write(
        JSON.stringify(
          {
            baselineCallsPerSecond: baseline,
            baselineBeforeAfter: [baselineBefore, baselineAfter],
            ceilingRequestsPerSecond: ceiling.requests.average,
            loadAverage: { before: loadBefore, after: loadAfter },
            monitor: monitored,
            serverOptions,
            runs: rows,
            long: { rps: long.requests.average, p99: long.latency.p99 },
            rss,
            targets,
          },
          null,
          2,
        ) + '\n',
      );
    }
  } finally {
    server?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function inProcessCalls(modelPath: string, image: number[], threads: number): Promise<number> {
  const session = await createSession(modelPath, { threads });
  try {
    const x = Float32Array.from(image, (v) => v / 255);
    const name = session.inputNames[0] as string;
    const dims = [
      1,
      ...(session.inputMetadata[0]?.isTensor
        ? session.inputMetadata[0].shape.slice(1).map((d) => (typeof d === 'number' ? d : 1))
        : [784]),
    ];
    const feed = () => ({ [name]: new ort.Tensor('float32', x, dims) });
    for (let i = 0; i < 500; i++) await session.run(feed());
    let calls = 0;
    const start = performance.now();
    while (performance.now() - start < 3000) {
      await session.run(feed());
      calls++;
    }
    return calls / ((performance.now() - start) / 1000);
  } finally {
    await session.release();
  }
}

/** autocannon: batch-1 POSTs of `body` on `connections` keep-alive connections, one request in flight each. */
function loadTest(url: string, body: string, connections: number, seconds: number) {
  return autocannon({
    url,
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
    connections,
    duration: seconds,
    pipelining: 1,
  });
}

function startChild(args: string[]): Promise<{ url: string; pid: number; process: ChildProcess }> {
  const self = fileURLToPath(import.meta.url);
  const proc = spawn(process.execPath, [...process.execArgv, self, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        const info = JSON.parse(out.slice(0, nl)) as { url: string; pid: number };
        resolve({ ...info, process: proc });
      }
    });
    proc.once('exit', (code) =>
      reject(new Error(`the server process exited (code ${code}) before listening`)),
    );
  });
}

async function batchStats(base: string): Promise<{ batches: number; rows: number }> {
  const r = await fetch(`${base}/admin/models/mnist`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const state = (await r.json()) as { versions: { batches: number; meanBatch: number }[] };
  const v = state.versions[0];
  return { batches: v?.batches ?? 0, rows: (v?.meanBatch ?? 0) * (v?.batches ?? 0) };
}

/**
 * User + system CPU time of a process, or of its main thread (the event loop) with `mainThread`
 * (Linux /proc; clock ticks of 1/100 s).
 */
function cpuSeconds(pid: number, mainThread = false): number {
  const file = mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`;
  const fields = readFileSync(file, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  return kb ? Number(kb) / 1024 : NaN;
}
