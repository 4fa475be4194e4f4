/**
 * Drift benchmark (`npx tsx bench/drift.ts`): detectDrift on MNIST pixels, a 1000-row reference sample
 * (784 columns) against 500 current rows, for the cases the monitor meets: unshifted test digits and
 * inverted digits, with the reference standing for 60,000 training rows (the auto rule picks the
 * normalized Wasserstein distance and Jensen-Shannon) and standing for itself (KS with exact p-values,
 * chi-square, z-test). Prints the median of several runs per case, wall-clock and CPU time of this
 * process (on a shared, loaded machine the CPU time is the steadier figure), and the load average.
 * Options: --runs n (default 5), --json.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadBuiltin } from '../src/data/builtin.js';
import { subsetDataset } from '../src/data/split.js';
import { columnarFromDataset, columnarFromTensor, type ColumnarData } from '../src/monitor/drift/columnar.js';
import { detectDrift } from '../src/monitor/drift/detect.js';
import type { DriftOptionsInput } from '../src/monitor/drift/options.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, json: { type: 'boolean', default: false } },
});
const runs = Number(values.runs);

const ds = await loadBuiltin('mnist', { limit: 1000, testLimit: 500 });
const test = ds.predefinedTest;
if (!test || test.features.kind !== 'tensor') throw new Error('MNIST test set not available');
const reference = columnarFromDataset(
  subsetDataset(
    ds,
    Array.from({ length: 1000 }, (_, i) => i),
  ),
);
const same = columnarFromDataset(test);
const inverted = columnarFromTensor(
  Uint8Array.from(test.features.data, (v) => 255 - v),
  test.n,
  test.features.shape,
);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const cases: { name: string; current: ColumnarData; options: DriftOptionsInput }[] = [
  {
    name: 'unshifted, reference = 60k rows (Wasserstein/JS)',
    current: same,
    options: { referenceRows: 60_000 },
  },
  {
    name: 'inverted,  reference = 60k rows (Wasserstein/JS)',
    current: inverted,
    options: { referenceRows: 60_000 },
  },
  { name: 'unshifted, reference = 1000 rows (KS exact)', current: same, options: {} },
  { name: 'inverted,  reference = 1000 rows (KS exact)', current: inverted, options: {} },
  { name: 'inverted,  KS asymptotic p-values', current: inverted, options: { ksMethod: 'asymp' } },
  {
    name: 'inverted,  reference = 1000 rows, maxFeatures 200',
    current: inverted,
    options: { maxFeatures: 200 },
  },
];

const results: { name: string; ms: number; cpuMs: number; driftShare: number; datasetDrift: boolean }[] = [];
for (const c of cases) {
  detectDrift(reference, c.current, c.options); // warm-up
  const times: number[] = [];
  const cpu: number[] = [];
  let share = 0;
  let dataset = false;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    const u = process.cpuUsage();
    const rep = detectDrift(reference, c.current, c.options);
    const used = process.cpuUsage(u);
    times.push(performance.now() - t);
    cpu.push((used.user + used.system) / 1000);
    share = rep.driftShare;
    dataset = rep.datasetDrift;
  }
  results.push({
    name: c.name,
    ms: median(times),
    cpuMs: median(cpu),
    driftShare: share,
    datasetDrift: dataset,
  });
}

const load = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
if (values.json) {
  process.stdout.write(JSON.stringify({ load, runs, results }) + '\n');
} else {
  process.stdout.write(
    `detectDrift, MNIST 1000x784 reference vs 500x784 current (median of ${runs}; load ${load})\n`,
  );
  for (const r of results) {
    process.stdout.write(
      `  ${r.name.padEnd(52)} ${r.ms.toFixed(0).padStart(6)} ms wall ${r.cpuMs.toFixed(0).padStart(6)} ms cpu   drift share ${r.driftShare.toFixed(3)}  dataset drift ${r.datasetDrift}\n`,
    );
  }
}
