import { InvalidArgumentError, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { ModelautoError } from '../../core/errors.js';
import { EXPORT_FORMATS } from '../../export/manifest.js';
import { INT8_MODES } from '../../export/onnx/export.js';
import { CALIBRATION_METHODS } from '../../export/onnx/quantize/calibrate.js';
import { parseRanges, type Range } from '../../export/onnx/quantize/params.js';
import { runExportJob, type ExportJobResult } from '../../pipeline/export-job.js';
import { globals, oneOf, output, positiveInt } from '../context.js';

function percentile(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 50 || n > 100) {
    throw new InvalidArgumentError(`--percentile: expected a number in (50, 100], got "${value}"`);
  }
  return n;
}

/** `--ranges file.json`: activation ranges learned by quantization-aware training, by layer name. */
function readRanges(file: string): Record<string, Range> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModelautoError('USAGE', `cannot read a JSON object of ranges: ${(e as Error).message}`, {
      location: { file },
    });
  }
  return parseRanges(text, file);
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description(
      "export a trained run's model (or a model folder) to the tfjs format or ONNX, and record the files on the run",
    )
    .argument('<run|model>', 'train run id or unique prefix, or a folder with a model.json')
    .requiredOption(
      '--format <format>',
      `output format: ${EXPORT_FORMATS.join(', ')}`,
      oneOf('--format', EXPORT_FORMATS),
    )
    .option(
      '--int8 <mode>',
      `ONNX: also write an int8 model: ${INT8_MODES.join(', ')}`,
      oneOf('--int8', INT8_MODES),
    )
    .option(
      '--calibration <n>',
      'static int8: calibration samples from the training split (default 512)',
      positiveInt('--calibration'),
    )
    .option(
      '--calibration-method <method>',
      `static int8: ${CALIBRATION_METHODS.join(', ')} (default minmax)`,
      oneOf('--calibration-method', CALIBRATION_METHODS),
    )
    .option(
      '--percentile <p>',
      'percentile calibration: share of values kept inside the range (default 99.999)',
      percentile,
    )
    .option(
      '--ranges <file.json>',
      'static int8: activation ranges learned by quantization-aware training, {"<layer>": {"min": .., "max": ..}}',
    )
    .option(
      '--no-learned-ranges',
      "static int8 of a run trained with activation fake-quantization: calibrate instead of using the run's qat-ranges.json",
    )
    .option(
      '--full-names',
      "ONNX: keep the converter's descriptive value names and the labels metadata in the files",
    )
    .option('--reduce-range', 'int8: 7-bit weights, for CPUs without VNNI')
    .option('--include-preprocessing', 'ONNX: put the preprocessing into the graph (it then takes raw data)')
    .option('--out <dir>', "output folder (default: the run's folder, export/<format>/...)")
    .action(async (ref: string, opts, cmd: Command) => {
      const g = globals(cmd);
      const result = await runExportJob(ref, {
        ...(g.store ? { store: g.store } : {}),
        format: opts.format,
        ...(opts.int8 ? { int8: opts.int8 } : {}),
        ...(opts.calibration ? { calibration: opts.calibration } : {}),
        ...(opts.calibrationMethod ? { calibrationMethod: opts.calibrationMethod } : {}),
        ...(opts.percentile !== undefined ? { percentile: opts.percentile } : {}),
        ...(opts.ranges ? { ranges: readRanges(opts.ranges) } : {}),
        ...(opts.learnedRanges === false ? { learnedRanges: false } : {}),
        ...(opts.fullNames ? { compact: false } : {}),
        ...(opts.reduceRange ? { reduceRange: true } : {}),
        ...(opts.includePreprocessing ? { includePreprocessing: true } : {}),
        ...(opts.out ? { outDir: opts.out } : {}),
        log: (line) => process.stderr.write(`${line}\n`),
      });
      output(cmd, exportResultJson(result), () => formatExportResult(result));
    });
}

export function exportResultJson(r: ExportJobResult): unknown {
  return {
    run: r.runId,
    format: r.format,
    dir: r.dir,
    files: r.files,
    ...(r.sizes ? { sizes: r.sizes } : {}),
    ...(r.evaluation ? { evaluation: r.evaluation } : {}),
    quantization: r.manifest.quantization,
    ...(r.learnedRanges ? { learnedRanges: r.learnedRanges } : {}),
  };
}

export function formatExportResult(r: ExportJobResult): string {
  const lines = [
    `exported ${r.format} to ${r.dir}${r.runId ? ` (recorded on run ${r.runId.slice(0, 8)})` : ''}`,
  ];
  for (const f of r.files)
    lines.push(`  ${f.artifact ?? f.path}  ${f.bytes} bytes  sha256 ${f.sha256.slice(0, 16)}…`);
  if (r.sizes?.int8) {
    lines.push(
      `size: float ${r.sizes.float} bytes, int8 ${r.sizes.int8} bytes (${(r.sizes.float / r.sizes.int8).toFixed(2)}x smaller)`,
    );
  }
  if (r.learnedRanges)
    lines.push(`activation ranges: learned by quantization-aware training (${r.learnedRanges})`);
  const floatLayers = r.manifest.quantization?.floatLayers;
  if (floatLayers?.length)
    lines.push(`computed in float (faster than int8 on onnxruntime): ${floatLayers.join(', ')}`);
  if (r.evaluation) {
    const { float, int8, split } = r.evaluation;
    const pct = (v: number) => (float.metric === 'accuracy' ? `${(v * 100).toFixed(2)}%` : v.toFixed(4));
    lines.push(`${split} ${float.metric} (n=${float.n}): float ${pct(float.value)}, int8 ${pct(int8.value)}`);
  }
  return lines.join('\n');
}
