/**
 * References inside a step's `with`: `${{ params.<path> }}` and `${{ steps.<id>.outputs.<name>[.path] }}`
 * (GitHub Actions' syntax). A string that is exactly one reference takes the referenced value with its
 * type (a number stays a number, an object stays an object); a reference inside longer text is
 * replaced by its text (JSON for objects and lists).
 */
import { ModelautoError } from '../../core/errors.js';
import type { JsonValue } from '../../store/types.js';
import { formatPath, parsePath, type PathSegment } from './paths.js';

export type Ref =
  | { kind: 'params'; path: PathSegment[] }
  | { kind: 'step'; step: string; output: string; path: PathSegment[] };

export interface RefUse {
  /** Where the string holding the reference is, inside the value searched. */
  at: PathSegment[];
  text: string;
  ref: Ref;
}

const EXPR = /\$\{\{\s*(.*?)\s*\}\}/g;
const WHOLE = /^\$\{\{\s*(.*?)\s*\}\}$/;

export function parseRef(expr: string): Ref {
  const bad = (why: string) =>
    new ModelautoError(
      'INVALID_SPEC',
      `\${{ ${expr} }}: ${why}; expected \${{ params.<path> }} or \${{ steps.<id>.outputs.<name> }}`,
    );
  let segments: PathSegment[];
  try {
    segments = parsePath(expr, 'reference');
  } catch {
    throw bad('not a reference');
  }
  const [root, ...rest] = segments;
  if (root === 'params') {
    if (rest.length === 0) throw bad('names no parameter');
    return { kind: 'params', path: rest };
  }
  if (root === 'steps') {
    const [step, outputs, output, ...path] = rest;
    if (typeof step !== 'string') throw bad('names no step');
    if (outputs !== 'outputs') throw bad(`expected "outputs" after steps.${step}`);
    if (typeof output !== 'string') throw bad(`names no output of step "${step}"`);
    return { kind: 'step', step, output, path };
  }
  throw bad(`unknown root "${String(root)}"`);
}

export function formatRef(ref: Ref): string {
  return ref.kind === 'params'
    ? formatPath(['params', ...ref.path])
    : formatPath(['steps', ref.step, 'outputs', ref.output, ...ref.path]);
}

/** Every reference in `value`, with where it is. */
export function findRefs(value: JsonValue | undefined, at: PathSegment[] = []): RefUse[] {
  if (typeof value === 'string') {
    return [...value.matchAll(EXPR)].map((m) => ({ at, text: m[0], ref: parseRef(m[1] ?? '') }));
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => findRefs(v, [...at, i]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => findRefs(v, [...at, k]));
  }
  return [];
}

/**
 * `value` with every reference replaced by what `lookup` gives. `lookup` returns undefined for a
 * value that is not known yet; `keep` then leaves the reference as written (validation before run).
 */
export function resolveRefs(
  value: JsonValue,
  lookup: (ref: Ref, text: string) => JsonValue | undefined,
  keep = false,
): JsonValue {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole && !value.slice(3, -2).includes('${{')) {
      const found = lookup(parseRef(whole[1] ?? ''), value);
      return found === undefined ? value : found;
    }
    return value.replace(EXPR, (text, expr: string) => {
      const found = lookup(parseRef(expr), text);
      if (found === undefined) return keep ? text : '';
      return typeof found === 'string' ? found : JSON.stringify(found);
    });
  }
  if (Array.isArray(value)) return value.map((v) => resolveRefs(v, lookup, keep));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRefs(v, lookup, keep)]));
  }
  return value;
}

/** True when the string still holds a reference (not resolvable before the run). */
export function hasRef(value: JsonValue | undefined): boolean {
  return findRefs(value).length > 0;
}
