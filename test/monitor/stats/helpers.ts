import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

/** JSON numbers as the fixture generators write them: non-finite values as strings. */
export type Num = number | 'NaN' | 'Infinity' | '-Infinity';

export function num(v: Num): number {
  return typeof v === 'number' ? v : Number(v);
}

export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(__dirname, '..', '..', 'fixtures', 'drift', name), 'utf8')) as T;
}

/**
 * |actual - expected| <= rel * |expected|, or <= abs when given (for values that are sums of rounding-level
 * terms, and for subnormal tails no two implementations round alike).
 */
export function expectClose(actual: number, expectedRaw: Num, rel: number, abs = 0, what = ''): void {
  const expected = num(expectedRaw);
  if (!Number.isFinite(expected)) {
    expect(actual, what).toBe(expected);
    return;
  }
  const err = Math.abs(actual - expected);
  const ok = err <= rel * Math.abs(expected) || err <= abs;
  expect(ok, `${what}: got ${actual}, expected ${expected} (rel ${rel}, abs ${abs}, error ${err})`).toBe(
    true,
  );
}
