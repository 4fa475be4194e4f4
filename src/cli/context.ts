import { Command, InvalidArgumentError } from 'commander';
import { ModelautoError } from '../core/errors.js';

/** Global options every command can read. */
export interface GlobalOptions {
  store?: string;
  json?: boolean;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** Prints a result: JSON on --json (stdout stays machine-readable), else the human text. */
export function output(cmd: Command, value: unknown, human: () => string): void {
  if (globals(cmd).json) process.stdout.write(JSON.stringify(value, jsonReplacer, 2) + '\n');
  else process.stdout.write(human() + '\n');
}

/** NaN and Infinity are not JSON; keep them visible as strings rather than turning them into null. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}

export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
      throw new InvalidArgumentError(`${name}: expected positive integer, got "${value}"`);
    }
    return n;
  };
}

export function oneOf<T extends string>(name: string, allowed: readonly T[]) {
  return (value: string): T => {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`${name}: expected one of ${allowed.join(', ')}, got "${value}"`);
    }
    return value as T;
  };
}

export function usage(message: string): ModelautoError {
  return new ModelautoError('USAGE', message);
}
