/**
 * `npx tsx bench/monitor.ts`: what the live monitor costs the model server. Not a timed test: it
 * prints figures.
 *
 * 1. Trains a small MNIST MLP, exports it to ONNX, registers it as mnist@champion in a temp store.
 * 2. Serves it twice in a child process, without the monitor and with it (prediction log at sample
 *    rate 1, drift windows, the metrics), and drives each with autocannon at 16 connections with
 *    batch-1 TF Serving requests of real MNIST digits: req/s, p50/p99 and server CPU per request.
 * 3. In process: one drift computation of a 500-row MNIST window (784 pixel columns) against the
 *    stored 1,000-row reference, on the server's thread and in the drift thread, with the longest
 *    event-loop stall it caused; and one /metrics scrape.
 *
 * Options: --duration <s> (default 10), --quick (3 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBuiltin } from '../src/data/builtin.js';
import type { Dataset } from '../src/data/types.js';
import { startMonitoredServer } from '../src/monitor/server.js';
import { runExportJob } from '../src/pipeline/export-job.js';
import { runTrainJob } from '../src/pipeline/train-job.js';
import { openStores } from '../src/store/open.js';
import { registerRun } from '../src/store/register-run.js';
import { startServer } from '../src/serve/server.js';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const quick = process.argv.includes('--quick');
const durationIndex = process.argv.indexOf('--duration');
const duration = durationIndex >= 0 ? Number(process.argv[durationIndex + 1]) : quick ? 3 : 10;

type Variant = 'plain' | 'no-log' | 'monitored';
const VARIANTS: Record<Variant, string> = {
  plain: 'without the monitor        ',
  'no-log': 'monitor, prediction log off',
  monitored: 'monitor, everything on     ',
};

if (process.argv[2] === '--child') await child(process.argv[3] as string, process.argv[4] as Variant);
else await main();

async function child(store: string, variant: Variant): Promise<void> {
  const options = { store, port: 0, models: ['mnist'], pollIntervalMs: 0 };
  const server =
    variant === 'plain'
      ? await startServer(options)
      : await startMonitoredServer({
          ...options,
          dashboard: false,
          monitor: { predictionLog: { enabled: variant === 'monitored' } },
        });
  process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
}

/** Starts timing the event loop: the returned function stops and gives the longest gap between turns (ms). */
function stallMeter(): () => number {
  let last = performance.now();
  let max = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
  }, 1);
  return () => {
    clearInterval(timer);
    return Math.max(max, performance.now() - last);
  };
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function startChild(
  dir: string,
  variant: Variant,
): Promise<{ process: ChildProcess; url: string; pid: number }> {
  const script = fileURLToPath(import.meta.url);
  const proc = spawn(process.execPath, ['--import', 'tsx', script, '--child', dir, variant], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) {
        const { url, pid } = JSON.parse(line) as { url: string; pid: number };
        resolve({ process: proc, url, pid });
      }
    });
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'modelauto-bench-monitor-'));
  let server: ChildProcess | undefined;
  try {
    process.stdout.write('preparing: training a 784-128-10 MLP on 2,000 digits, exporting, registering\n');
    const stores = await openStores(dir);
    const run = await runTrainJob(
      {
        name: 'mnist-bench-monitor',
        data: { source: 'mnist', limit: 2000, testLimit: 20, split: { validation: 0, seed: 1 } },
        model: {
          seed: 1,
          layers: [
            { type: 'flatten' },
            { type: 'dense', units: 128, activation: 'relu' },
            { type: 'dense', units: 10, activation: 'softmax' },
          ],
        },
        train: { epochs: 1, batchSize: 64 },
      },
      { store: stores.tracking },
    );
    await runExportJob(run.run.id, { store: stores.tracking, format: 'onnx' });
    await registerRun(stores.tracking, stores.registry, run.run.id, 'mnist', { aliases: ['champion'] });
    await stores.close();

    const test = (await loadBuiltin('mnist', { limit: 1, testLimit: 500 })).predefinedTest as Dataset;
    const pixels = test.features.kind === 'tensor' ? test.features.data : new Uint8Array();
    const bodies = Array.from({ length: 100 }, (_, i) =>
      JSON.stringify({ instances: [Array.from(pixels.subarray(i * 784, (i + 1) * 784))] }),
    );

    for (const variant of Object.keys(VARIANTS) as Variant[]) {
      const started = await startChild(dir, variant);
      server = started.process;
      let next = 0;
      const load = (seconds: number) =>
        autocannon({
          url: `${started.url}/v1/models/mnist:predict`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          connections: 16,
          duration: seconds,
          requests: [{ setupRequest: (req: object) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
        });
      await load(2);
      const cpu0 = cpuSeconds(started.pid);
      const r = await load(duration);
      const cpuUs = ((cpuSeconds(started.pid) - cpu0) / Math.max(1, r.requests.total)) * 1e6;
      process.stdout.write(
        `${VARIANTS[variant]}: ${r.requests.average.toFixed(0)} req/s, ` +
          `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, errors ${r.errors + r.timeouts + r.non2xx}, ` +
          `server CPU ${cpuUs.toFixed(0)} us/request\n`,
      );
      server.kill('SIGTERM');
      await new Promise((resolve) => server?.once('exit', resolve));
      server = undefined;
    }

    // Drift and scrape cost, in process: wall time of one drift run, and the longest the event loop
    // stood still meanwhile (what every request waiting at that moment pays), drift on the server's
    // thread and in the drift thread.
    for (const compute of ['inline', 'thread'] as const) {
      const m = await startMonitoredServer({
        store: dir,
        port: 0,
        pollIntervalMs: 0,
        dashboard: false,
        monitor: { drift: { compute } },
      });
      try {
        for (let i = 0; i < 500; i += 50) {
          await fetch(`${m.url}/v2/models/mnist/infer`, {
            method: 'POST',
            body: JSON.stringify({
              inputs: [
                {
                  name: 'input',
                  shape: [50, 784],
                  datatype: 'UINT8',
                  data: Array.from(pixels.subarray(i * 784, (i + 50) * 784)),
                },
              ],
            }),
          });
        }
        await m.monitor.runDrift('mnist'); // loads the reference
        const stall = stallMeter();
        const t0 = performance.now();
        const [report] = await m.monitor.runDrift('mnist');
        const driftMs = performance.now() - t0;
        const stallMs = stall();
        const t1 = performance.now();
        const text = await (await fetch(`${m.url}/metrics`)).text();
        const scrapeMs = performance.now() - t1;
        process.stdout.write(
          `drift (${compute.padEnd(6)}) of a ${report?.currentRows}-row window, ${report?.features.length} columns compared ` +
            `(reference ${report?.referenceRows} rows): ${driftMs.toFixed(0)} ms, longest event-loop stall ` +
            `${stallMs.toFixed(1)} ms, drift share ${report?.driftShare.toFixed(3)}\n` +
            `/metrics scrape: ${scrapeMs.toFixed(1)} ms, ${text.length} bytes\n`,
        );
      } finally {
        await m.close();
      }
    }
  } finally {
    server?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
