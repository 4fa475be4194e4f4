/**
 * The CLI with `serve` registered, as src/cli/program.ts will have it once the command is wired there
 * (the test runs the command exactly as `modelauto serve` runs it).
 */
import { Command, CommanderError } from 'commander';
import { registerServe } from '../../src/cli/commands/serve.js';
import { buildProgram } from '../../src/cli/program.js';
import { isModelautoError } from '../../src/core/errors.js';

const program = buildProgram();
if (!program.commands.some((c) => c.name() === 'serve')) registerServe(program);
const exitOverride = (c: Command): void => {
  c.exitOverride();
  c.commands.forEach(exitOverride);
};
exitOverride(program);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? 0 : 2;
  else if (isModelautoError(e)) {
    process.stderr.write(`error: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else throw e;
}
