import { InvalidArgumentError, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ModelautoError } from '../../core/errors.js';
import type { CandidateResult } from '../../pipeline/optimize/candidate.js';
import type { CandidatePlanInput } from '../../pipeline/optimize/plan.js';
import { QUANTIZE_TARGETS } from '../../pipeline/optimize/plan.js';
import { DEFAULT_ALPHA, DEFAULT_TEMPERATURE } from '../../optimize/distill.js';
import { OBJECTIVES, TOLERANCE_MODES } from '../../optimize/pareto.js';
import { PRUNE_SCOPES } from '../../optimize/prune.js';
import { QUANT_DTYPES } from '../../optimize/quantize.js';
import { STRUCTURED_CRITERIA } from '../../optimize/structured.js';
import {
  runOptimizeCandidate,
  runOptimizeSearch,
  type CandidateJobResult,
  type OptimizeJobOptions,
  type OptimizeSearchResult,
} from '../../pipeline/optimize-job.js';
import { globals, oneOf, output, positiveInt } from '../context.js';
import { withInterrupt } from '../interrupt.js';
import { fmt, formatTable } from '../table.js';

/**
 * `modelauto optimize` (the accuracy-budget search) and the single techniques: `prune` (magnitude,
 * m-by-n or structured), `distill` and `quantize`. Each candidate is a tracked run linked to the source run.
 */
export function registerOptimize(program: Command): void {
  registerSearch(program);
  registerPrune(program);
  registerDistill(program);
  registerQuantize(program);
}

function num(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n))
      throw new InvalidArgumentError(`${name}: expected a number, got "${value}"`);
    return n;
  };
}

function list(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  ];
}

function mByN(value: string): { m: number; n: number } {
  const m = /^(\d+):(\d+)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`--m-by-n: expected m:n such as 2:4, got "${value}"`);
  return { m: Number(m[1]), n: Number(m[2]) };
}

function layerDtype(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const m = /^([^=]+)=(.+)$/.exec(value.trim());
  if (!m)
    throw new InvalidArgumentError(
      `--layer: expected name=dtype such as dense_Dense3=float32, got "${value}"`,
    );
  return { ...previous, [(m[1] as string).trim()]: (m[2] as string).trim() };
}

function commonOptions(cmd: Command): Command {
  return cmd
    .option(
      '--limit <n>',
      'use only the first n training rows (as the run was trained with --limit n)',
      positiveInt('--limit'),
    )
    .option('--learning-rate <x>', "fine-tuning learning rate (default: the run's)", num('--learning-rate'))
    .option(
      '--latency-rounds <n>',
      'timed rounds per batch size when measuring latency, on tfjs and onnxruntime (default 60)',
      positiveInt('--latency-rounds'),
    )
    .option('--no-progress', 'no progress bar or epoch lines on stderr');
}

interface CommonFlags {
  limit?: number;
  progress?: boolean;
  latencyRounds?: number;
}

function jobOptions(cmd: Command, opts: CommonFlags, signal: AbortSignal): OptimizeJobOptions {
  const g = globals(cmd);
  return {
    ...(g.store ? { store: g.store } : {}),
    ...(opts.limit ? { limit: opts.limit } : {}),
    ...(opts.latencyRounds ? { latencyRounds: opts.latencyRounds } : {}),
    progress: opts.progress !== false,
    signal,
    log: (line) => process.stderr.write(`${line}\n`),
  };
}

async function runPlan(
  cmd: Command,
  runRef: string,
  plan: CandidatePlanInput,
  opts: CommonFlags,
): Promise<void> {
  const result = await withInterrupt((signal) =>
    runOptimizeCandidate(runRef, plan, jobOptions(cmd, opts, signal)),
  );
  output(cmd, candidateJson(result), () => formatCandidateResult(result));
  if (result.candidate.status !== 'finished') process.exitCode = 1;
}

