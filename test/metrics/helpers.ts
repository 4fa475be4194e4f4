import { expect } from 'vitest';

/** Relative 1e-9 (absolute 1e-12 near zero); NaN equals NaN. */
export function expectClose(actual: unknown, expected: unknown, where: string): void {
  if (typeof expected === 'number') {
    expect(typeof actual, `${where}: type`).toBe('number');
    const a = actual as number;
    if (Number.isNaN(expected)) {
      expect(Number.isNaN(a), `${where}: expected NaN, got ${a}`).toBe(true);
      return;
    }
    if (!Number.isFinite(expected)) {
      expect(a, where).toBe(expected);
      return;
    }
    const tol = 1e-9 * Math.max(Math.abs(a), Math.abs(expected)) + 1e-12;
    expect(Math.abs(a - expected) <= tol, `${where}: expected ${expected}, got ${a}`).toBe(true);
    return;
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${where}: expected an array, got ${JSON.stringify(actual)}`).toBe(true);
    const a = actual as unknown[];
    expect(a.length, `${where}: length`).toBe(expected.length);
    expected.forEach((e, i) => expectClose(a[i], e, `${where}[${i}]`));
    return;
  }
  expect(actual, where).toEqual(expected);
}
