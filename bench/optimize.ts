/**
 * Optimize benchmark (`npm run bench:optimize`): the issue's MNIST acceptance scenarios, end to end through
 * the tracked jobs, on the seed MLP of the main job (784-128-64-10):
 *
 *   A  magnitude pruning to 80% (PolynomialDecay 50% -> 80%, 2 epochs):  drop <= 0.5 points, gzip <= 1/3
 *   B  structured pruning of 50% of the hidden units (+ fine-tuning):    >= 1.5x faster at batch 128, drop <= 0.5
 *   C  A's model with uint8 tfjs weights:                                 gzip >= 10x smaller, drop <= 0.7
 *   D  distillation of a 784-32-10 student vs the same student from scratch, same epochs, 3 seeds
 *   E  the accuracy-budget search on its own (tolerance 1%, objective size): a candidate >= 4x smaller
 *
 * Accuracy is on MNIST's 10k test set (drops in points vs the baseline); sizes are the stored model.json +
 * weights.bin, raw and gzipped (zlib level 9). Latency is measured twice, each time next to the baseline in
 * interleaved rounds (the machine is shared: read the ratios, which are medians of per-round ratios):
 * tfjs predict on the job's backend, and the model exported to ONNX in onnxruntime (one thread), the
 * runtime `modelauto serve` uses. Options: --store <dir> (default: a temp folder), --epochs n (baseline,
 * default 5), --fine-tune n (default 2), --distill-epochs n (default 20: the distilled student learns
 * slower than on labels alone; at 8 epochs the two tie), --seeds n (default 3), --temperature (default 2)
 * and --alpha (default 0.1, the library's), --budget (search, default 4trials), --latency-rounds n (default
 * 200), --limit n (training rows, quick tries), --json.
 */
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ModelSpecInput } from '../src/model/spec.js';
import { DistillationSchema } from '../src/optimize/distill.js';
import type { CandidateResult } from '../src/pipeline/optimize/candidate.js';
import {
  runDistillJob,
  runOptimizeCandidate,
  runOptimizeSearch,
  runQuantizeJob,
  type OptimizeJobOptions,
} from '../src/pipeline/optimize-job.js';
import { QUICKSTART_SPEC } from '../src/pipeline/quickstart.js';
import { runTrainJob } from '../src/pipeline/train-job.js';
import { openTrackingStore } from '../src/store/open.js';
import type { ExperimentSpecInput } from '../src/train/experiment.js';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string' },
    epochs: { type: 'string', default: '5' },
    'fine-tune': { type: 'string', default: '2' },
    'distill-epochs': { type: 'string', default: '20' },
    seeds: { type: 'string', default: '3' },
    budget: { type: 'string', default: '4trials' },
    // The 784-32-10 student is tiny: T 2 beat 3, 4 and 8 for it (3 seeds; see DEFAULT_TEMPERATURE).
    temperature: { type: 'string', default: '2' },
    alpha: { type: 'string' },
    'latency-rounds': { type: 'string', default: '200' },
    limit: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const EPOCHS = Number(args.epochs);