function registerSearch(program: Command): void {
  commonOptions(
    program
      .command('optimize')
      .description(
        'search compression candidates for the smallest (or fastest) model within an accuracy tolerance',
      )
      .argument('<run>', 'trained run id or a unique prefix')
      .option(
        '--tolerance <x>',
        'accepted loss of validation accuracy (relative: 0.01 = 1% of the baseline)',
        num('--tolerance'),
        0.01,
      )
      .option(
        '--tolerance-mode <mode>',
        `${TOLERANCE_MODES.join(' | ')}`,
        oneOf('--tolerance-mode', TOLERANCE_MODES),
        'relative',
      )
      .option(
        '--objective <name>',
        `what to minimise: ${OBJECTIVES.join(' | ')} (latency at batch 128, on onnxruntime when the model exports to ONNX)`,
        oneOf('--objective', OBJECTIVES),
        'size',
      )
      .option('--budget <budget>', '<n>trials or <n>minutes', '10trials')
      .option('--epochs <n>', 'fine-tuning epochs per candidate', positiveInt('--epochs'), 2)
      .option('--candidates <file>', 'YAML/JSON list of candidate plans to try instead of the default space')
      .option('--resume', 'continue the latest interrupted search of this run with the same settings'),
  ).action(async (ref: string, opts, cmd: Command) => {
    const candidates = opts.candidates ? readCandidates(opts.candidates) : undefined;
    const result = await withInterrupt((signal) =>
      runOptimizeSearch(
        ref,
        {
          tolerance: opts.tolerance,
          toleranceMode: opts.toleranceMode,
          objective: opts.objective,
          budget: opts.budget,
          resume: Boolean(opts.resume),
          epochs: opts.epochs,
          ...(candidates ? { candidates } : {}),
        },
        jobOptions(cmd, opts, signal),
      ),
    );
    output(cmd, searchJson(result), () => formatSearchResult(result));
    if (result.stopReason === 'interrupted') process.exitCode = 1;
  });
}

function registerPrune(program: Command): void {
  commonOptions(
    program
      .command('prune')
      .description(
        'magnitude pruning (tfmot schedules, m-by-n) or structured pruning of units/filters, then fine-tuning',
      )
      .argument('<run>', 'trained run id or a unique prefix')
      .option('--sparsity <x>', 'final sparsity in [0, 1) (magnitude pruning)', num('--sparsity'))
      .option(
        '--initial-sparsity <x>',
        'PolynomialDecay from this sparsity (default: ConstantSparsity)',
        num('--initial-sparsity'),
      )
      .option('--frequency <n>', 'steps between mask updates', positiveInt('--frequency'), 100)
      .option(
        '--scope <scope>',
        `${PRUNE_SCOPES.join(' | ')}: per-layer or one global threshold`,
        oneOf('--scope', PRUNE_SCOPES),
        'layer',
      )
      .option('--skip <layers>', 'layers to leave dense (comma-separated, repeatable)', list)
      .option('--m-by-n <m:n>', 'm zeros in every n input weights, e.g. 2:4', mByN)
      .option(
        '--structured <ratio>',
        'remove this share of units/filters per layer and rebuild a smaller model',
        num('--structured'),
      )
      .option(
        '--criterion <name>',
        `structured ranking: ${STRUCTURED_CRITERIA.join(' | ')}`,
        oneOf('--criterion', STRUCTURED_CRITERIA),
        'l1',
      )
      .option('--epochs <n>', 'fine-tuning epochs', (v: string) => Number(v), 2)
      .option(
        '--quantize <dtype>',
        `then quantize the weights: ${QUANT_DTYPES.filter((d) => d !== 'float32').join(' | ')}`,
      ),
  ).action(async (ref: string, opts, cmd: Command) => {
    if (opts.sparsity === undefined && opts.mByN === undefined && opts.structured === undefined) {
      throw new ModelautoError('USAGE', 'prune: give --sparsity, --m-by-n or --structured');
    }
    const skip: string[] = opts.skip ?? [];
    const plan: CandidatePlanInput = {
      ...(opts.structured !== undefined
        ? { structured: { ratio: opts.structured, criterion: opts.criterion, skip, epochs: opts.epochs } }
        : {}),
      ...(opts.sparsity !== undefined || opts.mByN
        ? {
            prune: {
              sparsity: opts.sparsity ?? (opts.mByN ? opts.mByN.m / opts.mByN.n : 0),
              ...(opts.initialSparsity !== undefined ? { initialSparsity: opts.initialSparsity } : {}),
              frequency: opts.frequency,
              scope: opts.scope,
              skip,
              ...(opts.mByN ? { mByN: opts.mByN } : {}),
              epochs: opts.epochs,
            },
          }
        : {}),
      ...(opts.quantize ? { quantize: { dtype: opts.quantize } } : {}),
      ...(opts.learningRate ? { learningRate: opts.learningRate } : {}),
    } as CandidatePlanInput;
    await runPlan(cmd, ref, plan, opts);
  });
}

