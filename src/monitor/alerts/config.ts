/**
 * Reading alert rules: from a value (the monitor config already parsed) or from the `alerts:` key of
 * a YAML file. Errors name the file, the line of the offending field and its path, e.g.
 * `monitor.yaml:12: alerts.rules[1].threshold: required: the value to compare with`.
 */
import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { ModelautoError } from '../../core/errors.js';
import { formatZodError } from '../../core/zod-error.js';
import { AlertingSchema, type AlertingConfig } from './rule.js';

export interface AlertingSource {
  /** File the value came from, for messages. */
  file?: string;
  /** Path of the value inside its document; default `alerts`. */
  path?: string;
}

/** Validates an `alerts:` value; throws INVALID_SPEC naming each bad field by path. */
export function parseAlerting(input: unknown, source: AlertingSource = {}): AlertingConfig {
  const r = AlertingSchema.safeParse(input ?? {});
  if (!r.success) {
    throw new ModelautoError('INVALID_SPEC', formatZodError(r.error, source.path ?? 'alerts'), {
      ...(source.file ? { location: { file: source.file } } : {}),
    });
  }
  return r.data;
}

/**
 * Reads the alert rules under `key` (default `alerts`) of a YAML (or JSON) file; a file without the
 * key has no rules. The error points at the line of the first bad field.
 */
export function loadAlertingFile(file: string, key = 'alerts'): AlertingConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModelautoError('NOT_FOUND', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`, {
      cause: e,
    });
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
  const root: unknown = doc.toJS();
  if (root !== null && (typeof root !== 'object' || Array.isArray(root))) {
    throw new ModelautoError('INVALID_SPEC', `expected a mapping with an "${key}" key`, {
      location: { file },
    });
  }
  const value = (root as Record<string, unknown> | null)?.[key];
  const r = AlertingSchema.safeParse(value ?? {});
  if (!r.success) {
    const first = r.error.issues[0];
    const line = first ? lineOf(doc, lines, [key, ...first.path]) : undefined;
    throw new ModelautoError('INVALID_SPEC', formatZodError(r.error, key), {
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