const FINE_TUNE = Number(args['fine-tune']);
const DISTILL_EPOCHS = Number(args['distill-epochs']);
const SEEDS = Number(args.seeds);
const LIMIT = args.limit ? Number(args.limit) : undefined;
const DISTILL = DistillationSchema.parse({
  ...(args.temperature ? { temperature: Number(args.temperature) } : {}),
  ...(args.alpha ? { alpha: Number(args.alpha) } : {}),
});
const log = (s: string): void => void process.stderr.write(`${s}\n`);
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const loadStart = load();
const started = performance.now();
const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(0)}s`;

const store = await openTrackingStore(args.store ?? mkdtempSync(join(tmpdir(), 'modelauto-bench-optimize-')));
const jobs: OptimizeJobOptions = {
  store,
  log: (l) => log(`  ${l}`),
  latencyRounds: Number(args['latency-rounds']),
};

const base = QUICKSTART_SPEC as ExperimentSpecInput & { train: NonNullable<ExperimentSpecInput['train']> };
const data = LIMIT ? { ...base.data, limit: LIMIT } : base.data;
const spec: ExperimentSpecInput = {
  ...base,
  name: 'bench-mnist-mlp',
  data,
  // The seed model as the main job trains it, without TensorBoard files.
  train: { ...base.train, epochs: EPOCHS, tensorboard: undefined },
};

log(`[${elapsed()}] baseline: seed MLP on MNIST, ${EPOCHS} epochs (store ${store.location})`);
const baseline = await runTrainJob(spec, { store, log: (l) => log(`  ${l}`) });
const baseId = baseline.run.id;
const baseTest = baseline.test?.scalars['accuracy'] ?? Number.NaN;
log(`[${elapsed()}] baseline run ${baseId}: test accuracy ${(baseTest * 100).toFixed(2)}%`);

interface Line {
  scenario: string;
  run: string;
  testAccuracy: number;
  dropPoints: number;
  params: number;
  nonzero: number;
  rawBytes: number;
  gzipBytes: number;
  gzipRatio: number;
  latencyB1Ms: number;
  latencyB128Ms: number;
  speedupB1: number;
  speedupB128: number;
  onnxB128Ms: number;
  onnxSpeedupB128: number;
}
const lines: Line[] = [];
let baseSize = { rawBytes: Number.NaN, gzipBytes: Number.NaN };

function record(scenario: string, c: CandidateResult): Line {
  const line: Line = {
    scenario,
    run: c.runId,
    testAccuracy: c.test,
    dropPoints: (baseTest - c.test) * 100,
    params: c.params,
    nonzero: c.nonzeroParams,
    rawBytes: c.size.rawBytes,
    gzipBytes: c.size.gzipBytes,
    gzipRatio: baseSize.gzipBytes / c.size.gzipBytes,
    latencyB1Ms: c.latencyMs.b1,
    latencyB128Ms: c.latencyMs.b128,
    speedupB1: c.speedup.b1,
    speedupB128: c.speedup.b128,
    onnxB128Ms: c.onnxLatencyMs.b128,
    onnxSpeedupB128: c.onnxSpeedup.b128,
  };
  lines.push(line);
  log(
    `[${elapsed()}] ${scenario}: test ${(c.test * 100).toFixed(2)}% (drop ${line.dropPoints.toFixed(2)} pts), ` +
      `gzip ${c.size.gzipBytes} B (${line.gzipRatio.toFixed(2)}x smaller), speedup tfjs b1 ${c.speedup.b1.toFixed(2)}x ` +
      `b128 ${c.speedup.b128.toFixed(2)}x, onnxruntime b128 ${c.onnxSpeedup.b128.toFixed(2)}x`,
  );
  return line;
}

// A: magnitude pruning, tfmot's tutorial schedule.
log(`[${elapsed()}] A: prune 50% -> 80% (PolynomialDecay, ${FINE_TUNE} epochs)`);
const a = await runOptimizeCandidate(
  baseId,
  { key: 'A-prune-0.8', prune: { sparsity: 0.8, initialSparsity: 0.5, epochs: FINE_TUNE } },
  jobs,
);
baseSize = { rawBytes: a.source.rawBytes, gzipBytes: a.source.gzipBytes };
const lineA = record('A prune 80%', a.candidate);

// B: structured pruning of half the hidden units.
log(`[${elapsed()}] B: structured pruning of 50% of the hidden units (${FINE_TUNE} epochs)`);
const b = await runOptimizeCandidate(
  baseId,
  { key: 'B-structured-0.5', structured: { ratio: 0.5, epochs: FINE_TUNE } },
  jobs,
);
const lineB = record('B structured 50%', b.candidate);

// C: A's pruned model, then uint8 tfjs weights (the candidate run is the source: parent = A).
log(`[${elapsed()}] C: A's pruned model with uint8 weights`);
const c = await runQuantizeJob(a.candidate.runId, { dtype: 'uint8', maxDrop: 0.002 }, jobs);
const lineC = record('C prune 80% + uint8', c.candidate);

