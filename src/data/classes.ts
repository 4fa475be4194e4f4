const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Orders class labels: numerically when every label is a number (so '10' follows '9'),
 * otherwise by code point, which is stable across locales.
 */
export function sortClasses(labels: Iterable<string>): string[] {
  const distinct = [...new Set(labels)];
  if (distinct.length > 0 && distinct.every((l) => NUMBER.test(l))) {
    return distinct.sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));
  }
  return distinct.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Maps label texts to indices into `classes`; returns the first label not in the list, if any. */
export function indexLabels(
  labels: readonly string[],
  classes: readonly string[],
): { y: Int32Array; unknown?: { index: number; label: string } } {
  const lookup = new Map(classes.map((c, i) => [c, i]));
  const y = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as string;
    const k = lookup.get(label);
    if (k === undefined) return { y, unknown: { index: i, label } };
    y[i] = k;
  }
  return { y };
}
