/**
 * `uses: export` — exports a run's model to the tfjs format or ONNX (float, or int8 scored next to the
 * float model on the run's test split); the files are recorded as artifacts of the run, so registering
 * the run afterwards makes them servable.
 *
 *   with: { run: ${{ steps.train.outputs.run_id }}, format: onnx, int8?: dynamic | static, calibration?: 512,
 *           calibrationMethod?: minmax | percentile, percentile?: 99.999, reduceRange?: bool,
 *           includePreprocessing?: bool }
 *   outputs: run_id, format, dir, files ([{path, artifact, bytes, sha256}]), size_bytes (the float
 *            model file; tfjs: all files), int8_size_bytes, evaluation ({split, float, int8} with int8)
 */
import { z } from 'zod';
import { EXPORT_FORMATS } from '../../../export/manifest.js';
import { INT8_MODES } from '../../../export/onnx/export.js';
import { CALIBRATION_METHODS } from '../../../export/onnx/quantize/calibrate.js';
import type { JsonValue } from '../../../store/types.js';
import { runExportJob } from '../../export-job.js';
import { RunRefSchema } from './common.js';
import { defineStep } from './types.js';

export const ExportStepInputSchema = z
  .strictObject({
    run: RunRefSchema,
    format: z.enum(EXPORT_FORMATS),
    int8: z.enum(INT8_MODES).optional(),
    calibration: z.int().positive('expected a positive number of samples').optional(),
    calibrationMethod: z.enum(CALIBRATION_METHODS).optional(),
    percentile: z.number().gt(50, 'expected a percentile in (50, 100]').max(100).optional(),
    reduceRange: z.boolean().optional(),
    includePreprocessing: z.boolean().optional(),
  })
  .superRefine((v, ctx) => {
    const onnxOnly = (['int8', 'includePreprocessing'] as const).filter((k) => v[k] !== undefined);
    if (v.format === 'tfjs')
      for (const k of onnxOnly)
        ctx.addIssue({ code: 'custom', path: [k], message: 'applies to format onnx only' });
    for (const k of ['calibration', 'calibrationMethod'] as const) {
      if (v[k] !== undefined && v.int8 !== 'static')
        ctx.addIssue({
          code: 'custom',
          path: [k],
          message: 'only static int8 is calibrated (add int8: static)',
        });
    }
    if (v.percentile !== undefined && v.calibrationMethod !== 'percentile')
      ctx.addIssue({
        code: 'custom',
        path: ['percentile'],
        message: 'goes with calibrationMethod: percentile',
      });
  });
export type ExportStepInput = z.infer<typeof ExportStepInputSchema>;

export const exportStep = defineStep<ExportStepInput>({
  uses: 'export',
  summary: "export a run's model to tfjs or ONNX (float or int8) and record the files on the run",
  schema: ExportStepInputSchema,
  outputs: ['run_id', 'format', 'dir', 'files', 'size_bytes', 'int8_size_bytes', 'evaluation'],
  placement: 'task',
  async run(input, ctx) {
    const { run, ...options } = input;
    const r = await runExportJob(run, { ...options, store: ctx.stores.tracking, log: ctx.log });
    const total = r.files.reduce((s, f) => s + f.bytes, 0);
    return {
      outputs: {
        run_id: r.runId,
        format: r.format,
        dir: r.dir,
        files: r.files as unknown as JsonValue,
        size_bytes: r.sizes?.float ?? total,
        int8_size_bytes: r.sizes?.int8 ?? null,
        evaluation: (r.evaluation ?? null) as unknown as JsonValue,
      },
    };
  },
});