function registerDistill(program: Command): void {
  commonOptions(
    program
      .command('distill')
      .description("train a smaller student on a teacher's soft targets (Hinton's loss with T^2)")
      .argument('<run>', 'trained run whose data (and, by default, model as teacher) is used')
      .option(
        '--student <file>',
        'student model spec (YAML/JSON: a model spec with layers, or an experiment spec)',
      )
      .option(
        '--width <x>',
        "student = the teacher's architecture with each hidden layer this much as wide",
        num('--width'),
      )
      .option(
        '--teacher <run|dir>',
        "teacher: another run, or a model folder / model.json (default: the run's model)",
      )
      .option('--temperature <t>', 'softmax temperature T', num('--temperature'), DEFAULT_TEMPERATURE)
      .option(
        '--alpha <a>',
        'weight of the hard-label loss (1 - alpha on the soft loss)',
        num('--alpha'),
        DEFAULT_ALPHA,
      )
      .option('--epochs <n>', "student training epochs (default: the run's)", positiveInt('--epochs')),
  ).action(async (ref: string, opts, cmd: Command) => {
    const student = opts.student ? readStudent(opts.student) : undefined;
    const plan = {
      distill: {
        ...(student ? { student } : {}),
        ...(opts.width !== undefined ? { width: opts.width } : {}),
        ...(opts.teacher ? { teacher: opts.teacher } : {}),
        temperature: opts.temperature,
        alpha: opts.alpha,
        ...(opts.epochs ? { epochs: opts.epochs } : {}),
      },
      ...(opts.learningRate ? { learningRate: opts.learningRate } : {}),
    } as CandidatePlanInput;
    await runPlan(cmd, ref, plan, opts);
  });
}

function registerQuantize(program: Command): void {
  commonOptions(
    program
      .command('quantize')
      .description(
        "quantize weights into tfjs's model.json format (uint8/uint16/float16), or QAT for the int8 export",
      )
      .argument('<run>', 'trained run id or a unique prefix')
      .requiredOption(
        '--dtype <dtype>',
        `${QUANTIZE_TARGETS.join(' | ')} (int8: quantization-aware training, float model)`,
        oneOf('--dtype', QUANTIZE_TARGETS),
      )
      .option(
        '--layer <name=dtype>',
        "fix one layer's dtype (repeatable), e.g. dense_Dense3=float32",
        layerDtype,
      )
      .option(
        '--max-drop <x>',
        'largest validation accuracy drop a layer may cost before it keeps more precision',
        num('--max-drop'),
        0.005,
      )
      .option('--qat-epochs <n>', 'quantization-aware fine-tuning epochs first', (v: string) => Number(v), 0)
      .option('--activations', 'int8 QAT: also fake-quantize activations (ranges saved as qat-ranges.json)')
      .option('--reduce-range', 'int8 QAT: 7-bit weights, for an int8 export with reduce-range'),
  ).action(async (ref: string, opts, cmd: Command) => {
    const plan = {
      quantize: {
        dtype: opts.dtype,
        layers: opts.layer ?? {},
        maxDrop: opts.maxDrop,
        qatEpochs: opts.qatEpochs,
        activations: Boolean(opts.activations),
        reduceRange: Boolean(opts.reduceRange),
      },
      ...(opts.learningRate ? { learningRate: opts.learningRate } : {}),
    } as CandidatePlanInput;
    await runPlan(cmd, ref, plan, opts);
  });
}

