/**
 * Reading the monitor config from a value or a YAML (or JSON) file. Errors name the file, the line of
 * the offending field and its path: `monitor.yaml:7: drift.windowRows: expected number > 0`.
 */
import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { ModelautoError } from '../../core/errors.js';
import { formatZodError } from '../../core/zod-error.js';
import { MonitorConfigSchema, type MonitorConfig } from './config.js';

/** Validates a config value; throws INVALID_SPEC naming each bad field by path. */
export function parseMonitorConfig(input: unknown, file?: string): MonitorConfig {
  const r = MonitorConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    throw new ModelautoError('INVALID_SPEC', formatZodError(r.error), file ? { location: { file } } : {});
  }
  return r.data;
}

/** Reads and validates a monitor config file (an empty file is the defaults). */
export function loadMonitorConfig(file: string): MonitorConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModelautoError(
      'NOT_FOUND',
      `cannot read the monitor config ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`,
      { cause: e },
    );
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    // linePos is only filled with prettyErrors; the offset is always there.
    const line = lines.linePos(Math.min(syntax.pos[0], Math.max(0, text.length - 1))).line;
    throw new ModelautoError('INVALID_SPEC', `invalid YAML: ${syntax.message.split('\n')[0] ?? ''}`, {
      location: { file, line },
    });
  }
  const value: unknown = doc.toJS();
  if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
    throw new ModelautoError(
      'INVALID_SPEC',
      'expected a mapping with predictionLog, traffic, quality, drift and alerts sections',
      { location: { file } },
    );
  }
  const r = MonitorConfigSchema.safeParse(value ?? {});
  if (!r.success) {
    const first = r.error.issues[0];
    const line = first ? lineOf(doc, lines, first.path) : undefined;
    throw new ModelautoError('INVALID_SPEC', formatZodError(r.error), {
      location: { file, ...(line ? { line } : {}) },
    });
  }
  return r.data;
}

/** The line of the deepest existing node on `path` (a missing key points at its parent). */
function lineOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as (string | number)[], true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}
