import { Command, CommanderError } from 'commander';
import { isModelautoError } from '../core/errors.js';
import { VERSION } from '../version.js';
import { jsonReplacer } from './context.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerDoctor } from './commands/doctor.js';
import { registerDrift } from './commands/drift.js';
import { registerEvaluate } from './commands/evaluate.js';
import { registerExport } from './commands/export.js';
import { registerFeedback } from './commands/feedback.js';
import { registerOptimize } from './commands/optimize.js';
import { registerPipeline } from './commands/pipeline.js';
import { registerQuickstart } from './commands/quickstart.js';
import { registerRegistry } from './commands/registry.js';
import { registerRuns } from './commands/runs.js';
import { registerServe } from './commands/serve.js';
import { registerTrain } from './commands/train.js';
import { registerWorker } from './commands/worker.js';

/** The CLI is thin: each command parses flags, calls the library's public API, and prints. */
export function buildProgram(): Command {
  const program = new Command('modelauto')
    .description('Model automation for TypeScript: train, evaluate and track models on TensorFlow.js.')
    .version(VERSION)
    .option(
      '--store <uri>',
      'store: a folder, sqlite:<folder>, or postgres://user@host:5432/db?artifacts=<shared folder> (default: $MODELAUTO_STORE or ./.modelauto)',
    )
    .option('--json', 'print machine-readable JSON on stdout')
    .showHelpAfterError('(run with --help for usage)');
  registerTrain(program);
  registerEvaluate(program);
  registerOptimize(program);
  registerExport(program);
  registerRuns(program);
  registerRegistry(program);
  registerServe(program);
  registerPipeline(program);
  registerFeedback(program);
  registerQuickstart(program);
  registerDoctor(program);
  registerDrift(program);
  registerWorker(program);
  registerDashboard(program);
  // Every command (and sub-command) throws instead of exiting, so exit codes are decided in one place.
  const exitOverride = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(exitOverride);
  };
  exitOverride(program);
  return program;
}

/** Exit codes: 0 ok, 1 failure, 2 usage error. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    // A command that completed but reports a failure (a failed or interrupted run) sets exitCode.
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      )
        return 0;
      return 2; // commander has printed the message
    }
    if (isModelautoError(e)) {
      if (json) process.stdout.write(JSON.stringify({ error: e.toJSON() }, jsonReplacer, 2) + '\n');
      process.stderr.write(`error: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}