// D: distillation vs training from scratch, same student, same epochs, several seeds.
const student = (seed: number): ModelSpecInput => ({
  seed,
  layers: [
    { type: 'flatten' },
    { type: 'dense', units: 32, activation: 'relu' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
});
const distilled: number[] = [];
const scratch: number[] = [];
for (let s = 1; s <= SEEDS; s++) {
  log(
    `[${elapsed()}] D: seed ${s}: student 784-32-10 distilled (T ${DISTILL.temperature}, alpha ${DISTILL.alpha}) and from scratch, ${DISTILL_EPOCHS} epochs`,
  );
  const d = await runDistillJob(
    baseId,
    {
      student: student(s),
      epochs: DISTILL_EPOCHS,
      temperature: DISTILL.temperature,
      alpha: DISTILL.alpha,
    },
    jobs,
  );
  distilled.push(d.candidate.test);
  const { earlyStopping: _e, ...train } = spec.train ?? {};
  const fromScratch = await runTrainJob(
    {
      ...spec,
      name: `bench-student-scratch-${s}`,
      model: student(s),
      train: { ...train, epochs: DISTILL_EPOCHS },
    },
    { store },
  );
  scratch.push(fromScratch.test?.scalars['accuracy'] ?? Number.NaN);
  log(
    `  seed ${s}: distilled ${(distilled[s - 1]! * 100).toFixed(2)}%, scratch ${(scratch[s - 1]! * 100).toFixed(2)}%`,
  );
}
const mean = (v: number[]): number => v.reduce((x, y) => x + y, 0) / v.length;

// E: the search on its own.
log(`[${elapsed()}] E: optimize search (tolerance 1%, objective size, budget ${args.budget})`);
const e = await runOptimizeSearch(
  baseId,
  { tolerance: 0.01, objective: 'size', budget: args.budget, epochs: FINE_TUNE },
  jobs,
);
for (const row of e.rows) record(`E ${row.key}${row.best ? ' (best)' : ''}`, row);

const pts = (x: number): string => `${x.toFixed(2)} pts`;
const checks = [
  ['A drop <= 0.5 pts', lineA.dropPoints <= 0.5, pts(lineA.dropPoints)],
  [
    'A gzip <= 1/3 of baseline',
    lineA.gzipBytes <= baseSize.gzipBytes / 3,
    `${lineA.gzipRatio.toFixed(2)}x smaller`,
  ],
  [
    'B >= 1.5x faster at batch 128, tfjs',
    lineB.speedupB128 >= 1.5,
    `${lineB.speedupB128.toFixed(2)}x (${a.backend.name})`,
  ],
  [
    'B >= 1.5x faster at batch 128, onnxruntime',
    lineB.onnxSpeedupB128 >= 1.5,
    `${lineB.onnxSpeedupB128.toFixed(2)}x`,
  ],
  ['B drop <= 0.5 pts', lineB.dropPoints <= 0.5, pts(lineB.dropPoints)],
  ['C gzip >= 10x smaller', lineC.gzipRatio >= 10, `${lineC.gzipRatio.toFixed(2)}x smaller`],
  ['C drop <= 0.7 pts', lineC.dropPoints <= 0.7, pts(lineC.dropPoints)],
  [
    `D distilled beats scratch (mean of ${SEEDS} seeds)`,
    mean(distilled) > mean(scratch),
    `${(mean(distilled) * 100).toFixed(2)}% vs ${(mean(scratch) * 100).toFixed(2)}%`,
  ],
  [
    'E search finds >= 4x smaller within 1%',
    Boolean(e.best && e.best.sizeRatio >= 4),
    e.best
      ? `${e.best.key}: ${e.best.sizeRatio.toFixed(2)}x, ${(e.best.validation * 100).toFixed(2)}% val`
      : 'none',
  ],
] as const;

const pad = (s: string, n: number): string => s.padEnd(n);
const out: string[] = [
  '',
  `backend ${a.backend.name}; baseline run ${baseId}: test ${(baseTest * 100).toFixed(2)}%, ${a.source.params} parameters, ` +
    `${baseSize.rawBytes} B raw, ${baseSize.gzipBytes} B gzipped; total ${elapsed()}; load average ${loadStart} at the start, ${load()} at the end`,
  '',
  `${pad('scenario', 34)} ${pad('test acc', 9)} ${pad('drop', 10)} ${pad('nonzero/params', 16)} ${pad('raw B', 8)} ${pad('gzip B', 8)} ${pad('smaller', 8)} ${pad('b1 ms', 8)} ${pad('b128 ms', 8)} ${pad('b1 x', 6)} ${pad('b128 x', 7)} ${pad('ort ms', 8)} ort x`,
  ...lines.map(
    (l) =>
      `${pad(l.scenario, 34)} ${pad(`${(l.testAccuracy * 100).toFixed(2)}%`, 9)} ${pad(pts(l.dropPoints), 10)} ${pad(`${l.nonzero}/${l.params}`, 16)} ` +
      `${pad(String(l.rawBytes), 8)} ${pad(String(l.gzipBytes), 8)} ${pad(`${l.gzipRatio.toFixed(2)}x`, 8)} ${pad(l.latencyB1Ms.toFixed(3), 8)} ` +
      `${pad(l.latencyB128Ms.toFixed(3), 8)} ${pad(`${l.speedupB1.toFixed(2)}`, 6)} ${pad(l.speedupB128.toFixed(2), 7)} ` +
      `${pad(l.onnxB128Ms.toFixed(3), 8)} ${l.onnxSpeedupB128.toFixed(2)}`,
  ),
  `latency: median ms per call at batch 1 / 128; x: speedup over the baseline (median of per-round ratios); ` +
    `b1/b128 on tfjs (${a.backend.name}), ort: the ONNX export on onnxruntime (1 thread) at batch 128`,
  '',
  `D per seed (T ${DISTILL.temperature}, alpha ${DISTILL.alpha}, ${DISTILL_EPOCHS} epochs): distilled ${distilled.map((v) => (v * 100).toFixed(2)).join(', ')}; scratch ${scratch.map((v) => (v * 100).toFixed(2)).join(', ')}`,
  '',
  ...checks.map(([what, ok, value]) => `${ok ? 'PASS' : 'FAIL'}  ${pad(what, 44)} ${value}`),
];
process.stdout.write(out.join('\n') + '\n');
if (args.json) {
  process.stdout.write(
    JSON.stringify({
      backend: a.backend.name,
      loadAverage: { start: loadStart, end: load() },
      baseline: { run: baseId, testAccuracy: baseTest, ...baseSize, params: a.source.params },
      scenarios: lines,
      distill: { ...DISTILL, epochs: DISTILL_EPOCHS, distilled, scratch },
      search: { run: e.run.id, best: e.best?.key ?? null, stopReason: e.stopReason },
      checks: checks.map(([what, ok, value]) => ({ what, ok, value })),
    }) + '\n',
  );
}
await store.close();
