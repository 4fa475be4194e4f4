/**
 * Running one step, wherever it runs (a child process, a BullMQ worker, the coordinator): reuse the
 * cached outputs when the cache key is known, else validate the inputs, run the step type, write its
 * log lines to the store, and cache what it produced. Writing the cache here, next to the work, means
 * a step that finished just before its coordinator crashed is not run again on resume.
 */
import { z } from 'zod';
import { ModelautoError } from '../../core/errors.js';
import { formatIssues } from './zod.js';
import { parseWith } from '../../optimize/parse.js';
import { JsonValueSchema, RunIdSchema } from '../../store/types.js';
import type { TaskContext, Executor } from '../executor/types.js';
import { requireStepDefinition } from './steps/index.js';
import type { StepOutputs, StepStores } from './steps/types.js';
import { withPipelineStores } from './stores.js';

export const PIPELINE_STEP_TASK = 'pipeline.step';

/** Input of a `pipeline.step` task. */
export const PipelineStepTaskInputSchema = z.strictObject({
  pipelineRunId: RunIdSchema,
  stepId: z.string().min(1),
  uses: z.string().min(1),
  /** The step's `with`, every reference resolved. */
  inputs: JsonValueSchema,
  cacheKey: z.string().min(1),
  baseDir: z.string().min(1),
  /** false: do not reuse a cached result (the outputs are still cached for later runs). */
  useCache: z.boolean(),
});
export type PipelineStepTaskInput = z.infer<typeof PipelineStepTaskInputSchema>;

/** Output of a `pipeline.step` task. */
export interface PipelineStepTaskOutput {
  status: 'finished' | 'gated' | 'interrupted';
  outputs: StepOutputs;
  reason: string | null;
  cached: boolean;
}

const FLUSH_LINES = 50;
const FLUSH_MS = 500;

/** Buffers a step's log lines and appends them to the store in batches (and at the end). */
class StepLog {
  private lines: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly stores: StepStores,
    private readonly runId: string,
    private readonly stepId: string,
  ) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length >= FLUSH_LINES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.lines.splice(0);
    if (batch.length > 0) {
      // A log line that cannot be stored must not fail the step that wrote it.
      this.writing = this.writing.then(() =>
        this.stores.pipelines.appendLogs(this.runId, this.stepId, batch).catch(() => undefined),
      );
    }
    return this.writing;
  }
}

export async function executeStep(
  input: PipelineStepTaskInput,
  stores: StepStores,
  task: Pick<TaskContext, 'signal' | 'log' | 'progress'>,
  executor?: Executor,
): Promise<PipelineStepTaskOutput> {
  const def = requireStepDefinition(input.uses);
  const cacheable = def.cacheable !== false;
  if (input.useCache && cacheable) {
    const hit = await stores.pipelines.getCached(input.cacheKey);
    if (hit) {
      const verdict = def.verdict?.(hit.outputs);
      return {
        status: verdict?.status ?? 'finished',
        outputs: hit.outputs,
        reason: verdict?.reason ?? null,
        cached: true,
      };
    }
  }
  const parsed = def.schema.safeParse(input.inputs);
  if (!parsed.success) {
    throw new ModelautoError('INVALID_SPEC', formatIssues(parsed.error, `steps.${input.stepId}.with`));
  }
  const log = new StepLog(stores, input.pipelineRunId, input.stepId);
  try {
    const result = await def.run(parsed.data, {
      pipelineRunId: input.pipelineRunId,
      stepId: input.stepId,
      baseDir: input.baseDir,
      cacheKey: input.cacheKey,
      stores,
      signal: task.signal,
      log: (line) => {
        task.log(line);
        log.push(line);
      },
      progress: (fraction, message) => task.progress(fraction, message),
      ...(executor ? { executor } : {}),
    });
    const status = result.status ?? 'finished';
    let outputs = result.outputs;
    if (status !== 'interrupted' && cacheable) {
      // The first entry under a key wins, so a duplicate run of the step returns the same outputs;
      // a step run again on purpose (no cache) replaces it, and later runs reuse the newest outputs.
      outputs = (
        await stores.pipelines.putCached(
          {
            cacheKey: input.cacheKey,
            uses: input.uses,
            outputs: result.outputs,
            runId: input.pipelineRunId,
            stepId: input.stepId,
          },
          { replace: !input.useCache },
        )
      ).outputs;
    }
    return { status, outputs, reason: result.reason ?? null, cached: false };
  } catch (e) {
    if (e instanceof ModelautoError) log.push(`error: ${e.code}: ${e.message}`);
    else log.push(`error: ${String(e)}`);
    throw e;
  } finally {
    await log.flush();
  }
}

/** The `pipeline.step` task handler (registered in tasks.ts). */
export async function runPipelineStepTask(raw: unknown, ctx: TaskContext): Promise<PipelineStepTaskOutput> {
  const input = parseWith(PipelineStepTaskInputSchema, raw, 'task.input');
  return withPipelineStores(ctx.store, (stores) => executeStep(input, stores, ctx));
}
