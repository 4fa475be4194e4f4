import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { ModelautoError } from '../../src/core/errors.js';
import type { Column, Dataset } from '../../src/data/types.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/data/', import.meta.url));

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

/** Writes `content` to a fresh temporary file and returns its path. */
export function tempFile(name: string, content: string | Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'modelauto-data-'));
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Asserts a ModelautoError INVALID_DATA whose message names the file, line and column. */
export async function expectDataError(
  run: () => Promise<unknown> | unknown,
  where: { file: string; line?: number; column?: string | number; message: RegExp },
): Promise<ModelautoError> {
  let caught: unknown;
  try {
    await run();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an error').toBeInstanceOf(ModelautoError);
  const err = caught as ModelautoError;
  expect(err.code).toBe('INVALID_DATA');
  expect(err.message).toMatch(where.message);
  expect(err.message).toContain(where.line === undefined ? where.file : `${where.file}:${where.line}`);
  expect(err.location?.file).toBe(where.file);
  if (where.line !== undefined) expect(err.location?.line).toBe(where.line);
  if (where.column !== undefined) {
    expect(err.location?.column).toBe(where.column);
    expect(err.message).toContain(`column ${JSON.stringify(String(where.column))}`);
  }
  return err;
}

export function column(ds: Dataset, name: string): Column {
  if (ds.features.kind !== 'table') throw new Error('not a table');
  const c = ds.features.columns.find((col) => col.name === name);
  if (!c) throw new Error(`no column ${name}`);
  return c;
}

export function labelsOf(ds: Dataset): string[] {
  const t = ds.target;
  if (t.kind !== 'classification') throw new Error('not classification');
  return Array.from(t.y, (k) => t.classes[k] as string);
}
