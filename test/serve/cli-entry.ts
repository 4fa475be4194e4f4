/** `modelauto` with `serve` (see cli-program.ts), for the tests that run it as a process. */
import { CommanderError } from 'commander';
import { isModelautoError } from '../../src/core/errors.js';
import { serveProgram } from './cli-program.js';

try {
  await serveProgram().parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? 0 : 2;
  else if (isModelautoError(e)) {
    process.stderr.write(`error: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else throw e;
}
