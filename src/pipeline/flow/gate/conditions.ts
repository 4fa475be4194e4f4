/**
 * Gate conditions: `<expression> <op> <expression>` over metric names, `champion.<metric>` (the
 * registry's current champion, scored on the same holdout) and numbers, with + - * / and parentheses:
 *
 *   test_accuracy >= 0.975
 *   f1_macro >= champion.f1_macro - 0.005
 *   size_bytes <= 0.5 * champion.size_bytes
 *   latency_p99_ms <= 5
 *
 * A bare name that is not a metric falls back to its `test_` metric (`f1_macro` → `test_f1_macro`).
 */
import { ModelautoError } from '../../../core/errors.js';

export const COMPARATORS = ['>=', '<=', '>', '<', '==', '!='] as const;
export type Comparator = (typeof COMPARATORS)[number];

export type Expr =
  | { kind: 'number'; value: number }
  | { kind: 'metric'; name: string; champion: boolean }
  | { kind: 'neg'; arg: Expr }
  | { kind: 'binary'; op: '+' | '-' | '*' | '/'; left: Expr; right: Expr };

export interface Condition {
  text: string;
  left: Expr;
  op: Comparator;
  right: Expr;
}

type Token = { t: 'num'; v: number } | { t: 'name'; v: string } | { t: 'op'; v: string };

const TOKEN =
  /\s*(?:(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)|(>=|<=|==|!=|[<>+\-*/()]))/y;

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m) throw bad(text, `unexpected "${text.slice(pos).trim()[0]}" at "${text.slice(pos).trim()}"`);
    if (m[1] !== undefined) out.push({ t: 'num', v: Number(m[1]) });
    else if (m[2] !== undefined) out.push({ t: 'name', v: m[2] });
    else out.push({ t: 'op', v: m[3] as string });
    pos = TOKEN.lastIndex;
  }
  return out;
}

function bad(text: string, why: string): ModelautoError {
  return new ModelautoError(
    'INVALID_SPEC',
    `condition ${JSON.stringify(text)}: ${why}; expected e.g. "test_accuracy >= 0.975" or "f1_macro >= champion.f1_macro - 0.005"`,
  );
}

/** Parses one condition; throws INVALID_SPEC naming what is wrong. */
export function parseCondition(text: string): Condition {
  const tokens = tokenize(text);
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const isOp = (v: string): boolean => peek()?.t === 'op' && peek()?.v === v;
  const expr = (): Expr => {
    let left = term();
    while (isOp('+') || isOp('-')) {
      const op = (tokens[i++] as Token).v as '+' | '-';
      left = { kind: 'binary', op, left, right: term() };
    }
    return left;
  };
  const term = (): Expr => {
    let left = factor();
    while (isOp('*') || isOp('/')) {
      const op = (tokens[i++] as Token).v as '*' | '/';
      left = { kind: 'binary', op, left, right: factor() };
    }
    return left;
  };
  const factor = (): Expr => {
    const tok = tokens[i++];
    if (!tok) throw bad(text, 'ends too early');
    if (tok.t === 'num') return { kind: 'number', value: tok.v };
    if (tok.t === 'name') {
      const [first, second] = tok.v.split('.');
      if (second === undefined) return { kind: 'metric', name: first as string, champion: false };
      if (first !== 'champion') throw bad(text, `"${tok.v}": only champion.<metric> has a dot`);
      return { kind: 'metric', name: second, champion: true };
    }
    if (tok.v === '-') return { kind: 'neg', arg: factor() };
    if (tok.v === '(') {
      const inner = expr();
      if (!isOp(')')) throw bad(text, 'missing ")"');
      i++;
      return inner;
    }
    throw bad(text, `unexpected "${tok.v}"`);
  };
  const left = expr();
  const opTok = tokens[i++];
  if (!opTok || opTok.t !== 'op' || !(COMPARATORS as readonly string[]).includes(opTok.v)) {
    throw bad(text, `expected a comparison (${COMPARATORS.join(' ')}) after the left side`);
  }
  const right = expr();
  if (i < tokens.length) throw bad(text, `unexpected "${String(tokens[i]?.v)}" after the right side`);
  return { text, left, op: opTok.v as Comparator, right };
}

