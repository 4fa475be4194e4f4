/**
 * Reading a YAML (or JSON, which is YAML) file so that errors can point at lines: every spec and config
 * modelauto reads (experiments, pipelines, the monitor config, alert rules) goes through here, so a bad
 * field reads the same everywhere: `file.yaml:12: steps.train.uses: ...`.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ModelautoError } from './errors.js';
import { formatZodError } from './zod-error.js';

export interface YamlFile {
  file: string;
  /** The document as plain JS (null for an empty file). */
  value: unknown;
  /** The line of the deepest existing node on `path` (a missing key points at its parent). */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

export interface ReadYamlOptions {
  /** What the file is, for messages: "spec", "pipeline", "monitor config". */
  what: string;
  /** Refuse other extensions than .yaml, .yml and .json. */
  checkExtension?: boolean;
}

export function readYamlFile(file: string, options: ReadYamlOptions): YamlFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModelautoError(
      'NOT_FOUND',
      `cannot read ${options.what} ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`,
      { cause: e },
    );
  }
  if (options.checkExtension && !['.yaml', '.yml', '.json'].includes(extname(file).toLowerCase())) {
    throw new ModelautoError('USAGE', `${file}: expected a .yaml, .yml or .json ${options.what} file`);
  }
  return parseYamlText(text, file);
}

export function parseYamlText(text: string, file: string): YamlFile {
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
  return { file, value: doc.toJS() as unknown, lineOf: (path) => lineOf(doc, lines, path) };
}

/** Validates `value` (at `prefix` inside the file) with `schema`; the error names the first bad field's line. */
export function parseAt<S extends z.ZodType>(
  schema: S,
  value: unknown,
  yaml: YamlFile,
  prefix: readonly PropertyKey[] = [],
): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const first = r.error.issues[0];
  const line = first ? yaml.lineOf([...prefix, ...first.path]) : undefined;
  const label = prefix.length > 0 ? prefix.map(String).join('.') : undefined;
  throw new ModelautoError('INVALID_SPEC', formatZodError(r.error, label), {
    location: { file: yaml.file, ...(line ? { line } : {}) },
  });
}

function lineOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as (string | number)[], true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}
