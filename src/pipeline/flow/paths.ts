/**
 * Dotted paths into JSON values, as written in pipeline files, `--set a.b=1` and search spaces:
 * `train.optimizer.learningRate`, `model.layers[0].units`. One parser so every place accepts the
 * same syntax and reports the same errors.
 */
import { ModelautoError } from '../../core/errors.js';
import type { JsonValue } from '../../store/types.js';

export type PathSegment = string | number;

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*/;

/** `a.b[0].c` → ['a', 'b', 0, 'c']; throws USAGE-free INVALID_SPEC with `what` on bad syntax. */
export function parsePath(path: string, what = 'path'): PathSegment[] {
  const out: PathSegment[] = [];
  let rest = path.trim();
  if (!rest) throw badPath(path, what, 'empty');
  while (rest.length > 0) {
    if (out.length > 0 && rest.startsWith('.')) rest = rest.slice(1);
    const index = /^\[(\d+)\]/.exec(rest);
    if (index && out.length > 0) {
      out.push(Number(index[1]));
      rest = rest.slice(index[0].length);
      continue;
    }
    const key = KEY.exec(rest);
    if (!key) throw badPath(path, what, `unexpected "${rest[0]}" at "${rest}"`);
    out.push(key[0]);
    rest = rest.slice(key[0].length);
    if (rest && !rest.startsWith('.') && !rest.startsWith('[')) {
      throw badPath(path, what, `unexpected "${rest[0]}" after "${key[0]}"`);
    }
  }
  return out;
}

export function formatPath(segments: readonly PathSegment[]): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function badPath(path: string, what: string, why: string): ModelautoError {
  return new ModelautoError(
    'INVALID_SPEC',
    `${what} ${JSON.stringify(path)}: ${why}; expected names joined by "." with [n] for list items, e.g. model.layers[0].units`,
  );
}

const isObject = (v: unknown): v is Record<string, JsonValue> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** The value at `segments`, or undefined when some part is missing. */
export function getPath(
  root: JsonValue | undefined,
  segments: readonly PathSegment[],
): JsonValue | undefined {
  let cur: JsonValue | undefined = root;
  for (const seg of segments) {
    if (typeof seg === 'number') {
      if (!Array.isArray(cur) || seg >= cur.length) return undefined;
      cur = cur[seg];
    } else {
      if (!isObject(cur) || !Object.hasOwn(cur, seg)) return undefined;
      cur = cur[seg];
    }
  }
  return cur;
}

/**
 * A copy of `root` with `value` at `segments`. Missing object keys are created; list items must
 * exist (a search over `model.layers[3].units` of a two-layer model is an error, not a new layer).
 */
export function setPath(
  root: JsonValue,
  segments: readonly PathSegment[],
  value: JsonValue,
  what = 'path',
): JsonValue {
  const [head, ...tail] = segments;
  if (head === undefined) return value;
  const here = formatPath(segments.slice(0, 1));
  if (typeof head === 'number') {
    if (!Array.isArray(root)) {
      throw new ModelautoError(
        'INVALID_SPEC',
        `${what}: ${here} indexes a list, but the value there is not one`,
      );
    }
    if (head >= root.length) {
      throw new ModelautoError(
        'INVALID_SPEC',
        `${what}: index ${head} is out of range; the list has ${root.length} item(s)`,
      );
    }
    const copy = [...root];
    copy[head] = setPath(root[head] as JsonValue, tail, value, what);
    return copy;
  }
  if (root !== null && typeof root === 'object' && Array.isArray(root)) {
    throw new ModelautoError('INVALID_SPEC', `${what}: "${head}" names a key, but the value there is a list`);
  }
  const obj: Record<string, JsonValue> = isObject(root) ? { ...root } : {};
  if (root !== null && root !== undefined && !isObject(root)) {
    throw new ModelautoError(
      'INVALID_SPEC',
      `${what}: "${head}" names a key, but the value there is not a mapping`,
    );
  }
  obj[head] = setPath(Object.hasOwn(obj, head) ? (obj[head] as JsonValue) : {}, tail, value, what);
  return obj;
}

/** A copy of `root` without the key at `segments` (nothing changes when it is not there). */
export function unsetPath(root: JsonValue, segments: readonly PathSegment[]): JsonValue {
  const [head, ...tail] = segments;
  if (head === undefined || getPath(root, [head]) === undefined) return root;
  if (typeof head === 'number') {
    const copy = [...(root as JsonValue[])];
    if (tail.length === 0) copy.splice(head, 1);
    else copy[head] = unsetPath(copy[head] as JsonValue, tail);
    return copy;
  }
  const obj = { ...(root as Record<string, JsonValue>) };
  if (tail.length === 0) delete obj[head];
  else obj[head] = unsetPath(obj[head] as JsonValue, tail);
  return obj;
}

/** `set` semantics shared by steps and searches: null removes the field (e.g. `train.earlyStopping: null`). */
export function applySet(
  root: JsonValue,
  segments: readonly PathSegment[],
  value: JsonValue,
  what: string,
): JsonValue {
  return value === null ? unsetPath(root, segments) : setPath(root, segments, value, what);
}

/** Every leaf path of a JSON object (lists are leaves), for listing known parameters. */
export function leafPaths(value: JsonValue, prefix: PathSegment[] = []): string[] {
  if (!isObject(value) || (prefix.length > 0 && Object.keys(value).length === 0)) {
    return prefix.length > 0 ? [formatPath(prefix)] : [];
  }
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
}
