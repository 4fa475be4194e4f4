import type { z } from 'zod';

type Issue = z.core.$ZodIssue;
type PathSegment = PropertyKey;

/**
 * Turns zod issues into one message, each part naming the field by path, e.g.
 * `data.split.validation: expected number <= 0.9; data.labl: unknown key`.
 * zod's own texts are replaced by shorter ones built from the issue data; a message written in a
 * schema (refine, custom error) is kept as is.
 */
export function formatZodError(error: z.ZodError, prefix?: string): string {
  const base: PathSegment[] = prefix ? [prefix] : [];
  const parts = error.issues.flatMap((issue) => describeIssue(issue, base));
  return [...new Set(parts)].join('; ');
}

/** Formats a path such as ['data', 'numeric', 0] as `data.numeric[0]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const s = String(seg);
      out += /^[A-Za-z_$][\w$-]*$/.test(s) ? (out ? `.${s}` : s) : `[${JSON.stringify(s)}]`;
    }
  }
  return out || '(root)';
}

function describeIssue(issue: Issue, base: PathSegment[]): string[] {
  const path = [...base, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${formatPath([...path, key])}: unknown key`);
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    return describeUnion(issue.errors, path);
  }
  return [`${formatPath(path)}: ${detail(issue)}`];
}

/**
 * A union fails with one issue list per alternative. Reporting them all is noise, so report the
 * alternative that came closest (fewest problems); when alternatives only disagree about the
 * value's type, merge them into one "expected a | b" message.
 */
function describeUnion(branches: Issue[][], path: PathSegment[]): string[] {
  const typeOnly = branches.every(
    (b) => b.length === 1 && b[0]?.code === 'invalid_type' && b[0].path.length === 0,
  );
  if (typeOnly) {
    const expected = [...new Set(branches.map((b) => (b[0] as { expected: string }).expected))];
    const received = receivedType(branches[0]?.[0]?.message ?? '');
    return [
      `${formatPath(path)}: expected ${expected.join(' | ')}${received && received !== 'undefined' ? `, received ${received}` : ''}`,
    ];
  }
  let best = branches[0] ?? [];
  let bestScore = Infinity;
  for (const branch of branches) {
    const score = branch.reduce((s, i) => s + (i.code === 'unrecognized_keys' ? i.keys.length : 1), 0);
    if (score < bestScore) {
      bestScore = score;
      best = branch;
    }
  }
  return best.flatMap((issue) => describeIssue(issue, path));
}

const ZOD_DEFAULT_MESSAGE =
  /^(Invalid input|Invalid option|Too big|Too small|Unrecognized key|Invalid number)/;

function detail(issue: Issue): string {
  if (!ZOD_DEFAULT_MESSAGE.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type': {
      const received = receivedType(issue.message);
      if (received === 'undefined') return `required (expected ${issue.expected})`;
      return `expected ${issue.expected}${received ? `, received ${received}` : ''}`;
    }
    case 'too_big':
      return bound(issue.origin, issue.inclusive ? '<=' : '<', issue.maximum, 'most');
    case 'too_small':
      return bound(issue.origin, issue.inclusive ? '>=' : '>', issue.minimum, 'least');
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${JSON.stringify(issue.values[0])}`
        : `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'not_multiple_of':
      return `expected a multiple of ${String(issue.divisor)}`;
    default:
      return issue.message;
  }
}

function bound(origin: string, op: string, limit: number | bigint, word: 'most' | 'least'): string {
  const n = String(limit);
  const strict = op.length === 1;
  const unit = (one: string, many: string): string => (n === '1' ? one : many);
  switch (origin) {
    case 'string':
      return `expected ${strict ? (word === 'most' ? 'fewer than' : 'more than') : `at ${word}`} ${n} ${unit('character', 'characters')}`;
    case 'array':
    case 'set':
      return `expected ${strict ? (word === 'most' ? 'fewer than' : 'more than') : `at ${word}`} ${n} ${unit('item', 'items')}`;
    default:
      return `expected ${origin} ${op} ${n}`;
  }
}

function receivedType(message: string): string | undefined {
  return /received (\w+)/.exec(message)?.[1];
}
