import { invalidArgument } from './validate.js';

/** A class label: numbers must be integers (scikit-learn treats other floats as continuous targets). */
export type Label = number | string;

type LabelKind = 'number' | 'string';

/** Code-point order, as Python and numpy sort strings (JS `<` compares UTF-16 units). */
function compareStrings(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(j) as number;
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  return Math.sign(a.length - i - (b.length - j));
}

/** Numbers numerically, strings by code point; callers never mix the two kinds. */
export function compareLabels(a: Label, b: Label): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return compareStrings(String(a), String(b));
}

export function sortLabels(labels: Iterable<Label>): Label[] {
  return [...labels].sort(compareLabels);
}

/** Sorted distinct values, like numpy.unique. */
export function uniqueSorted(values: Iterable<Label>): Label[] {
  return sortLabels(new Set(values));
}

/** How a label prints in messages and reports: Python's str() for the same value. */
export function labelName(label: Label): string {
  if (typeof label === 'string') return label;
  return Number.isSafeInteger(label) ? String(label) : BigInt(label).toString();
}

export function formatLabel(label: Label): string {
  return typeof label === 'string' ? `'${label}'` : labelName(label);
}

export function formatLabelList(labels: readonly Label[]): string {
  return `[${labels.map(formatLabel).join(', ')}]`;
}

function kindOf(label: Label): LabelKind {
  return typeof label === 'number' ? 'number' : 'string';
}

/**
 * Checks that every entry is a label of one kind. The first array checked fixes the kind that the
 * later ones (y_pred, the labels option, posLabel) must share, as scikit-learn refuses mixed types.
 */
export class LabelKindGuard {
  private kind: LabelKind | undefined;
  private kindSource = '';

  constructor(private readonly fn: string) {}

  array(name: string, values: readonly unknown[]): readonly Label[] {
    if (!Array.isArray(values)) {
      throw invalidArgument(this.fn, name, `expected an array of labels, got ${typeof values}`);
    }
    for (let i = 0; i < values.length; i++) this.one(`${name}[${i}]`, values[i]);
    return values as readonly Label[];
  }

  one(name: string, value: unknown): Label {
    if (typeof value === 'number') {
      if (!Number.isInteger(value)) {
        throw invalidArgument(
          this.fn,
          name,
          `numeric labels must be integers, got ${value} (continuous targets are not supported)`,
        );
      }
    } else if (typeof value !== 'string') {
      throw invalidArgument(this.fn, name, `expected a number or a string label, got ${describe(value)}`);
    }
    const kind = kindOf(value);
    if (this.kind === undefined) {
      this.kind = kind;
      this.kindSource = name;
    } else if (kind !== this.kind) {
      throw invalidArgument(
        this.fn,
        name,
        `mix of label types: ${formatLabel(value)} is a ${kind} but ${this.kindSource} is a ${this.kind}`,
      );
    }
    return value;
  }

  /** True when `label` has the kind of the labels seen so far (used before comparing posLabel). */
  matches(label: Label): boolean {
    return this.kind === undefined || kindOf(label) === this.kind;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/** Position of each label in a label list, for counting. */
export function indexOfLabels(labels: readonly Label[]): Map<Label, number> {
  const index = new Map<Label, number>();
  labels.forEach((label, i) => index.set(label, i));
  return index;
}

/** The `labels` option: same kind as the data and no repeats (a repeated label would be counted twice). */
export function checkLabelsOption(
  fn: string,
  guard: LabelKindGuard,
  labels: readonly Label[],
  path = 'options.labels',
): readonly Label[] {
  guard.array(path, labels);
  const seen = new Set<Label>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as Label;
    if (seen.has(label)) {
      throw invalidArgument(
        fn,
        `${path}[${i}]`,
        `labels must be unique, ${formatLabel(label)} appears twice`,
      );
    }
    seen.add(label);
  }
  return labels;
}
