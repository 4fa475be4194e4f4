import { labelName, type Label } from './labels.js';
import type { ClassificationReport, ReportRow } from './report.js';
import { invalidArgument } from './validate.js';

/** Python's len(): code points, not UTF-16 units. */
function textWidth(s: string): number {
  return [...s].length;
}

function padLeft(s: string, width: number): string {
  const w = textWidth(s);
  return w >= width ? s : ' '.repeat(width - w) + s;
}

function padRight(s: string, width: number): string {
  const w = textWidth(s);
  return w >= width ? s : s + ' '.repeat(width - w);
}

/**
 * Python's format(x, '.{digits}f'). JS toFixed breaks exact decimal ties upwards, Python to the even digit;
 * both round the exact binary value otherwise.
 */
export function pyFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const negative = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let s: string;
  if (a >= 1e21) {
    s = BigInt(a).toString() + (digits > 0 ? `.${'0'.repeat(digits)}` : '');
  } else {
    s = a.toFixed(digits);
    const exact = a.toFixed(Math.min(100, digits + 60));
    const point = exact.indexOf('.');
    const tail = exact.slice(point + 1 + digits);
    if (/^50*$/.test(tail)) {
      const truncated = exact.slice(0, digits > 0 ? point + 1 + digits : point);
      const lastDigit = Number(truncated[truncated.length - 1]);
      if (lastDigit % 2 === 0) s = truncated;
    }
  }
  return negative ? `-${s}` : s;
}

/** Python's repr() of a float (shortest round-trip digits, '.0' on integers, exponent outside [1e-4, 1e16)). */
export function pyRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const negative = x < 0 || Object.is(x, -0);
  const [mantissa, expText] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  let body: string;
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
      const frac = digits.slice(exp + 1);
      body = `${intPart}.${frac === '' ? '0' : frac}`;
    } else {
      body = `0.${'0'.repeat(-exp - 1)}${digits}`;
    }
  } else {
    const rest = digits.slice(1);
    const e = Math.abs(exp).toString().padStart(2, '0');
    body = `${digits[0]}${rest ? `.${rest}` : ''}e${exp < 0 ? '-' : '+'}${e}`;
  }
  return negative ? `-${body}` : body;
}

/** Text table laid out exactly like scikit-learn's classification_report. */
export function formatClassificationReport(
  report: ClassificationReport,
  digits: number = report.digits,
): string {
  if (!Number.isInteger(digits) || digits < 0) {
    throw invalidArgument('formatClassificationReport', 'digits', `expected an integer >= 0, got ${digits}`);
  }
  const heading = 'weighted avg';
  const width = Math.max(...report.classes.map((c) => textWidth(c.name)), heading.length, digits);
  const support = (s: number): string => (report.supportAsFloat ? pyRepr(s) : String(s));
  const num = (v: number): string => ` ${padLeft(pyFixed(v, digits), 9)}`;
  const row = (name: string, r: ReportRow): string =>
    `${padLeft(name, width)} ${num(r.precision)}${num(r.recall)}${num(r.f1Score)} ${padLeft(support(r.support), 9)}\n`;
  const headers = ['precision', 'recall', 'f1-score', 'support'];
  let out = `${' '.repeat(width)} ${headers.map((h) => ` ${padLeft(h, 9)}`).join('')}\n\n`;
  for (const c of report.classes) out += row(c.name, c);
  out += '\n';
  if (report.accuracy !== undefined) {
    const blank = ` ${' '.repeat(9)}`;
    out += `${padLeft('accuracy', width)} ${blank}${blank}${num(report.accuracy)} ${padLeft(support(report.macroAvg.support), 9)}\n`;
  } else if (report.microAvg) {
    out += row('micro avg', report.microAvg);
  }
  out += row('macro avg', report.macroAvg);
  out += row('weighted avg', report.weightedAvg);
  return out;
}

export interface FormatConfusionMatrixOptions {
  /** Decimal places for non-integer cells (normalized matrices). Default 2. */
  digits?: number;
}

/** Aligned text of a confusion matrix: rows are true labels, columns predicted labels. */
export function formatConfusionMatrix(
  matrix: readonly (readonly number[])[],
  labels: readonly Label[],
  options: FormatConfusionMatrixOptions = {},
): string {
  const fn = 'formatConfusionMatrix';
  const digits = options.digits ?? 2;
  if (!Number.isInteger(digits) || digits < 0) {
    throw invalidArgument(fn, 'options.digits', `expected an integer >= 0, got ${digits}`);
  }
  if (matrix.length !== labels.length) {
    throw invalidArgument(
      fn,
      'matrix',
      `expected ${labels.length} rows (one per label), got ${matrix.length}`,
    );
  }
  matrix.forEach((r, i) => {
    if (r.length !== labels.length) {
      throw invalidArgument(
        fn,
        `matrix[${i}]`,
        `expected ${labels.length} columns (one per label), got ${r.length}`,
      );
    }
  });
  const integral = matrix.every((r) => r.every((v) => Number.isInteger(v)));
  const cell = (v: number): string => (integral ? String(v) : pyFixed(v, digits));
  const names = labels.map(labelName);
  const corner = 'true \\ pred';
  const firstWidth = Math.max(textWidth(corner), ...names.map(textWidth));
  const cells = matrix.map((r) => r.map(cell));
  const colWidth = Math.max(...names.map(textWidth), ...cells.flat().map(textWidth));
  const line = (first: string, rest: string[]): string =>
    `${padRight(first, firstWidth)}  ${rest.map((s) => padLeft(s, colWidth)).join('  ')}`.trimEnd();
  return [line(corner, names), ...cells.map((r, i) => line(names[i] as string, r))].join('\n') + '\n';
}