/** Metric names a condition reads, split by whose they are. */
export function metricNames(c: Condition): { candidate: string[]; champion: string[] } {
  const out = { candidate: new Set<string>(), champion: new Set<string>() };
  const walk = (e: Expr): void => {
    if (e.kind === 'metric') (e.champion ? out.champion : out.candidate).add(e.name);
    else if (e.kind === 'neg') walk(e.arg);
    else if (e.kind === 'binary') {
      walk(e.left);
      walk(e.right);
    }
  };
  walk(c.left);
  walk(c.right);
  return { candidate: [...out.candidate], champion: [...out.champion] };
}

/** The metric a name means in `values`: itself, else its `test_` metric; undefined when neither exists. */
export function lookupMetric(
  values: Record<string, number>,
  name: string,
): { key: string; value: number } | undefined {
  for (const key of [name, `test_${name}`]) {
    const v = values[key];
    if (v !== undefined) return { key, value: v };
  }
  return undefined;
}

export interface ConditionResult {
  condition: string;
  passed: boolean;
  left: number;
  right: number;
  /** `test_accuracy=0.9667 < 0.975` (the values, and how they compare). */
  detail: string;
}

/**
 * Evaluates a condition. A name missing from the candidate's metrics is a mistake in the pipeline
 * (INVALID_SPEC, listing what there is); champion values are only asked for when a champion exists.
 */
export function evaluateCondition(
  c: Condition,
  candidate: Record<string, number>,
  champion: Record<string, number> | undefined,
): ConditionResult {
  const value = (e: Expr): number => {
    switch (e.kind) {
      case 'number':
        return e.value;
      case 'neg':
        return -value(e.arg);
      case 'binary': {
        const [a, b] = [value(e.left), value(e.right)];
        return e.op === '+' ? a + b : e.op === '-' ? a - b : e.op === '*' ? a * b : a / b;
      }
      case 'metric': {
        const source = e.champion ? champion : candidate;
        const found = source ? lookupMetric(source, e.name) : undefined;
        if (!found) {
          const whose = e.champion ? 'the champion' : 'the candidate';
          const known =
            Object.keys(source ?? {})
              .sort()
              .join(', ') || '(none)';
          throw new ModelautoError(
            'INVALID_SPEC',
            `condition ${JSON.stringify(c.text)}: ${whose} has no metric "${e.name}" (nor "test_${e.name}"); metrics: ${known}`,
          );
        }
        return found.value;
      }
    }
  };
  const left = value(c.left);
  const right = value(c.right);
  const passed = compare(left, c.op, right);
  const shownOp = passed ? c.op : NEGATED[c.op];
  return {
    condition: c.text,
    passed,
    left,
    right,
    detail: `${describe(c.left, value)} ${shownOp} ${describe(c.right, value)}`,
  };
}

const NEGATED: Record<Comparator, string> = {
  '>=': '<',
  '<=': '>',
  '>': '<=',
  '<': '>=',
  '==': '!=',
  '!=': '==',
};

function compare(a: number, op: Comparator, b: number): boolean {
  // NaN compares false whatever the operator (a diverged model never passes), != included.
  if (Number.isNaN(a) || Number.isNaN(b)) return false;
  switch (op) {
    case '>=':
      return a >= b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '<':
      return a < b;
    case '==':
      return a === b;
    case '!=':
      return a !== b;
  }
}

const num = (v: number): string => (Number.isInteger(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v.toFixed(4));

/** The expression with its metrics' values: `champion.f1_macro=0.9500 - 0.005 = 0.9450`. */
function describe(e: Expr, value: (e: Expr) => number): string {
  const inner = (x: Expr): string => {
    if (x.kind === 'number') return String(x.value);
    if (x.kind === 'metric') return `${x.champion ? 'champion.' : ''}${x.name}=${num(value(x))}`;
    if (x.kind === 'neg') return `-${inner(x.arg)}`;
    return `${inner(x.left)} ${x.op} ${inner(x.right)}`;
  };
  return e.kind === 'binary' || e.kind === 'neg' ? `${inner(e)} = ${num(value(e))}` : inner(e);
}