function readStructured(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModelautoError(
      'NOT_FOUND',
      `${what} ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
    );
  }
  try {
    return parseYaml(text);
  } catch (e) {
    throw new ModelautoError(
      'INVALID_SPEC',
      `${what}: invalid YAML/JSON (${(e as Error).message.split('\n')[0]})`,
      { location: { file } },
    );
  }
}

/** A model spec file, or an experiment spec whose `model` is used. */
function readStudent(file: string): unknown {
  const v = readStructured(file, '--student');
  if (v && typeof v === 'object' && !Array.isArray(v) && 'model' in v) return (v as { model: unknown }).model;
  return v;
}

function readCandidates(file: string): Record<string, unknown>[] {
  const v = readStructured(file, '--candidates');
  const listOf =
    v && typeof v === 'object' && !Array.isArray(v) && 'candidates' in v
      ? (v as { candidates: unknown }).candidates
      : v;
  if (!Array.isArray(listOf) || !listOf.every((c) => c && typeof c === 'object' && !Array.isArray(c))) {
    throw new ModelautoError(
      'INVALID_SPEC',
      '--candidates: expected a list of candidate plans (or {candidates: [...]})',
      { location: { file } },
    );
  }
  return listOf as Record<string, unknown>[];
}

function kb(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(1)} KB` : '-';
}

function ratio(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}x` : '-';
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : '-';
}

function candidateJson(r: CandidateJobResult): unknown {
  return { source: r.source, backend: r.backend, candidate: r.candidate };
}

export function formatCandidateResult(r: CandidateJobResult): string {
  const c = r.candidate;
  const s = r.source;
  if (c.status !== 'finished') {
    return `candidate ${c.key} (run ${c.runId}) was interrupted before it could be scored`;
  }
  const lines = [
    '',
    `candidate ${c.key}: run ${c.runId} (parent ${s.runId.slice(0, 8)} ${s.name})`,
    '',
    formatTable(
      [
        '',
        `validation ${s.scoreName}`,
        `test ${s.scoreName}`,
        'parameters (nonzero)',
        'size',
        'gzipped',
        'tfjs b1',
        'tfjs b128',
        'onnxruntime b1',
        'onnxruntime b128',
      ],
      [
        [
          'source',
          pct(s.validation),
          pct(s.test),
          String(s.params),
          kb(s.rawBytes),
          kb(s.gzipBytes),
          '',
          '',
          '',
          '',
        ],
        [
          c.key,
          pct(c.validation),
          pct(c.test),
          `${c.params} (${c.nonzeroParams})`,
          kb(c.size.rawBytes),
          kb(c.size.gzipBytes),
          `${fmt(c.latencyMs.b1)} ms (${ratio(c.speedup.b1)})`,
          `${fmt(c.latencyMs.b128)} ms (${ratio(c.speedup.b128)})`,
          `${fmt(c.onnxLatencyMs.b1)} ms (${ratio(c.onnxSpeedup.b1)})`,
          `${fmt(c.onnxLatencyMs.b128)} ms (${ratio(c.onnxSpeedup.b128)})`,
        ],
      ],
    ),
    '',
    `accuracy change ${(-c.drop * 100).toFixed(2)} points; gzipped ${ratio(c.sizeRatio)} smaller; at batch 128 ` +
      `${ratio(c.speedup.b128)} faster on tfjs, ${ratio(c.onnxSpeedup.b128)} on onnxruntime (median per-call times; ` +
      'speedups: median of ratios to the source timed in the same rounds)',
  ];
  if (c.report) {
    lines.push(
      '',
      'per layer',
      formatTable(
        ['layer', 'class', 'parameters', 'zeros', 'kernel sparsity', 'bytes', 'gzipped'],
        c.report.layers
          .filter((l) => l.params > 0)
          .map((l) => [
            l.layer,
            l.className,
            l.params,
            l.zeros,
            pct(l.kernelSparsity),
            kb(l.rawBytes),
            kb(l.gzipBytes),
          ]),
      ),
    );
  }
  for (const n of c.notes) lines.push(`note: ${n}`);
  lines.push(
    '',
    `next: modelauto runs show ${c.runId.slice(0, 8)}  |  modelauto evaluate ${c.runId.slice(0, 8)}`,
  );
  return lines.join('\n');
}

function searchJson(r: OptimizeSearchResult): unknown {
  return {
    run: r.run,
    source: r.source,
    backend: r.backend,
    objective: r.objective,
    tolerance: r.tolerance,
    toleranceMode: r.toleranceMode,
    budget: r.budget,
    floor: r.floor,
    stopReason: r.stopReason,
    best: r.best ? stripRow(r.best) : null,
    rows: r.rows.map(stripRow),
    skipped: r.skipped,
  };
}

function stripRow<T extends CandidateResult>(row: T): Omit<T, 'report' | 'testEvaluation'> {
  const { report: _r, testEvaluation: _e, ...rest } = row;
  return rest;
}

export function formatSearchResult(r: OptimizeSearchResult): string {
  const s = r.source;
  const rows: (string | number)[][] = [
    [
      'baseline',
      pct(s.validation),
      '',
      pct(s.test),
      String(s.params),
      kb(s.rawBytes),
      kb(s.gzipBytes),
      '1.00x',
      '',
      '',
      '',
      '',
    ],
    ...r.rows.map((c) => [
      `${c.best ? '> ' : c.pareto ? '* ' : '  '}${c.key}`,
      pct(c.validation),
      `${c.drop <= 0 ? '+' : '-'}${(Math.abs(c.drop) * 100).toFixed(2)}${c.withinTolerance ? '' : ' !'}`,
      pct(c.test),
      `${c.nonzeroParams}/${c.params}`,
      kb(c.size.rawBytes),
      kb(c.size.gzipBytes),
      ratio(c.sizeRatio),
      `${fmt(c.latencyMs.b1)} ms`,
      `${fmt(c.latencyMs.b128)} ms`,
      ratio(c.speedup.b128),
      `${fmt(c.onnxLatencyMs.b128)} ms`,
      ratio(c.onnxSpeedup.b128),
    ]),
  ];
  const lines = [
    '',
    `optimize search ${r.run.id} (${r.run.status}, stopped: ${r.stopReason}) of run ${s.runId.slice(0, 8)} ${s.name}`,
    `objective ${r.objective}; tolerance ${r.tolerance} ${r.toleranceMode}: validation ${s.scoreName} >= ${pct(r.floor)}; budget ${r.budget.kind === 'trials' ? `${r.budget.trials} trials` : `${r.budget.minutes} minutes`}`,
    '',
    formatTable(
      [
        'candidate',
        `val ${s.scoreName}`,
        'change (pts)',
        `test ${s.scoreName}`,
        'nonzero/params',
        'size',
        'gzipped',
        'smaller',
        'tfjs b1',
        'tfjs b128',
        'faster',
        'onnxruntime b128',
        'faster',
      ],
      rows,
    ),
    '',
    '> best within tolerance   * Pareto front (validation accuracy vs objective)   ! outside tolerance',
  ];
  for (const k of r.skipped) lines.push(`skipped ${k.key}: ${k.reason}`);
  if (r.best) {
    lines.push(
      '',
      `best: ${r.best.key} — run ${r.best.runId}: ${pct(r.best.validation)} validation (${(-r.best.drop * 100).toFixed(2)} points), ` +
        `${kb(r.best.size.gzipBytes)} gzipped (${ratio(r.best.sizeRatio)} smaller), at batch 128 ${ratio(r.best.speedup.b128)} faster on tfjs, ` +
        `${ratio(r.best.onnxSpeedup.b128)} on onnxruntime`,
    );
  } else {
    lines.push('', 'no candidate within tolerance yet: raise --budget or --tolerance');
  }
  if (r.stopReason === 'interrupted')
    lines.push(
      `interrupted: continue with  modelauto optimize ${s.runId.slice(0, 8)} --resume (same settings)`,
    );
  return lines.join('\n');
}
