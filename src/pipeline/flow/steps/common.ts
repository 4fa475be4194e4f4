/**
 * Pieces several step types share: epoch progress reported to the step, a run's latest metrics as an
 * output, and the tags that link a tracked run back to the pipeline step that made it.
 */
import { z } from 'zod';
import type { RunRecord } from '../../../store/types.js';
import { BaseCallback, type Logs } from '../../../train/callbacks.js';
import type { StepContext } from './types.js';

/** A run id or a unique prefix of one (usually `${{ steps.train.outputs.run_id }}`). */
export const RunRefSchema = z
  .string()
  .regex(/^[0-9a-f]{4,32}$/, 'expected a run id (or a unique prefix of at least 4 hex characters)');

/** Epoch ends as step progress and log lines (`epoch 3/10: loss 0.41, val_accuracy 0.93`). */
export class StepProgress extends BaseCallback {
  constructor(
    private readonly step: Pick<StepContext, 'log' | 'progress'>,
    private readonly label = 'epoch',
  ) {
    super();
  }
  onEpochEnd(epoch: number, logs: Logs): void {
    const total = this.ctx?.params.epochs;
    const shown = Object.entries(logs)
      .filter(([k]) => k !== 'lr')
      .map(([k, v]) => `${k} ${Number.isFinite(v) ? v.toFixed(4) : String(v)}`)
      .join(', ');
    const line = `${this.label} ${epoch + 1}${total ? `/${total}` : ''}: ${shown}`;
    this.step.log(line);
    if (total) this.step.progress(Math.min(1, (epoch + 1) / total), line);
  }
}

/** The run's latest value of every metric (NaN kept as null: outputs are JSON). */
export function latestMetrics(run: RunRecord): Record<string, number | null> {
  return Object.fromEntries(
    Object.entries(run.metrics).map(([k, p]) => [k, Number.isFinite(p.value) ? p.value : null]),
  );
}

export function pipelineTags(ctx: StepContext): Record<string, string> {
  return { pipeline_run: ctx.pipelineRunId, pipeline_step: ctx.stepId };
}
