/**
 * The CLI with `serve` registered, as src/cli/program.ts has it once the command is wired there (the
 * tests run the command exactly as `modelauto serve` runs it). Every command throws instead of exiting.
 */
import type { Command } from 'commander';
import { registerServe } from '../../src/cli/commands/serve.js';
import { buildProgram } from '../../src/cli/program.js';

export function serveProgram(): Command {
  const program = buildProgram();
  if (!program.commands.some((c) => c.name() === 'serve')) registerServe(program);
  const exitOverride = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(exitOverride);
  };
  exitOverride(program);
  return program;
}
